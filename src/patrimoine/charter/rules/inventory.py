"""Knowing and governing the data: every inventory entry has an owner and a level of
confidentiality."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


@rule("inventory.owner_and_confidentiality",
      "Fiches d'inventaire avec un responsable et un niveau de confidentialité", "inventory",
      "Charte : gouvernance du patrimoine de données", Severity.WARNING)
def owner_and_confidentiality(snapshot: Snapshot, params: Mapping[str, Any]
                              ) -> Iterator[Result]:
    """Each inventory entry names who owns it (a producing service or a contact) and says
    whether it is confidential. Deleted data are not judged."""
    for d in snapshot.datasets:
        item, label, link = f"dataset:{d.id}", f"Jeu « {d.title} »", links.dataset(d.slug)
        if d.deleted:
            yield not_applicable(item, label, d.organisation_id, "Données supprimées.", link)
            continue
        owner = d.producer or d.contact_name or d.contact_email
        missing = ([] if owner else ["responsable"]) + (
            ["niveau de confidentialité"] if d.confidential is None else [])
        if missing:
            yield failed(item, label, d.organisation_id,
                         "Non renseigné : " + " et ".join(missing) + ".", link)
        else:
            level = "confidentiel" if d.confidential else "non confidentiel"
            yield passed(item, label, d.organisation_id, f"Responsable : {owner} ; {level}.",
                         link)
