"""The demo inventory: several hundred entries whose mix follows the Troyes audit.

The audit's 653 tables are scaled down (SCALE) and kept per organisation and direction; the
themes of each direction are fitted (iterative proportional fitting) so that the theme totals
match the audit too; source, confidentiality and sharing get the audit's exact proportions,
given preferably to the entries whose theme makes them likely. The audit's 91 tables shared
by the ville and the métropole belong to the métropole's services communs and carry the
keyword "service commun". Member communes, which the audit did not cover, add a few entries
each.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from patrimoine.core.vocabulary import label
from patrimoine.demo import vocabulary as v
from patrimoine.demo.territory import CCAS, COMMUNES, METROPOLE, SPECS, VILLE, DemoContext
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import (
    AccessLevel,
    LifecycleStage,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)
from patrimoine.inventory.service import DatasetInput

SCALE = 0.75
TROYES_TOTAL = 653
SERVICE_COMMUN = "service commun"
LICENCES = ("etalab-2.0", "ODbL-1.0")
_COSTS = (450, 900, 1200, 1800, 2400, 3600, 4800, 7500, 12000, 18000, 35000)


@dataclass
class Entry:
    org_key: str
    direction: v.Direction
    theme: v.Theme
    title: str = ""
    subject_personal: bool = False
    producers: tuple[str, ...] = ()
    source: Source = Source.INTERNAL
    confidentiality: YesNoUndefined = YesNoUndefined.NO
    sharing: YesNoUndefined = YesNoUndefined.YES


def largest_remainder(weights: list[float], total: int) -> list[int]:
    """Integers proportional to `weights` that add up to `total` exactly."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    exact = [w * total / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def fit_themes(rows: list[v.Direction], scale: float) -> list[dict[str, int]]:
    """For each direction, how many entries of each theme: the row totals are the audit's
    direction counts and the column totals approach its theme counts."""
    themes = list(v.THEMES)
    row_targets = largest_remainder([r.count for r in rows], round(TROYES_TOTAL * scale))
    col_targets = [v.THEMES[t].troyes_count * scale for t in themes]
    matrix = [[r.themes.get(t, 0.0) for t in themes] for r in rows]
    for _ in range(100):
        for i, target in enumerate(row_targets):
            total = sum(matrix[i])
            matrix[i] = [x * target / total for x in matrix[i]]
        for j, col_target in enumerate(col_targets):
            total = sum(row[j] for row in matrix)
            if total > 0:
                for row in matrix:
                    row[j] *= col_target / total
    return [
        {t: n for t, n in zip(themes, largest_remainder(row, target), strict=True) if n}
        for row, target in zip(matrix, row_targets, strict=True)
    ]


def _weighted(rng: random.Random, weights: dict[UpdateFrequency, int]) -> UpdateFrequency:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _clashes(opening: str, subject: str, qualifier: str) -> bool:
    """A qualifier that would repeat or contradict the rest of the title."""
    if qualifier.startswith(" ("):
        return subject.endswith(")")
    word = qualifier.split()[-1]
    return (" par " in subject or word.rstrip("s")[:6] in subject
            or (word == "mois" and ("mensuel" in opening or "annuel" in opening)))


def _title(rng: random.Random, entry: Entry, taken: set[str]) -> str:
    theme = entry.theme
    for attempt in range(40):
        opening = rng.choices(list(v.TITLE_OPENINGS), weights=list(v.TITLE_OPENINGS.values()))[0]
        choices = entry.direction.subjects.get(theme.name, theme.subjects)
        subject, _, producers = rng.choice(choices).partition("|")
        qualifier = rng.choice(theme.qualifiers) if rng.random() < 0.55 or attempt > 10 else ""
        if qualifier and _clashes(opening, subject, qualifier):
            qualifier = ""
        title = f"{opening} {subject.lstrip('!')}{qualifier}"
        if title not in taken:
            taken.add(title)
            entry.subject_personal = subject.startswith("!")
            entry.producers = tuple(producers.split(";")) if producers else theme.producers
            return title
    title = f"{title} ({len(taken)})"
    taken.add(title)
    return title


