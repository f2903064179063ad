"""Elimination slips (bordereaux d'élimination) and the archives director's visa.

A slip gathers the due items of one organisation whose fate needs a visa (destruction), with
the fields archives services expect: service versant, description (dataset, versions, rows),
dates extrêmes, volume (rows, bytes), the retention rule (DUA) and its legal reference, and
the fate. It is printable (HTML page) and downloadable as a spreadsheet (XLSX). The visa
(who, when, reference), or its refusal, is recorded; apply destroys only visa'd items, and
each executed item keeps what was destroyed (rows, files and their bytes).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import permissions as perms
from patrimoine.access import registers
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Conflict, Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Organisation
from patrimoine.retention.models import (
    EliminationSlip,
    EliminationSlipItem,
    SlipStatus,
)
from patrimoine.retention.planner import build_plan
from patrimoine.retention.rules import FinalFate

SLIPS = registers.Register(
    entity=EliminationSlip, audit="retention",
    readers=perms.retention_viewable_organisations,
    reading="consulter la conservation des données",
    not_found="Le bordereau {id} n'existe pas.", numbering=registers.Numbering("BE", 3))


def create_slip(session: Session, settings: Settings, principal: Principal,
                organisation_id: int, keys: list[str] | None = None,
                today: date | None = None) -> EliminationSlip:
    """A slip of every due item of the organisation needing a visa and not yet proposed."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("Organisation inconnue.")
    perms.require_manage_retention(principal, organisation_id)
    plan = build_plan(session, settings, [organisation_id], today)
    wanted = [i for i in plan.items if i.needs_visa and i.slip is None
              and (keys is None or i.key in keys)]
    items = [i for i in wanted if not i.held]
    if not items:
        raise Conflict("Aucune élimination à proposer : rien d'échu n'attend de bordereau"
                       + (" (les données échues sont sous gel juridique)." if wanted else "."))
    services = {i.service for i in items}
    service = services.pop() if len(services) == 1 else organisation.name
    slip = EliminationSlip(
        organisation_id=organisation_id,
        reference=registers.next_reference(session, SLIPS, organisation_id, now().year),
        service=service, created_by=principal.label, status=SlipStatus.AWAITING_VISA,
        archives_service=settings.archives_service.strip() or None,
        # Due data kept off the slip by a legal hold: the archives see what is withheld.
        holds=[{"dataset": i.dataset_title, "description": i.reason, "held": i.held}
               for i in wanted if i.held])
    for i in items:
        versions = ", ".join(str(n) for n in i.versions)
        what = ("lignes échues" if i.action == "purge_rows" else "versions")
        slip.items.append(EliminationSlipItem(
            item_key=i.key, dataset_id=i.dataset_id, service=i.service,
            description=f"{i.dataset_title} — {what} ({versions})",
            date_start=i.date_start, date_end=i.date_end, rows=i.rows,
            size_bytes=i.size_bytes, rule=i.rule, legal_reference=i.legal_reference,
            fate=i.fate, target={"action": i.action, **i.target}))
    session.add(slip)
    session.flush()
    registers.record(session, principal, SLIPS, slip, "slip_created",
                     items=[i.key for i in items])
    return slip


def get_slip(session: Session, principal: Principal, slip_id: int) -> EliminationSlip:
    slip: EliminationSlip = registers.get(session, SLIPS, principal, slip_id)
    return slip


def list_slips(session: Session, principal: Principal) -> list[EliminationSlip]:
    return list(session.scalars(select(EliminationSlip)
                                .where(registers.visible(SLIPS, principal))
                                .order_by(EliminationSlip.id.desc())))


def record_visa(session: Session, principal: Principal, slip_id: int, *, by: str,
                reference: str, at: datetime | None = None, refused: bool = False,
                reason: str | None = None) -> EliminationSlip:
    """Record the archives director's visa (or refusal) on the slip."""
    slip = get_slip(session, principal, slip_id)
    perms.require_manage_retention(principal, slip.organisation_id)
    by, reference = " ".join((by or "").split()), " ".join((reference or "").split())
    errors = []
    if not by:
        errors.append("Indiquez qui a visé le bordereau (le directeur des archives).")
    if not reference:
        errors.append("Indiquez la référence du visa.")
    if len(by) > 300 or len(reference) > 200:
        errors.append("Nom ou référence trop long.")
    if refused and not (reason or "").strip():
        errors.append("Indiquez le motif du refus de visa.")
    if at is not None and at > now():
        errors.append("La date du visa ne peut pas être dans le futur.")
    if errors:
        raise Invalid("Visa non enregistré.", errors=errors)
    if slip.status != SlipStatus.AWAITING_VISA:
        raise Conflict(f"Le bordereau {slip.reference} n'attend pas de visa "
                       f"({label(slip.status).lower()}).")
    slip.visa_by, slip.visa_reference = by, reference
    slip.visa_at = at or now()
    slip.visa_recorded_by = principal.label
    slip.status = SlipStatus.REFUSED if refused else SlipStatus.APPROVED
    slip.refusal_reason = (reason or "").strip() or None
    session.flush()
    registers.record(session, principal, SLIPS, slip,
                     "visa_refused" if refused else "visa_recorded", visa_by=by,
                     visa_reference=reference, visa_at=slip.visa_at.isoformat())
    return slip


