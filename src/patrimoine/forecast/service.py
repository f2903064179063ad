"""The forecast's inputs as inventory datasets, its publication, hand adjustments of orders,
and its entry in the algorithm register.

Each input file is a version of an internal dataset without personal data (one dataset per
role of `canteens.ROLES`, slug `cantines-<role>`), loaded through the datastore like any file.
The canteen service adds a new week of attendance as a new version of the attendance dataset
(the normal upload): the forecast reads every version of it, oldest first, a later version
winning for the same canteen and day; of the other datasets, the latest version.
`publish` puts the forecast and its backtests out as open datasets (aggregated: daily totals,
and per canteen and day) and keeps the summary the public pages read. `adjust` keeps an order
set by hand with its reason.
"""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_in, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.ingest.service import ingest
from patrimoine.forecast import backtest, model, predict
from patrimoine.forecast.canteens import ROLE_BY_NAME, ROLES, History, read_files, role_of
from patrimoine.forecast.models import OrderAdjustment
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage, Organisation
from patrimoine.transparency import service as transparency
from patrimoine.transparency.models import (
    AlgorithmKind,
    AlgorithmStatus,
    Automation,
    DocumentKind,
    PublicAlgorithm,
)

ALGORITHM_NAME = "Prévision de la fréquentation des cantines scolaires"


def slug_of(role: str) -> str:
    return "cantines-" + role.replace("_", "-")


def import_folder(session: Session, settings: Settings, principal: Principal,
                  organisation: Organisation, folder: Path) -> list[tuple[str, int, bool]]:
    """Load every file of the folder whose name says its role as the next version of its
    dataset; (file name, version number, unchanged) for each."""
    if not folder.is_dir():
        raise Invalid(f"Le dossier « {folder} » n'existe pas.")
    files = [(p, role_of(p.name)) for p in sorted(folder.iterdir()) if p.is_file()]
    found = [(p, r) for p, r in files if r is not None]
    present = {r.name for _, r in found if r is not None}
    missing = [r.title for r in ROLES if r.required and r.name not in present]
    if missing:
        raise Invalid("Fichiers manquants dans le dossier : " + " ; ".join(missing) + ".")
    loaded = []
    for path, role in found:
        assert role is not None
        dataset = session.scalar(select(Dataset).where(Dataset.slug == slug_of(role.name)))
        if dataset is None:
            data = inventory.DatasetInput(
                title=role.title, organisation_id=organisation.id,
                description=("Donnée d'entrée de la prévision de la fréquentation des cantines "
                             "scolaires (aucune donnée personnelle : des nombres de repas par "
                             "cantine et par jour, des calendriers, des menus)."),
                access_level=AccessLevel.INTERNAL, contains_personal_data=False,
                theme="Éducation", keywords=["cantines", "prévision"])
            dataset = inventory.create_dataset(session, principal, data,
                                               slug=slug_of(role.name))
        version = ingest(session, settings, principal, dataset, path, accept_rejects=True)
        loaded.append((path.name, version.number, bool(version.unchanged)))
    return loaded


def history_from_store(session: Session, settings: Settings) -> History:
    """The history from the datasets `import_folder` (and later uploads) filled."""
    files: dict[str, list[tuple[str, bytes]]] = {}
    for role in ROLES:
        dataset = session.scalar(select(Dataset).where(Dataset.slug == slug_of(role.name)))
        if dataset is None:
            continue
        found = versions.list_versions(session, dataset)  # newest first
        # Attendance and menus come a file at a time (a week, a period): every version.
        chosen = found[::-1] if role.several else found[:1]
        for version in chosen:
            path = versions.original_path(settings, version)
            if path is not None and path.is_file():
                files.setdefault(role.name, []).append((f"{dataset.slug} v{version.number}",
                                                        path.read_bytes()))
    if not files:
        raise Invalid("Aucune donnée de cantines chargée : lancez d'abord "
                      "« patrimoine forecast canteens import DOSSIER ».")
    return read_files(files)