def _rank(indices: list[int], counts: list[tuple[str, int]],
          score: dict[int, float]) -> dict[int, str]:
    """Give each value its count of `indices`: the first value to the highest scores, the
    next to the following ones, and so on."""
    ranked = sorted(indices, key=lambda i: (-score[i], i))
    out: dict[int, str] = {}
    position = 0
    for name, n in counts:
        for i in ranked[position:position + n]:
            out[i] = name
        position += n
    return out


def _scaled(counts: dict[str, int], total: int) -> dict[str, int]:
    return dict(zip(counts, largest_remainder(list(counts.values()), total), strict=True))


def _assign_audit_values(rng: random.Random, entries: list[Entry]) -> None:
    """Source, confidentiality and sharing in the audit's exact proportions."""
    n = len(entries)
    everyone = list(range(n))

    source_n = _scaled(v.SOURCE_COUNTS, n)
    # Subjects that name their own producers are more often bought or received from outside.
    external = {i: e.theme.external * (1.6 if e.producers != e.theme.producers else 1.0)
                * rng.lognormvariate(0, 0.6) for i, e in enumerate(entries)}
    source = _rank(everyone, [("external", source_n["external"]), ("both", source_n["both"]),
                              ("internal", source_n["internal"])], external)

    conf_n = _scaled(v.CONFIDENTIALITY_COUNTS, n)
    unsure = set(rng.sample(everyone, conf_n["undefined"]))
    known = [i for i in everyone if i not in unsure]
    secret = {i: entries[i].theme.confidential * (2.5 if entries[i].subject_personal else 1.0)
              * rng.lognormvariate(0, 0.5) for i in known}
    conf = _rank(known, [("yes", conf_n["yes"]), ("no", conf_n["no"])], secret)
    conf.update({i: "undefined" for i in unsure})

    share_n = _scaled(v.SHARING_COUNTS, n)
    undecided = {i: rng.random() + (0.8 if conf[i] == "undefined" else 0.0) for i in everyone}
    sharing = _rank(everyone, [("undefined", share_n["undefined"]),
                               ("rest", n - share_n["undefined"])], undecided)
    rest = [i for i in everyone if sharing[i] == "rest"]
    closed = {i: rng.random() + (1.0 if conf[i] == "yes" else 0.0) for i in rest}
    sharing.update(_rank(rest, [("no", share_n["no"]), ("yes", share_n["yes"])], closed))

    for i, e in enumerate(entries):
        e.source = Source(source[i])
        e.confidentiality = YesNoUndefined(conf[i])
        e.sharing = YesNoUndefined(sharing[i])


def _plan(ctx: DemoContext) -> tuple[list[Entry], list[Entry]]:
    rng = ctx.rng
    rows: list[tuple[str, v.Direction]] = [
        (key, d) for key in (METROPOLE, VILLE, CCAS) for d in SPECS[key].directions
    ]
    audit: list[Entry] = []
    for (org_key, direction), themes in zip(rows, fit_themes([d for _, d in rows], SCALE),
                                            strict=True):
        for theme_name, count in themes.items():
            audit.extend(Entry(org_key, direction, v.THEMES[theme_name]) for _ in range(count))
    communes: list[Entry] = []
    for org_key in COMMUNES:
        for direction in v.COMMUNE_DIRECTIONS:
            names = list(direction.themes)
            weights = list(direction.themes.values())
            for _ in range(direction.count + rng.randint(0, 2)):
                theme = v.THEMES[rng.choices(names, weights=weights)[0]]
                communes.append(Entry(org_key, direction, theme))
    taken: dict[str, set[str]] = {}
    for entry in audit + communes:
        entry.title = _title(rng, entry, taken.setdefault(entry.org_key, set()))
    _assign_audit_values(rng, audit)
    _assign_audit_values(rng, communes)
    return audit, communes


def _description(rng: random.Random, entry: Entry, org_name: str, producer: str | None,
                 frequency: UpdateFrequency) -> str:
    lines = [f"Tableau de suivi tenu par la direction « {entry.direction.name} » "
             f"({org_name})."]
    if entry.direction.mutualised:
        lines.append("Service commun à la Ville de Ligérac et à la Métropole de Val-de-Loire.")
    if producer:
        lines.append(f"Données fournies par **{producer}**.")
    details = [f"- Thématique : {entry.theme.name}"]
    if frequency is not UpdateFrequency.UNKNOWN:
        details.append(f"- Mise à jour : {label(frequency).lower()}")
    if entry.confidentiality is YesNoUndefined.YES:
        details.append("- Diffusion restreinte : données confidentielles")
    if rng.random() < 0.5:
        kind = rng.choice(("tableur", "base de données", "export CSV", "SIG"))
        details.append(f"- Format : {kind}")
    return " ".join(lines) + "\n\n" + "\n".join(details)


