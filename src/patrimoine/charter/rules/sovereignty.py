"""Sovereignty: applications hosted as the strategy allows, contracts that carry the
charter's clauses and a tested reversibility, partners whose signature is valid."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


@rule("sovereignty.hosting_strategy", "Applications hébergées comme la stratégie le permet",
      "sovereignty", "Charte : stratégie d'hébergement selon la sensibilité des données",
      Severity.MAJOR)
def hosting_strategy(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """An application in service is hosted in a mode and a place its data's sensitivity
    level allows, by a host holding the certifications that level requires. Retired
    applications, and those whose sensitivity is not classified, are not judged."""
    for a in snapshot.applications:
        item, label, link = f"application:{a.id}", f"Application {a.reference} « {a.name} »", \
            links.application(a.id)
        if a.retired:
            yield not_applicable(item, label, a.organisation_id, "Application retirée.", link)
            continue
        if a.sensitivity is None:
            yield not_applicable(item, label, a.organisation_id,
                                 "Sensibilité des données non classée.", link)
            continue
        level = snapshot.levels.get(a.organisation_id, {}).get(a.sensitivity)
        if level is None:
            yield failed(item, label, a.organisation_id,
                         f"Niveau de sensibilité « {a.sensitivity} » absent de la stratégie.",
                         link)
            continue
        why = a.breaches(level)
        if why:
            text = "; ".join(why)
            yield failed(item, label, a.organisation_id, text[0].upper() + text[1:] + ".", link)
        else:
            yield passed(item, label, a.organisation_id,
                         f"Hébergement conforme au niveau « {level.label} ».", link)


@rule("sovereignty.processor_clauses", "Contrats de sous-traitance porteurs des clauses de la "
      "charte", "sovereignty", "RGPD, article 28 ; charte annexée aux contrats",
      Severity.MAJOR)
def processor_clauses(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """A running contract whose supplier processes data on the authority's behalf holds each
    clause of the organisation's set (present, negotiated, or recorded as not applicable)."""
    for c in snapshot.contracts:
        item, label, link = f"contract:{c.id}", f"Contrat {c.reference} « {c.title} »", \
            links.contract(c.id)
        if not c.processor:
            yield not_applicable(item, label, c.organisation_id,
                                 "Le titulaire n'est pas sous-traitant.", link)
            continue
        if c.end_date is not None and c.end_date < snapshot.today:
            yield not_applicable(item, label, c.organisation_id,
                                 f"Contrat terminé le {c.end_date:%d/%m/%Y}.", link)
            continue
        clauses = snapshot.clauses.get(c.organisation_id, ())
        missing = [k.title for k in clauses if not c.holds(k.code)]
        if missing:
            yield failed(item, label, c.organisation_id,
                         f"{len(missing)} clause(s) absente(s) ou non vérifiée(s) : "
                         + ", ".join(missing) + ".", link)
        else:
            yield passed(item, label, c.organisation_id,
                         f"Les {len(clauses)} clauses de la charte y figurent.", link)


@rule("sovereignty.reversibility_tested",
      "Contrats arrivant à échéance avec une réversibilité testée", "sovereignty",
      "Charte : clause de réversibilité", Severity.MAJOR, months=12)
def reversibility_tested(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """A contract ending within `months` (twelve by default) has had its reversibility
    tested successfully: the data came back, in open formats. Contracts ending later, ended
    ones, and those where reversibility is recorded as not applicable are not judged."""
    for c in snapshot.contracts:
        item, label, link = f"contract:{c.id}", f"Contrat {c.reference} « {c.title} »", \
            links.contract(c.id)
        codes = [k.code for k in snapshot.clauses.get(c.organisation_id, ()) if k.reversibility]
        if c.end_date is not None and c.end_date < snapshot.today:
            yield not_applicable(item, label, c.organisation_id,
                                 f"Contrat terminé le {c.end_date:%d/%m/%Y}.", link)
        elif c.end_date is None or not c.ends_within(snapshot.today, params["months"]):
            yield not_applicable(item, label, c.organisation_id,
                                 "Pas d'échéance dans l'horizon de surveillance.", link)
        elif codes and all(c.exempt(k) for k in codes):
            yield not_applicable(item, label, c.organisation_id,
                                 "Réversibilité sans objet pour ce contrat.", link)
        elif not c.tests:
            yield failed(item, label, c.organisation_id,
                         f"Échéance le {c.end_date:%d/%m/%Y} et aucun test de réversibilité.",
                         link)
        elif word := c.last_test_failure():
            yield failed(item, label, c.organisation_id,
                         f"Dernier test de réversibilité {word} ({c.tests[-1][0]:%d/%m/%Y}), "
                         f"échéance le {c.end_date:%d/%m/%Y}.", link)
        else:
            yield passed(item, label, c.organisation_id,
                         f"Réversibilité testée avec succès le {c.tests[-1][0]:%d/%m/%Y}.",
                         link)


@rule("sovereignty.partner_signatures", "Signatures des partenaires de la charte en cours de "
      "validité", "sovereignty", "Charte : engagement des partenaires", Severity.WARNING,
      validity_years=3)
def partner_signatures(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """A partner's signature runs until its renewal date, or `validity_years` after it was
    signed when no renewal date is set; past it, the partner must sign again."""
    slugs = snapshot.organisation_slugs
    for p in snapshot.partners:
        item, label = f"partner:{p.id}", f"Partenaire « {p.name} »"
        link = links.partners(slugs.get(p.organisation_id))
        end = p.valid_until(params["validity_years"])
        if p.signed_on > snapshot.today:
            yield not_applicable(item, label, p.organisation_id,
                                 f"Signature prévue le {p.signed_on:%d/%m/%Y}.", link)
        elif end < snapshot.today:
            yield failed(item, label, p.organisation_id,
                         f"Signature expirée depuis le {end:%d/%m/%Y}.", link)
        else:
            yield passed(item, label, p.organisation_id,
                         f"Signature valable jusqu'au {end:%d/%m/%Y}.", link)
