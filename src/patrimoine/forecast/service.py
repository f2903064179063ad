"""The forecast's inputs as inventory datasets, and its entry in the algorithm register.

Each input file is a version of an internal dataset without personal data (one dataset per
role of `canteens.ROLES`, slug `cantines-<role>`), loaded through the datastore like any file.
The canteen service adds a new week of attendance as a new version of the attendance dataset
(the normal upload): the forecast reads every version of it, oldest first, a later version
winning for the same canteen and day; of the other datasets, the latest version.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.ingest.service import ingest
from patrimoine.forecast.canteens import ROLE_BY_NAME, ROLES, History, read_files, role_of
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset, Organisation
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