def _input(ctx: DemoContext, entry: Entry) -> DatasetInput:
    rng = ctx.rng
    spec = SPECS[entry.org_key]
    org = ctx.organisations[entry.org_key]
    department = ctx.department(entry.org_key, entry.direction.name)
    theme = entry.theme
    producer = None
    if entry.source is Source.EXTERNAL:
        producer = rng.choice(entry.producers or theme.producers)
    elif entry.source is Source.BOTH:
        producer = f"{entry.direction.name} et {rng.choice(entry.producers or theme.producers)}"

    personal: bool | None
    if entry.subject_personal:
        personal = rng.random() < 0.9
    elif entry.confidentiality is YesNoUndefined.YES:
        personal = rng.random() < 0.45 * theme.personal
    else:
        personal = None if rng.random() < 0.12 else rng.random() < 0.08 * theme.personal

    if entry.confidentiality is YesNoUndefined.YES:
        access = AccessLevel.RESTRICTED
    elif (entry.confidentiality is YesNoUndefined.NO and entry.sharing is YesNoUndefined.YES
          and personal is False and rng.random() < 0.55):
        access = AccessLevel.OPEN
    else:
        access = AccessLevel.INTERNAL

    if access is AccessLevel.OPEN:
        stage = LifecycleStage.PUBLISHED if rng.random() < 0.85 else LifecycleStage.STORED
    else:
        roll = rng.random()
        stage = (LifecycleStage.COLLECTED if roll < 0.12 else LifecycleStage.ARCHIVED
                 if roll < 0.17 else LifecycleStage.DELETED if roll < 0.18
                 else LifecycleStage.STORED)

    frequency = (UpdateFrequency.UNKNOWN if rng.random() < 0.08
                 else rng.choices(list(theme.frequencies),
                                  weights=list(theme.frequencies.values()))[0])
    if entry.source is Source.INTERNAL:
        cost = Decimal(0) if rng.random() < 0.45 else None
    else:
        cost = Decimal(rng.choice(_COSTS)) if rng.random() < 0.6 else Decimal(0)

    keywords: list[str] = []
    if rng.random() < 0.65:
        keywords = rng.sample(theme.keywords, k=min(len(theme.keywords), rng.randint(2, 4)))
    if entry.direction.mutualised:
        keywords.append(SERVICE_COMMUN)

    start = end = None
    if rng.random() < 0.5:
        start = date(rng.randint(2011, 2022), 1, 1)
        if stage in (LifecycleStage.ARCHIVED, LifecycleStage.DELETED):
            end = date(min(start.year + rng.randint(1, 4), 2024), 12, 31)

    description = ""
    if rng.random() < 0.45 or entry.direction.mutualised:
        description = _description(rng, entry, org.name, producer, frequency)

    return DatasetInput(
        title=entry.title,
        description=description,
        organisation_id=org.id,
        department_id=department.id,
        theme=theme.name,
        source=entry.source,
        producer=producer,
        confidentiality=entry.confidentiality,
        sharing=entry.sharing,
        access_level=access,
        contains_personal_data=personal,
        cost_per_year=cost,
        update_frequency=frequency,
        licence=rng.choices(LICENCES, weights=(85, 15))[0] if access is AccessLevel.OPEN else None,
        keywords=keywords,
        spatial_coverage=spec.place if rng.random() < 0.7 else None,
        temporal_start=start,
        temporal_end=end,
        contact_name=entry.direction.name,
        contact_email=f"{entry.direction.email}@{spec.domain}",
        lifecycle_stage=stage,
    )


def build_inventory(ctx: DemoContext) -> None:
    audit, communes = _plan(ctx)
    entries = audit + communes
    ctx.rng.shuffle(entries)
    taken: set[str] = set()
    for entry in entries:
        inventory.create_dataset(ctx.session, ctx.principal, _input(ctx, entry),
                                 taken_slugs=taken)
