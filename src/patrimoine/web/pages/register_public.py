"""The public summary of an organisation's GDPR register, when the authority publishes one.

An organisation publishes its register by marking activities "public" (the register's
keepers decide, entry by entry, as in Madis); the page shows those entries only, with what
a data subject needs (Art. 13/14): purposes, legal basis, categories of persons and data,
recipients, transfers, retention, the DPO's contact and how to exercise one's rights. No
page exists while nothing is published.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patrimoine.core.errors import NotFound
from patrimoine.core.vocabulary import label
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.service import describe_retention, public_activities
from patrimoine.protection.register.vocabulary import (
    DataCategory,
    RecipientKind,
    SpecialCategory,
    TransferSafeguard,
)
from patrimoine.protection.rights_requests import COMPLAINT_MENTION
from patrimoine.web.deps import SessionDep
from patrimoine.web.templating import render

router = APIRouter(include_in_schema=False)


def public_entry(activity: ProcessingActivity) -> dict[str, Any]:
    return {
        "reference": activity.reference, "name": activity.name, "purpose": activity.purpose,
        "sub_purposes": list(activity.sub_purposes),
        "basis": label(activity.legal_basis) if activity.legal_basis else None,
        "basis_details": activity.legal_basis_details,
        "subjects": list(activity.data_subjects),
        "categories": [label(DataCategory(c["category"])) for c in activity.data_categories],
        "special": [label(SpecialCategory(c)) for c in activity.special_categories],
        "recipients": sorted({r["name"] if r["kind"] != RecipientKind.PROCESSOR.value
                              else "Sous-traitants" for r in activity.recipients}),
        "transfers": [f"{t['country']} ({label(TransferSafeguard(t['safeguard'])).lower()})"
                      for t in activity.transfers],
        "retention": [(label(DataCategory(r["data_category"])) if r.get("data_category")
                       else "Toutes les données") + " : "
                      + describe_retention(r)
                      for r in activity.retention_rules],
        "dpo": activity.dpo_contact,
    }


@router.get("/organisations/{slug}/registre-rgpd")
def public_register(slug: str, request: Request, session: SessionDep) -> Response:
    org = get_organisation_by_slug(session, slug)
    activities = public_activities(session, org.id)
    if not activities:
        raise NotFound(f"{org.name} ne publie pas de registre des traitements.")
    entries = [public_entry(a) for a in activities]
    contacts = sorted({e["dpo"] for e in entries if e["dpo"]})
    return render(request, "portal/register.html", {
        "section": "organisations", "org": org, "entries": entries, "contacts": contacts,
        "complaint": COMPLAINT_MENTION})
