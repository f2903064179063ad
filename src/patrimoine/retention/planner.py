"""What is due: the retention plan, computed from the rules and the stored data.

Where a rule comes from: the dataset's own rule (`dataset_retention`); else the rules of the
processing activities of the register that name the dataset in their linked datasets (the
register stores its start event as a StartEvent value, older free text is mapped onto it;
when an activity has several rules, one per data category, the one ending last is applied to
the dataset's data, so nothing is removed before every category's time is over).

What each starting event makes due:
- created: each version, `duration` after its own creation;
- updated: every version, `duration` after the newest one (the last update);
- relationship_end / file_closed: every version, `duration` after the event's date (the rule's
  `event_date`; for an activity's rule, the day the activity was marked ended); without that
  date nothing is due yet and the plan says it waits for the event;
- date_column: the rows whose date + duration is today or earlier (row-level purge): the
  newest version is replaced by a new version without those rows, and every version that
  still holds expired rows is destroyed with it (that is the point of the purge: a kept old
  version would keep the expired rows).

What each fate does (see apply.py): destruction needs a visa (elimination slip, R212-14);
archives and sorting transfer the data to data_dir/archives/ then remove it (a transfer
of custody, not an elimination: the archives service sorts what it receives); anonymisation
derives an anonymised version, after which the originals are eliminated under a visa.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.core.clock import now
from patrimoine.core.settings import Settings
from patrimoine.core.vocabulary import label, parse
from patrimoine.datastore import versions as store
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection.findings.anonymise import parse_plan
from patrimoine.protection.findings.models import Anonymisation
from patrimoine.protection.findings.service import connect, parquet_source, quote
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.vocabulary import ActivityStatus
from patrimoine.retention import holds
from patrimoine.retention.models import (
    DatasetRetention,
    EliminationSlip,
    EliminationSlipItem,
    SlipStatus,
)
from patrimoine.retention.rules import (
    DurationUnit,
    FinalFate,
    RetentionRule,
    StartEvent,
    add_period,
)

ACTION_LABELS = {
    "destroy_versions": "Destruction de versions",
    "purge_rows": "Purge des lignes échues",
    "anonymise": "Anonymisation",
    "transfer": "Versement aux archives",
}

VISA_FATES = (FinalFate.DESTRUCTION,)


@dataclass
class EffectiveRule:
    rule: RetentionRule
    source: str  # "dataset" | "activity"
    activity_reference: str | None = None
    activity_event_date: date | None = None


@dataclass
class PlanItem:
    key: str
    organisation_id: int
    organisation: str
    service: str
    dataset_id: int
    dataset_slug: str
    dataset_title: str
    source: str
    activity_reference: str | None
    action: str
    fate: str
    rule: str
    legal_reference: str | None
    due_since: date
    reason: str
    versions: list[int]
    rows: int
    size_bytes: int
    date_start: date | None
    date_end: date | None
    needs_visa: bool
    target: dict[str, Any]
    slip: str | None = None
    slip_id: int | None = None
    slip_status: str | None = None
    blocked: str | None = None
    held: str | None = None  # the legal holds that suspend it (holds.py)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("due_since", "date_start", "date_end"):
            data[k] = data[k].isoformat() if data[k] else None
        data["action_label"] = ACTION_LABELS[self.action]
        data["fate_label"] = label(FinalFate(self.fate))
        return data


class DatasetFields(TypedDict):
    """The fields every `PlanItem` of one dataset shares."""

    organisation_id: int
    organisation: str
    service: str
    dataset_id: int
    dataset_slug: str
    dataset_title: str
    source: str
    activity_reference: str | None
    fate: str
    rule: str
    legal_reference: str | None


@dataclass
class Waiting:
    dataset_slug: str
    dataset_title: str
    organisation: str
    rule: str
    reason: str
    next_due: date | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["next_due"] = self.next_due.isoformat() if self.next_due else None
        return data


@dataclass
class ActivityDue:
    """An ended processing activity whose rule's time is over: its data, wherever it is
    held (business applications included), is due for its fate."""

    organisation_id: int
    organisation: str
    reference: str
    name: str
    rule: str
    fate: str
    ended_on: date
    due_since: date
    datasets: list[str]
    applications: list[str]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ended_on"], data["due_since"] = self.ended_on.isoformat(), \
            self.due_since.isoformat()
        data["fate_label"] = label(FinalFate(self.fate))
        return data


@dataclass
class Plan:
    today: date
    items: list[PlanItem] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    activities: list[ActivityDue] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(),
                "items": [i.as_json() for i in self.items],
                "activities": [a.as_json() for a in self.activities],
                "waiting": [w.as_json() for w in self.waiting],
                "problems": list(self.problems)}


def _item_key(action: str, dataset: Dataset, target: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(target, sort_keys=True).encode()).hexdigest()[:20]
    return f"{action}:{dataset.uid}:{digest}"


def _day(moment: datetime) -> date:
    return moment.date()


# --- rules -------------------------------------------------------------------------------


def activity_rules(activity: ProcessingActivity) -> tuple[list[RetentionRule], list[str]]:
    """The activity's register rules as RetentionRule, and why some cannot be used."""
    rules, problems = [], []
    for raw in activity.retention_rules or []:
        stored = raw.get("start_event")
        # The register stores a StartEvent value; a text written before the starting event
        # was a fixed list is still read through the usual wordings.
        event = (StartEvent(stored) if stored in set(StartEvent)
                 else parse(StartEvent, str(stored or "")))
        where = f"Traitement {activity.reference} « {activity.name} »"
        if event is None:
            problems.append(f"{where} : l'événement de départ « {raw.get('start_event')} » "
                            "n'est pas reconnu ; la durée ne peut pas être calculée.")
            continue
        if event == StartEvent.DATE_COLUMN:
            problems.append(f"{where} : une conservation ligne à ligne se règle sur le jeu de "
                            "données (colonne de date).")
            continue
        if raw.get("final_fate") == FinalFate.ANONYMISATION.value:
            problems.append(f"{where} : l'anonymisation demande un plan par colonne, à régler "
                            "sur chaque jeu de données lié.")
            continue
        try:
            rules.append(RetentionRule(
                duration=int(raw["duration"]), unit=DurationUnit(raw["unit"]),
                start_event=event, final_fate=FinalFate(raw["final_fate"]),
                legal_reference=raw.get("legal_reference")))
        except (KeyError, ValueError, TypeError):
            problems.append(f"{where} : une durée de conservation est incomplète.")
    return rules, problems


