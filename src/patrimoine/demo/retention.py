"""Demo content of retention: rules on some published datasets and one elimination slip
waiting for the archives director's visa.

- the park-and-ride occupancy (hourly rows) is kept two years row by row, then destroyed:
  the rows older than two years are due, so a slip is produced and waits for its visa;
- the bicycle counts go to the archives ten years after each version's creation;
- the associations' subsidies go to the archives ten years after each agreement's date.

Its step is listed in demo/loader.py.
"""

from __future__ import annotations

from sqlalchemy import select

from patrimoine.core.errors import Conflict
from patrimoine.demo.territory import METROPOLE, DemoContext
from patrimoine.inventory.models import Dataset
from patrimoine.retention import service as rules
from patrimoine.retention import slips

RULES: tuple[tuple[str, dict[str, object]], ...] = (
    ("parkings-relais-occupation", {
        "duration": 2, "unit": "years", "start_event": "date_column",
        "date_column": "date_heure", "final_fate": "destruction",
        "legal_reference": "Tableau de gestion des services mobilité, délibération 2023-114"}),
    ("comptages-velo", {
        "duration": 10, "unit": "years", "start_event": "created", "final_fate": "archives",
        "legal_reference": "Instruction DPACI/RES/2009/018"}),
    ("subventions-associations", {
        "duration": 10, "unit": "years", "start_event": "date_column",
        "date_column": "dateConvention", "final_fate": "archives",
        "legal_reference": "Instruction DPACI/RES/2009/018 (subventions)"}),
)


def build_retention(ctx: DemoContext) -> None:
    if ctx.settings is None:
        return
    found = 0
    for slug, rule in RULES:
        dataset = ctx.session.scalar(select(Dataset).where(Dataset.slug == slug))
        if dataset is None:
            continue
        rules.set_rule(ctx.session, ctx.principal, dataset, dict(rule))
        found += 1
    if found:
        metropole = ctx.organisations[METROPOLE]
        try:
            slips.create_slip(ctx.session, ctx.settings, ctx.principal, metropole.id)
        except Conflict:  # nothing due yet on the day the demo is loaded
            pass