# What every slip of this application eliminates, and how (the slip states both).
MEDIUM = "Électronique : données tabulaires (fichiers Parquet) et leurs copies dérivées"
DESTRUCTION_METHOD = ("Effacement des fichiers de données et de toutes leurs copies dérivées "
                      "(fichier d'origine, caches, index, exports), consigné au journal "
                      "d'audit avec le nombre de fichiers et d'octets détruits")


def slip_json(slip: EliminationSlip) -> dict[str, Any]:
    return {
        "id": slip.id, "reference": slip.reference, "organisation_id": slip.organisation_id,
        "status": slip.status.value, "status_label": label(slip.status),
        "service": slip.service, "created_at": slip.created_at.isoformat(),
        "created_by": slip.created_by, "visa_by": slip.visa_by,
        "visa_at": slip.visa_at.isoformat() if slip.visa_at else None,
        "visa_reference": slip.visa_reference, "visa_recorded_by": slip.visa_recorded_by,
        "refusal_reason": slip.refusal_reason,
        "executed_at": slip.executed_at.isoformat() if slip.executed_at else None,
        "holds": list(slip.holds or []),
        "archives_service": slip.archives_service, "medium": MEDIUM,
        "destruction_method": DESTRUCTION_METHOD,
        "items": [{
            "key": i.item_key, "service": i.service, "description": i.description,
            "date_start": i.date_start.isoformat() if i.date_start else None,
            "date_end": i.date_end.isoformat() if i.date_end else None,
            "rows": i.rows, "size_bytes": i.size_bytes, "rule": i.rule,
            "legal_reference": i.legal_reference, "fate": i.fate,
            "fate_label": label(FinalFate(i.fate)),
            "executed_at": i.executed_at.isoformat() if i.executed_at else None,
            "destroyed": i.destroyed,
        } for i in slip.items],
    }


COLUMNS = ("Service versant", "Description", "Date de début", "Date de fin",
           "Volume (lignes)", "Volume (octets)", "Règle de conservation (DUA)",
           "Référence réglementaire", "Sort final", "Détruit")


def destroyed_text(destroyed: dict[str, Any] | None) -> str:
    """What an executed item destroyed, in words ("" before its execution)."""
    if not destroyed:
        return ""
    return (f"{destroyed['rows']} ligne(s) ; {destroyed['files']} fichier(s), "
            f"{destroyed['bytes']} octets")


def slip_rows(slip: EliminationSlip) -> list[list[Any]]:
    return [[i.service, i.description, i.date_start, i.date_end, i.rows, i.size_bytes, i.rule,
             i.legal_reference or "", label(FinalFate(i.fate)), destroyed_text(i.destroyed)]
            for i in slip.items]


def slip_xlsx(slip: EliminationSlip, organisation: Organisation) -> bytes:
    out = io.BytesIO()
    # A dataset title starting with "=" is text, never a formula.
    book = xlsxwriter.Workbook(out, {"in_memory": True, "remove_timezone": True,
                                     "strings_to_formulas": False})
    sheet = book.add_worksheet("Bordereau")
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1, "text_wrap": True})
    day = book.add_format({"num_format": "dd/mm/yyyy", "border": 1})
    cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    sheet.write(0, 0, f"Bordereau d'élimination {slip.reference}", bold)
    sheet.write(1, 0, f"Organisme : {organisation.name}")
    sheet.write(2, 0, f"Service versant : {slip.service}")
    sheet.write(3, 0, f"Établi le {slip.created_at.strftime('%d/%m/%Y')} par {slip.created_by}"
                + (f", adressé à : {slip.archives_service}" if slip.archives_service else ""))
    visa = (f"Visa : {slip.visa_by}, le {slip.visa_at.strftime('%d/%m/%Y')}, "
            f"référence {slip.visa_reference}" if slip.visa_at else
            "Visa du directeur des archives (article R212-14 du Code du patrimoine) : "
            "en attente")
    sheet.write(4, 0, visa)
    for c, title in enumerate(COLUMNS):
        sheet.write(6, c, title, head)
    for r, row in enumerate(slip_rows(slip), start=7):
        for c, value in enumerate(row):
            if c in (2, 3) and value is not None:
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            elif value is None:
                sheet.write_blank(r, c, None, cell)
            else:
                sheet.write(r, c, value, cell)
    below = 7 + len(slip.items) + 1
    sheet.write(below, 0, f"Support : {MEDIUM}")
    sheet.write(below + 1, 0, f"Mode de destruction : {DESTRUCTION_METHOD}")
    below += 3
    if slip.holds:
        sheet.write(below, 0, "Données échues retenues par un gel juridique (hors bordereau) :",
                    bold)
        for r, held in enumerate(slip.holds, start=below + 1):
            sheet.write(r, 0, held["dataset"])
            sheet.write(r, 1, held["held"])
    for c, width in enumerate((30, 50, 12, 12, 14, 14, 50, 30, 18, 30)):
        sheet.set_column(c, c, width)
    book.close()
    return out.getvalue()