def effective_rules(session: Session, organisation_ids: list[int] | None = None
                    ) -> tuple[dict[int, EffectiveRule], list[str]]:
    """Dataset id -> the rule that governs it, and the problems met."""
    out: dict[int, EffectiveRule] = {}
    problems: list[str] = []
    query = select(ProcessingActivity).order_by(ProcessingActivity.id)
    if organisation_ids is not None:
        query = query.where(ProcessingActivity.organisation_id.in_(organisation_ids))
    for activity in session.scalars(query):
        if not activity.linked_datasets:
            continue
        rules, issues = activity_rules(activity)
        problems.extend(issues)
        if not rules:
            continue
        ended = activity.status == ActivityStatus.ENDED
        event_day = _day(activity.updated_at) if ended else None
        # The rule ending last (measured from a common day) governs the data.
        rule = max(rules, key=lambda r: add_period(date(2000, 1, 31), r.duration, r.unit))
        datasets = session.scalars(select(Dataset).where(
            Dataset.slug.in_(activity.linked_datasets),
            Dataset.organisation_id == activity.organisation_id))
        for dataset in datasets:
            current = out.get(dataset.id)
            if current is None or add_period(date(2000, 1, 31), rule.duration, rule.unit) > \
                    add_period(date(2000, 1, 31), current.rule.duration, current.rule.unit):
                out[dataset.id] = EffectiveRule(rule, "activity", activity.reference, event_day)
    query2 = select(DatasetRetention)
    if organisation_ids is not None:
        query2 = query2.join(Dataset, Dataset.id == DatasetRetention.dataset_id).where(
            Dataset.organisation_id.in_(organisation_ids))
    for own in session.scalars(query2):
        out[own.dataset_id] = EffectiveRule(own.rule(), "dataset")
    return out, problems


