"""Back-office pages of what waits for the person: the to-do list, the notifications (read,
unread, opened), and the choice of e-mails per kind of notification; and the one-click
unsubscribe link of the e-mails (no login: the link's signature is the authority)."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.notifications import service as notifications
from patrimoine.notifications.models import DELIVERY_LABELS, KIND_LABELS, Delivery, Kind
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash, render
from patrimoine.worklist import service as worklist

router = APIRouter(include_in_schema=False)


def grouped(items: list[worklist.Item]) -> list[tuple[str, list[worklist.Item]]]:
    """Items by category, in the order they come (urgent first)."""
    order = list(dict.fromkeys(i.category for i in items))
    ordered = sorted(items, key=lambda i: order.index(i.category))
    return [(c, list(g)) for c, g in groupby(ordered, key=lambda i: i.category)]


@router.get("/admin/a-faire")
def todo(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    return page(request, "admin/todo.html", "a-faire", {
        "groups": grouped(worklist.items(session, principal)),
    })


@router.get("/admin/notifications")
def notification_list(request: Request, session: SessionDep,
                      principal: LoggedInDep) -> Response:
    assert principal.account_id is not None
    return page(request, "admin/notifications.html", "notifications", {
        "notes": notifications.list_notifications(session, principal.account_id),
        "kind_labels": {k.value: v for k, v in KIND_LABELS.items()},
    })


@router.post("/admin/notifications/lues")
def mark_all_read(request: Request, session: SessionDep, principal: LoggedInDep,
                  posted: FormDep) -> Response:
    assert principal.account_id is not None
    done = notifications.mark_read(session, principal.account_id)
    flash(request, f"{done} notification(s) marquée(s) comme lue(s)." if done
          else "Aucune notification non lue.")
    return RedirectResponse("/admin/notifications", status_code=303)


@router.post("/admin/notifications/{notification_id}/ouvrir")
def open_notification(notification_id: DbInt, request: Request, session: SessionDep,
                      principal: LoggedInDep, posted: FormDep) -> Response:
    """Mark the notification read and go to the page where the thing is done."""
    assert principal.account_id is not None
    note = notifications.get_notification(session, principal.account_id, notification_id)
    if note is None:
        raise NotFound("Cette notification n'existe pas ou ne vous est pas adressée.")
    notifications.mark_read(session, principal.account_id, [note.id])
    # Links are paths written by Patrimoine; anything else goes back to the list.
    target = note.link if note.link.startswith("/admin") else "/admin/notifications"
    return RedirectResponse(target, status_code=303)


def _preferences_page(request: Request, session: SessionDep, principal: LoggedInDep,
                      error: str | None = None, status: int = 200) -> Response:
    assert principal.account_id is not None
    return page(request, "admin/notification_preferences.html", "notifications", {
        "chosen": notifications.preferences(session, principal.account_id),
        "kinds": list(Kind), "kind_labels": KIND_LABELS,
        "deliveries": list(Delivery), "delivery_labels": DELIVERY_LABELS,
        "error": error,
        "breadcrumb": [("/admin/notifications", "Notifications"), (None, "Courriels")],
    }, status=status)


@router.get("/admin/notifications/preferences")
def preferences_form(request: Request, session: SessionDep,
                     principal: LoggedInDep) -> Response:
    return _preferences_page(request, session, principal)


@router.post("/admin/notifications/preferences")
def save_preferences(request: Request, session: SessionDep, principal: LoggedInDep,
                     posted: FormDep) -> Response:
    assert principal.account_id is not None
    chosen = {k.value: str(posted.get(f"kind:{k.value}", "") or "") for k in Kind
              if posted.get(f"kind:{k.value}")}
    try:
        notifications.set_preferences(session, principal.account_id, chosen)
    except Invalid as exc:
        return _preferences_page(request, session, principal, exc.message, status=422)
    flash(request, "Vos choix de courriels sont enregistrés.")
    return RedirectResponse("/admin/notifications/preferences", status_code=303)


UNSUBSCRIBE = "/notifications/desabonnement"


@router.get(UNSUBSCRIBE)
def unsubscribe_form(request: Request, compte: DbInt, sorte: Annotated[str, Query(max_length=40)],
                     cle: Annotated[str, Query(max_length=64)]) -> Response:
    """Asks for a click: links in e-mails are fetched by scanners, which must not unsubscribe."""
    label = KIND_LABELS.get(Kind(sorte)) if sorte in {k.value for k in Kind} else None
    return render(request, "notification_unsubscribe.html", {
        "compte": compte, "sorte": sorte, "cle": cle, "label": label, "done": False})


@router.post(UNSUBSCRIBE)
def unsubscribe(request: Request, session: SessionDep, compte: DbInt,
                sorte: Annotated[str, Query(max_length=40)],
                cle: Annotated[str, Query(max_length=64)]) -> Response:
    """One click (RFC 8058: mail clients post here with List-Unsubscribe=One-Click)."""
    secret = services(request).settings.resolved_secret_key()
    kind = notifications.unsubscribe(session, secret, compte, sorte, cle)
    return render(request, "notification_unsubscribe.html", {
        "done": True, "label": KIND_LABELS[kind] if kind else None})
