"""Protection of personal data: impact assessments, data subjects' requests, breaches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


def _fr(day: Any) -> str:
    return day.strftime("%d/%m/%Y")


@rule("protection.dpia", "Analyse d'impact des traitements à risque", "protection",
      "RGPD, article 35 ; liste de la CNIL", Severity.CRITICAL)
def dpia_done(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """A processing activity handling special categories of data (article 9), or monitoring
    people systematically or on a large scale, or meeting two of the CNIL's nine criteria,
    has an impact assessment with a favourable decision, or a recorded reason to be exempt.
    An ended activity is not judged."""
    for a in snapshot.activities:
        item, label, link = f"activity:{a.id}", f"Traitement {a.reference} « {a.name} »", \
            links.activity(a.id)
        needed = bool(a.special_categories) or a.monitoring or a.dpia_required
        if a.ended:
            yield not_applicable(item, label, a.organisation_id, "Traitement terminé.", link)
        elif not needed:
            yield not_applicable(item, label, a.organisation_id,
                                 "Ni données sensibles, ni surveillance à grande échelle, ni "
                                 "deux critères de la CNIL : pas d'analyse d'impact requise.",
                                 link)
        elif a.dpia == "favourable":
            yield passed(item, label, a.organisation_id,
                         "Analyse d'impact conduite, avis favorable.", link)
        elif a.dpia == "pending":
            yield failed(item, label, a.organisation_id,
                         "Analyse d'impact commencée mais non conclue.", link)
        elif a.dpia == "unfavourable":
            yield failed(item, label, a.organisation_id,
                         "Analyse d'impact défavorable : le traitement doit être revu.", link)
        elif a.dpia_exemption:
            yield passed(item, label, a.organisation_id,
                         f"Dispense d'analyse d'impact motivée : {a.dpia_exemption}", link)
        else:
            why = ("données de catégories particulières" if a.special_categories
                   else "surveillance systématique ou à grande échelle" if a.monitoring
                   else "deux critères de la CNIL ou plus")
            yield failed(item, label, a.organisation_id,
                         f"Analyse d'impact requise ({why}) mais absente.", link)


@rule("protection.requests_on_time", "Demandes d'exercice des droits traitées dans les délais",
      "protection", "RGPD, article 12.3 : un mois, prolongeable de deux mois", Severity.MAJOR,
      period_days=365)
def requests_on_time(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """Each rights request received within the period (`period_days`, a year by default) is
    answered by its deadline (one month, three when the person was told of an extension);
    a request still open must not be past it. Withdrawn requests are not judged."""
    since = snapshot.today - timedelta(days=params["period_days"])
    for r in snapshot.requests:
        item, label, link = f"request:{r.id}", f"Demande {r.reference}", links.request(r.id)
        if r.received_on < since:
            yield not_applicable(item, label, r.organisation_id,
                                 f"Reçue le {_fr(r.received_on)}, hors de la période.", link)
            continue
        if r.withdrawn:
            yield not_applicable(item, label, r.organisation_id, "Demande retirée.", link)
            continue
        deadline, closed = r.deadline, r.closed
        if closed and r.answered_on is not None and r.answered_on > deadline:
            yield failed(item, label, r.organisation_id,
                         f"Répondue le {_fr(r.answered_on)}, après l'échéance du "
                         f"{_fr(deadline)}.", link)
        elif closed:
            yield passed(item, label, r.organisation_id,
                         f"Traitée dans le délai (échéance le {_fr(deadline)}).", link)
        elif snapshot.today > deadline:
            yield failed(item, label, r.organisation_id,
                         f"Sans réponse, échéance dépassée depuis le {_fr(deadline)}.", link)
        else:
            yield passed(item, label, r.organisation_id,
                         f"En cours, dans le délai (échéance le {_fr(deadline)}).", link)


@rule("protection.breaches_notified", "Violations notifiées à la CNIL sous 72 heures",
      "protection", "RGPD, article 33", Severity.CRITICAL, period_days=365)
def breaches_notified(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """Each breach known within the period (`period_days`) that may put people at risk is
    notified to the CNIL within 72 hours of the authority becoming aware of it. A breach
    assessed unlikely to result in a risk needs no notification."""
    since = snapshot.at - timedelta(days=params["period_days"])
    for b in snapshot.breaches:
        item, label, link = f"breach:{b.id}", f"Violation {b.reference} « {b.title} »", \
            links.breach(b.id)
        deadline = b.deadline
        when = f"{deadline:%d/%m/%Y à %H:%M}"
        if b.aware_at < since:
            yield not_applicable(item, label, b.organisation_id,
                                 f"Connue le {_fr(b.aware_at)}, hors de la période.", link)
        elif b.notified_at is not None and b.notified_at <= deadline:
            yield passed(item, label, b.organisation_id,
                         f"Notifiée le {_fr(b.notified_at)}, dans les 72 heures.", link)
        elif b.notified_at is not None:
            late = " (motifs du retard consignés)" if b.late_notification_reasons else ""
            yield failed(item, label, b.organisation_id,
                         f"Notifiée le {_fr(b.notified_at)}, après l'échéance du {when}{late}.",
                         link)
        elif not b.to_notify:
            yield not_applicable(item, label, b.organisation_id,
                                 "Risque improbable pour les personnes : pas de notification.",
                                 link)
        elif snapshot.at > deadline:
            yield failed(item, label, b.organisation_id,
                         f"Non notifiée, échéance dépassée depuis le {when}.", link)
        else:
            yield passed(item, label, b.organisation_id,
                         f"Délai de notification en cours jusqu'au {when}.", link)