def ended_activities(session: Session, organisation_ids: list[int] | None, today: date
                     ) -> list[ActivityDue]:
    """Ended activities whose rules counted from the end of the processing (end of the
    relationship, closure of the file) are over."""
    query = select(ProcessingActivity).where(
        ProcessingActivity.status == ActivityStatus.ENDED).order_by(ProcessingActivity.id)
    if organisation_ids is not None:
        query = query.where(ProcessingActivity.organisation_id.in_(organisation_ids))
    out = []
    for activity in session.scalars(query):
        rules, _ = activity_rules(activity)
        ended = _day(activity.updated_at)
        for rule in rules:
            if rule.start_event not in (StartEvent.RELATIONSHIP_END, StartEvent.FILE_CLOSED):
                continue
            due = add_period(ended, rule.duration, rule.unit)
            if due > today:
                continue
            organisation = session.get(Organisation, activity.organisation_id)
            out.append(ActivityDue(
                organisation_id=activity.organisation_id,
                organisation=organisation.name if organisation else "",
                reference=activity.reference, name=activity.name, rule=rule.describe(),
                fate=rule.final_fate.value, ended_on=ended, due_since=due,
                datasets=list(activity.linked_datasets),
                applications=list(activity.linked_applications)))
    return out


# --- row-level ---------------------------------------------------------------------------


def expired_condition(column: str, rule: RetentionRule, asof: date) -> str:
    unit = {"days": "DAY", "months": "MONTH", "years": "YEAR"}[rule.unit.value]
    return (f"coalesce(TRY_CAST({quote(column)} AS DATE) + INTERVAL ({int(rule.duration)}) "
            f"{unit} <= DATE '{asof.isoformat()}', false)")


@dataclass
class RowCount:
    expired: int
    first: date | None
    last: date | None
    pending: date | None = None  # the earliest date of the rows not yet expired


def count_expired(settings: Settings, version: DatasetVersion, rule: RetentionRule,
                  asof: date) -> RowCount:
    column = rule.date_column or ""
    cond = expired_condition(column, rule, asof)
    workdir = Path(tempfile.mkdtemp(prefix="retention-"))
    try:
        con = connect(workdir)
        try:
            day = f"TRY_CAST({quote(column)} AS DATE)"
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE {cond}), min({day}) FILTER (WHERE {cond}), "
                f"max({day}) FILTER (WHERE {cond}), min({day}) FILTER (WHERE NOT ({cond})) "
                f"FROM {parquet_source(settings, version)}").fetchone()
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert row is not None
    return RowCount(int(row[0]), row[1], row[2], row[3])


# --- the plan ----------------------------------------------------------------------------


def _service(dataset: Dataset) -> str:
    org = dataset.organisation.name
    return f"{org} — {dataset.department.name}" if dataset.department else org


def _slips_by_key(session: Session) -> dict[str, tuple[EliminationSlip, EliminationSlipItem]]:
    out: dict[str, tuple[EliminationSlip, EliminationSlipItem]] = {}
    rows = session.execute(select(EliminationSlip, EliminationSlipItem).join(
        EliminationSlipItem, EliminationSlipItem.slip_id == EliminationSlip.id)
        .order_by(EliminationSlip.id))
    for slip, item in rows:
        out[item.item_key] = (slip, item)  # the newest slip naming a key wins
    return out


def build_plan(session: Session, settings: Settings, organisation_ids: list[int] | None = None,
               today: date | None = None) -> Plan:
    today = today or now().date()
    plan = Plan(today=today)
    rules, problems = effective_rules(session, organisation_ids)
    plan.problems.extend(problems)
    plan.activities = ended_activities(session, organisation_ids, today)
    slips = _slips_by_key(session)
    in_force = holds.holds_in_force(session, today, list(rules))
    anonymised_sources = {vid for vid in session.scalars(select(Anonymisation.source_version_id))
                          if vid is not None}
    anonymised_results = {row[0] for row in session.execute(
        select(Anonymisation.result_version_id))}
    datasets = session.scalars(select(Dataset).where(Dataset.id.in_(list(rules)))
                               .order_by(Dataset.organisation_id, Dataset.title)).all()
    for dataset in datasets:
        eff = rules[dataset.id]
        history = store.list_versions(session, dataset)
        for item in _dataset_items(settings, dataset, eff, history, today, plan,
                                   anonymised_sources, anonymised_results):
            found = slips.get(item.key)
            if found is not None:
                slip, _ = found
                item.slip, item.slip_id, item.slip_status = slip.reference, slip.id, slip.status
                if slip.status == SlipStatus.REFUSED:
                    item.blocked = (f"Visa refusé sur le bordereau {slip.reference} : les "
                                    "données sont à conserver ; revoyez le sort final.")
                elif slip.status == SlipStatus.AWAITING_VISA:
                    item.blocked = f"En attente du visa du bordereau {slip.reference}."
            elif item.needs_visa:
                item.blocked = "Élimination à proposer sur un bordereau, puis à faire viser."
            held = holds.holding(in_force.get(dataset.id, []), item.versions)
            if held:
                # Never destroyed, purged, transferred nor anonymised while held.
                item.held = item.blocked = holds.held_text(held)
            plan.items.append(item)
    return plan