def register(session: Session, principal: Principal, organisation: Organisation,
             base_url: str) -> PublicAlgorithm:
    """The algorithm's entry in the register (a draft the authority reviews and publishes),
    its four documents being the public pages; an existing entry is returned unchanged."""
    found = session.scalar(select(PublicAlgorithm).where(
        PublicAlgorithm.organisation_id == organisation.id,
        PublicAlgorithm.name == ALGORITHM_NAME))
    if found is not None:
        return found
    datasets = [d.id for d in session.scalars(select(Dataset).where(
        Dataset.slug.in_([slug_of(r) for r in ROLE_BY_NAME])))]
    page = base_url.rstrip("/") + "/prevision-cantines"
    data = transparency.AlgorithmInput(
        organisation_id=organisation.id, name=ALGORITHM_NAME,
        contact="Service de la restauration scolaire",
        purpose=("Proposer, plusieurs semaines à l'avance, le nombre de repas à commander pour "
                 "chaque cantine scolaire et chaque jour, afin que les commandes aux "
                 "producteurs et la production de la cuisine centrale suivent le nombre "
                 "d'enfants qui mangent, et de réduire le gaspillage."),
        legal_basis=("Mission de service public de restauration scolaire (code de l'éducation, "
                     "art. L. 131-13) ; aucune décision individuelle."),
        public_concerned="Enfants des écoles publiques et leurs familles (aucune donnée "
                         "personnelle n'est utilisée).",
        automation=Automation.DECISION_SUPPORT, kind=AlgorithmKind.STATISTICAL,
        operations=("Régression avec effets nommés (jour de la semaine, mois, vacances, ponts, "
                    "menu, effectifs de l'année scolaire) sur le nombre de repas servis par "
                    "cantine et par jour ; commande proposée = prévision × quantile des écarts "
                    "passés au niveau de service choisi."),
        human_oversight=("Les agents gardent la main : chaque commande proposée peut être "
                         "modifiée, le motif est conservé."),
        risks="Pénurie de repas un jour de forte affluence ; surproduction et gaspillage.",
        dataset_ids=datasets,
        documents={
            DocumentKind.DESCRIPTION: transparency.Document(
                url=page, title="Ce que la prévision utilise et sa précision"),
            DocumentKind.DIAGRAM: transparency.Document(
                url=page + "#chemin", title="Des données au nombre de repas"),
            DocumentKind.TECHNICAL: transparency.Document(
                url=page + "/backtests", title="Backtests par année scolaire"),
            DocumentKind.SOURCE: transparency.Document(
                url=page + "#code", title="Code source et méthode"),
        },
        status=AlgorithmStatus.DRAFT)
    return transparency.create_algorithm(session, principal, data)


# --- publication: the forecast and its backtests as open data, the summary the pages read --

SUMMARY = "forecast/cantines.json"


def summary_path(settings: Settings) -> Path:
    return settings.data_dir / SUMMARY