def _dataset_items(settings: Settings, dataset: Dataset, eff: EffectiveRule,
                   history: list[DatasetVersion], today: date, plan: Plan,
                   anonymised_sources: set[int], anonymised_results: set[int]
                   ) -> list[PlanItem]:
    rule = eff.rule
    fate = rule.final_fate
    described = rule.describe()
    if eff.source == "activity":
        described += f" (règle du traitement {eff.activity_reference})"
    base = DatasetFields(
        organisation_id=dataset.organisation_id, organisation=dataset.organisation.name,
        service=_service(dataset), dataset_id=dataset.id, dataset_slug=dataset.slug,
        dataset_title=dataset.title, source=eff.source,
        activity_reference=eff.activity_reference, fate=fate.value, rule=described,
        legal_reference=rule.legal_reference)
    if not history:
        return []

    def waiting(reason: str, next_due: date | None = None) -> list[PlanItem]:
        plan.waiting.append(Waiting(dataset.slug, dataset.title, dataset.organisation.name,
                                    described, reason, next_due))
        return []

    if rule.start_event == StartEvent.DATE_COLUMN:
        return _row_items(settings, dataset, rule, history, today, plan, base, waiting)

    # Versions that are the result of an anonymisation are what that fate keeps.
    candidates = [v for v in history if v.id not in anonymised_results] \
        if fate == FinalFate.ANONYMISATION else list(history)
    if not candidates:
        return []
    due: list[tuple[DatasetVersion, date]] = []
    if rule.start_event == StartEvent.CREATED:
        due_all = [(v, add_period(_day(v.created_at), rule.duration, rule.unit))
                   for v in candidates]
        due = [(v, d) for v, d in due_all if d <= today]
        if not due:
            return waiting("Aucune version n'a atteint sa durée de conservation.",
                           min(d for _, d in due_all))
        reason_of = "création de la version"
    else:
        start: date | None
        if rule.start_event == StartEvent.UPDATED:
            start = _day(history[0].created_at)
            reason_of = "dernière mise à jour"
        else:
            start = rule.event_date if eff.source == "dataset" else eff.activity_event_date
            reason_of = "événement"
            if start is None:
                what = ("la fin de la relation ou du contrat"
                        if rule.start_event == StartEvent.RELATIONSHIP_END
                        else "la clôture du dossier")
                extra = (f" (le traitement {eff.activity_reference} n'est pas terminé)"
                         if eff.source == "activity" else "")
                return waiting(f"En attente de {what} : date non renseignée{extra}.")
        deadline = add_period(start, rule.duration, rule.unit)
        if deadline > today:
            return waiting(f"Délai courant depuis le {start.strftime('%d/%m/%Y')} ({reason_of}).",
                           deadline)
        due = [(v, deadline) for v in candidates]
    due.sort(key=lambda p: p[0].number)
    numbers = [v.number for v, _ in due]
    since = min(d for _, d in due)
    rows = sum(v.row_count for v, _ in due)
    size = sum(v.stored_bytes for v, _ in due)
    first = min(_day(v.created_at) for v, _ in due)
    last = max(_day(v.created_at) for v, _ in due)
    listed = ", ".join(str(n) for n in numbers)
    why = (f"Versions {listed} échues depuis le {since.strftime('%d/%m/%Y')} "
           f"({described} ; départ : {reason_of}).")
    items: list[PlanItem] = []
    if fate == FinalFate.ANONYMISATION:
        to_anonymise = [v for v, _ in due if v.id not in anonymised_sources]
        originals = [v for v, _ in due if v.id in anonymised_sources]
        if to_anonymise:
            try:
                parse_plan(rule.anonymisation)
            except Exception:  # noqa: BLE001 - reported, never raised from a plan
                plan.problems.append(f"« {dataset.title} » : plan d'anonymisation invalide.")
                return []
            target = {"anonymise": [v.number for v in to_anonymise]}
            items.append(PlanItem(
                key=_item_key("anonymise", dataset, target), action="anonymise",
                due_since=since, reason=why, versions=target["anonymise"],
                rows=sum(v.row_count for v in to_anonymise),
                size_bytes=sum(v.stored_bytes for v in to_anonymise),
                date_start=first, date_end=last, needs_visa=False, target=target, **base))
        if originals:
            target = {"versions": [v.number for v in originals]}
            items.append(PlanItem(
                key=_item_key("destroy_versions", dataset, target), action="destroy_versions",
                due_since=since,
                reason=("Originaux déjà anonymisés : leur élimination suit l'anonymisation "
                        f"(versions {', '.join(str(v.number) for v in originals)})."),
                versions=target["versions"], rows=sum(v.row_count for v in originals),
                size_bytes=sum(v.stored_bytes for v in originals),
                date_start=min(_day(v.created_at) for v in originals),
                date_end=max(_day(v.created_at) for v in originals),
                needs_visa=True, target=target, **base))
        return items
    action = "destroy_versions" if fate in VISA_FATES else "transfer"
    target = {"versions": numbers}
    return [PlanItem(key=_item_key(action, dataset, target), action=action, due_since=since,
                     reason=why, versions=numbers, rows=rows, size_bytes=size,
                     date_start=first, date_end=last, needs_visa=fate in VISA_FATES,
                     target=target, **base)]