def read_summary(settings: Settings) -> dict[str, Any] | None:
    """What `publish` last computed, or None before the first publication."""
    path = summary_path(settings)
    if not path.is_file():
        return None
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def publish(session: Session, settings: Settings, principal: Principal,
            organisation: Organisation, history: History, start: date, end: date,
            years: list[str], service_level: float = 0.97) -> dict[str, Any]:
    """Forecast the days from `start` to `end`, replay the school years asked, publish both
    as open datasets (daily totals and per canteen and day) and keep the summary the public
    pages show."""
    forecast = predict.predict(history, start, end, service_level, explain=True)
    prepared = model.prepare(history)
    accuracy = []
    backtest_rows: list[list[Any]] = []
    for year in years:
        result = backtest.backtest_year(prepared, year, service_level=service_level)
        accuracy.append({"year": year, "with_strikes": result.metrics(),
                         "without_strikes": result.metrics(strikes=False),
                         "tradeoff": result.tradeoff()})
        backtest_rows += [[year, d.day.isoformat(), d.strike, round(d.forecast),
                           round(d.order), d.served, d.staff] for d in result.days]
    summary = {"published_at": date.today().isoformat(), "service_level": service_level,
               "forecast": forecast, "accuracy": accuracy}
    path = summary_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "cantines-previsions": ("Cantines scolaires : prévisions de fréquentation",
                                    ["date", "prevision", "commande_proposee", "bas", "haut"],
                                    [[d["date"], d["forecast"], d["order"], d["low"], d["high"]]
                                     for d in forecast["days"]]),
            "cantines-previsions-par-cantine": (
                "Cantines scolaires : prévisions par cantine et par jour",
                ["date", "site_nom", "site_type", "prevision", "commande_proposee"],
                [[s["date"], s["site_nom"], s["site_type"], s["forecast"], s["order"]]
                 for s in forecast["sites"]]),
            "cantines-backtests": ("Cantines scolaires : backtests de la prévision",
                                   ["annee_scolaire", "date", "greve", "prevision",
                                    "commande_proposee", "repas_servis", "commande_personnel"],
                                   backtest_rows),
        }
        for slug, (title, header, rows) in files.items():
            file = Path(tmp) / f"{slug}.csv"
            with file.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
            dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
            if dataset is None:
                dataset = inventory.create_dataset(session, principal, inventory.DatasetInput(
                    title=title, organisation_id=organisation.id,
                    description=("Publié par la prévision de la fréquentation des cantines "
                                 "scolaires : des nombres de repas agrégés, aucune donnée "
                                 "personnelle. Méthode : /prevision-cantines."),
                    access_level=AccessLevel.OPEN, lifecycle_stage=LifecycleStage.PUBLISHED,
                    contains_personal_data=False,
                    licence="etalab-2.0", theme="Éducation",
                    keywords=["cantines", "prévision"]), slug=slug)
            ingest(session, settings, principal, dataset, file)
    return summary


# --- hand adjustments ------------------------------------------------------------------------


def adjust(session: Session, principal: Principal, organisation: Organisation, day: date,
           adjusted: int, reason: str, *, site: tuple[str, str] | None = None,
           proposed: int | None = None) -> OrderAdjustment:
    """Keep an order the service set by hand instead of the proposed one, with its reason."""
    require(can_edit_in(principal, organisation.id, None), principal,
            "modifier une commande de repas")
    if adjusted < 0:
        raise Invalid("Une commande est un nombre de repas positif ou nul.")
    if not reason.strip():
        raise Invalid("Le motif de la modification est obligatoire : il est conservé.")
    entry = OrderAdjustment(organisation_id=organisation.id, day=day,
                            site_nom=site[0] if site else "", site_type=site[1] if site else "",
                            proposed=proposed, adjusted=adjusted, reason=reason.strip(),
                            author=principal.label)
    session.add(entry)
    session.flush()
    return entry


def adjustments(session: Session, organisation: Organisation, history: History | None = None
                ) -> list[dict[str, Any]]:
    """The adjusted orders, newest day first, beside the meals served once they are known."""
    rows = session.scalars(select(OrderAdjustment).where(
        OrderAdjustment.organisation_id == organisation.id).order_by(
        OrderAdjustment.day.desc(), OrderAdjustment.id.desc()))
    out = []
    for a in rows:
        served: int | None = None
        if history is not None:
            found = [v[1] for (s, d), v in history.attendance.items() if d == a.day and
                     (not a.site_nom or s == (a.site_nom, a.site_type))]
            served = sum(found) if found else None
        out.append({"date": a.day.isoformat(), "site_nom": a.site_nom,
                    "site_type": a.site_type, "proposed": a.proposed, "adjusted": a.adjusted,
                    "served": served, "reason": a.reason, "author": a.author})
    return out