def _row_items(settings: Settings, dataset: Dataset, rule: RetentionRule,
               history: list[DatasetVersion], today: date, plan: Plan, base: DatasetFields,
               waiting: Any) -> list[PlanItem]:
    column = rule.date_column or ""
    latest = history[0]
    if column not in latest.column_names():
        plan.problems.append(f"« {dataset.title} » : la colonne de date « {column} » de la "
                             "règle de conservation n'existe pas dans la dernière version.")
        return []
    counts = {v.number: count_expired(settings, v, rule, today) for v in history
              if column in v.column_names()}
    touched = [n for n, c in counts.items() if c.expired]
    if not touched:
        # The next due date: that of the earliest row not yet expired, in any version.
        pending = [c.pending for c in counts.values() if c.pending]
        next_due = add_period(min(pending), rule.duration, rule.unit) if pending else None
        return waiting("Aucune ligne n'a atteint sa durée de conservation.", next_due)
    latest_count = counts.get(latest.number, RowCount(0, None, None))
    firsts = [c.first for c in counts.values() if c.expired and c.first]
    lasts = [c.last for c in counts.values() if c.expired and c.last]
    first, last = (min(firsts) if firsts else None), (max(lasts) if lasts else None)
    since = add_period(first, rule.duration, rule.unit) if first else today
    target = {"purge": {"version": latest.number, "column": column, "asof": today.isoformat(),
                        "duration": rule.duration, "unit": rule.unit.value},
              "versions": sorted(touched)}
    fate = FinalFate(base["fate"])
    needs_visa = fate in VISA_FATES
    action = "purge_rows"
    older = [n for n in sorted(touched) if n != latest.number]
    why = (f"{latest_count.expired} ligne(s) de la version {latest.number} échues "
           f"(« {column} » + {rule.duration} {label(rule.unit)} au plus tard aujourd'hui)")
    if older:
        why += f" ; versions antérieures contenant des lignes échues : {', '.join(map(str, older))}"
    why += "."
    size = sum(v.stored_bytes for v in history if v.number in touched and v.number != latest.number)
    return [PlanItem(key=_item_key(action, dataset, target), action=action, due_since=since,
                     reason=why, versions=sorted(touched),
                     rows=sum(c.expired for c in counts.values()), size_bytes=size,
                     date_start=first, date_end=last, needs_visa=needs_visa, target=target,
                     **base)]
