"""Builders of real rows, files and versions for tests, through the same services the app
uses; and the small worlds several test modules share (fixtures stay in conftest.py files).

Sections: accounts, organisations and datasets; files loaded through the real ingest;
versions written directly as Parquet; logging in to the web pages; the worlds (a published
territory for the portal, a table of persons for protection, Ligérac's publication workflow,
retention's subscribers, a closed dataset and its grantees, a full register entry, the demo
territory with versions for the standards).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access import service as accounts
from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.datastore import engine, versions
from patrimoine.datastore.ingest import ingest
from patrimoine.datastore.models import DatasetVersion
from patrimoine.demo.loader import load_demo
from patrimoine.interop import public
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    Department,
    LifecycleStage,
    Organisation,
    OrganisationKind,
    UpdateFrequency,
)
from patrimoine.inventory.service import DatasetInput
from patrimoine.protection.register.service import ActivityInput
from patrimoine.retention import service as retention_rules

SYSTEM = Principal.system("tests")
PASSWORD = "mot-de-passe-solide"
# Readable by anyone (access.permissions.is_public): open and published.
PUBLIC: dict[str, Any] = {"access_level": AccessLevel.OPEN,
                          "lifecycle_stage": LifecycleStage.PUBLISHED}
DATASETS_API = "/api/v1/datasets"


# ------------------------------------------------------- accounts, organisations, datasets


def organisation(session: Session, name: str = "Ville de Test",
                 kind: OrganisationKind = OrganisationKind.VILLE) -> Organisation:
    return inventory.find_organisation(session, name) or inventory.create_organisation(
        session, SYSTEM, name=name, kind=kind)


def department(session: Session, org: Organisation, name: str = "Systèmes d'information"
               ) -> Department:
    return inventory.create_department(session, SYSTEM, org, name)


def dataset(session: Session, org: Organisation, title: str = "Consommations d'énergie",
            department: Department | None = None, **fields: Any) -> Dataset:
    data = DatasetInput(title=title, organisation_id=org.id,
                        department_id=department.id if department else None, **fields)
    return inventory.create_dataset(session, SYSTEM, data)


def account(session: Session, email: str = "agent@example.fr", *, superadmin: bool = False,
            roles: list[tuple[Organisation, Role, Department | None]] | None = None) -> Account:
    acc = accounts.create_account(session, email=email, full_name=email.split("@")[0],
                                  password=PASSWORD, is_superadmin=superadmin)
    for org, role, dep in roles or []:
        accounts.grant_role(session, acc, organisation_id=org.id, role=role,
                            department_id=dep.id if dep else None)
    return acc


def principal(services: Services, account_id: int) -> Principal:
    with services.db.session() as s:
        acc = s.get(Account, account_id)
        assert acc is not None
        return Principal.of(acc)


# ------------------------------------------------------- files through the real ingest


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def new_dataset(services: Services, title: str = "Subventions aux associations") -> Dataset:
    with services.db.unit_of_work() as session:
        return dataset(session, organisation(session), title=title)


def load(services: Services, entry: Dataset, path: Path, overrides: Any = None,
         principal: Principal = SYSTEM, *, accept_rejects: bool = False) -> DatasetVersion:
    """The file ingested as the next version of `entry` (committed; the version detached)."""
    with services.db.unit_of_work() as session:
        current = session.get(Dataset, entry.id)
        assert current is not None
        return ingest(session, services.settings, principal, current, path, overrides,
                      accept_rejects=accept_rejects)


def rows(services: Services, version: DatasetVersion) -> list[dict[str, Any]]:
    path = versions.version_path(services.settings, version)
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY _row")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def parquet_types(services: Services, version: DatasetVersion) -> dict[str, str]:
    path = versions.version_path(services.settings, version)
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    return {name: str(t) for name, t in zip(rel.columns, rel.types, strict=True)}


def columns(version: DatasetVersion) -> dict[str, str]:
    return {c["name"]: c["type"] for c in version.columns}


# ------------------------------------------------------- versions written directly as Parquet

EQUIPEMENTS_COLUMNS: list[dict[str, Any]] = [
    {"name": "nom", "type": "string"},
    {"name": "commune", "type": "string"},
    {"name": "montant", "type": "number"},
    {"name": "quantite", "type": "integer"},
    {"name": "actif", "type": "boolean"},
    {"name": "signe", "type": "date"},
    {"name": "maj", "type": "datetime"},
    {"name": "latitude", "type": "number"},
    {"name": "longitude", "type": "number"},
]

# The limits of the default settings.
LIMITS = engine.Limits.from_settings(Settings())

POSITIONS = {"lat": "latitude", "lon": "longitude"}

EQUIPEMENTS_SQL = """
SELECT _row::BIGINT AS _row, nom, commune, montant::DOUBLE AS montant,
  quantite::BIGINT AS quantite, actif, signe, maj, latitude::DOUBLE AS latitude,
  longitude::DOUBLE AS longitude
FROM (VALUES
 (1, 'Piscine Jean-Bouin', 'Saint-Étienne', 1200.5, 3, true, DATE '2024-01-15',
  TIMESTAMP '2024-01-15 10:00:00', 45.4397, 4.3872),
 (2, 'Médiathèque Élise', 'Lyon', 300.0, 10, false, DATE '2024-02-01',
  TIMESTAMP '2024-02-01 08:30:00', 45.7640, 4.8357),
 (3, '=HYPERLINK("http://x")', 'Lyon', NULL, 1, true, DATE '2023-12-31', NULL, 45.7600, 4.8400),
 (4, 'Gymnase Œuvre', 'Évry', -50.0, NULL, NULL, DATE '2024-02-20',
  TIMESTAMP '2024-02-20 17:45:00', 48.6300, 2.4400),
 (5, '+33 stade', 'Paris', 999.99, 7, true, NULL, TIMESTAMP '2024-03-01 00:00:00',
  48.8566, 2.3522),
 (6, '-tiret', 'Paris', 10.0, 2, false, DATE '2024-03-05', TIMESTAMP '2024-03-05 12:00:00',
  NULL, NULL),
 (7, '@arobase', 'Saint-Étienne', 10.0, 5, true, DATE '2024-03-06',
  TIMESTAMP '2024-03-06 09:15:00', 45.4400, 4.3900),
 (8, 'Salle ; "guillemets", virgule' || chr(10) || 'ligne', NULL, 75.0, 8, false,
  DATE '2024-01-20', TIMESTAMP '2024-01-20 20:20:20', 43.6047, 1.4442),
 (9, chr(9) || 'tabulation', 'Lyon', 20.0, 4, true, DATE '2024-02-10',
  TIMESTAMP '2024-02-10 10:10:10', 45.7500, 4.8500)
) t(_row, nom, commune, montant, quantite, actif, signe, maj, latitude, longitude)
"""


def generated_sql(n: int) -> str:
    """n rows with repeated values, nulls in every column kind, for paging and sorting."""
    return f"""
SELECT i::BIGINT AS _row,
  'Ligne ' || i AS nom,
  CASE WHEN i % 11 = 0 THEN NULL
       ELSE (['Lyon', 'Saint-Étienne', 'Évry', 'Paris', 'Nîmes'])[1 + (i % 5)::INT] END
    AS commune,
  CASE WHEN i % 13 = 0 THEN NULL ELSE ((i * 7919) % 1000) / 4.0 END::DOUBLE AS montant,
  CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 31) % 23 END::BIGINT AS quantite,
  CASE WHEN i % 19 = 0 THEN NULL ELSE i % 2 = 0 END AS actif,
  CASE WHEN i % 7 = 0 THEN NULL ELSE DATE '2023-01-01' + ((i * 37) % 500)::INT END AS signe,
  TIMESTAMP '2023-01-01 00:00:00' + to_seconds(((i * 7717) % 40000000)::BIGINT) AS maj,
  43.0 + ((i * 13) % 500) / 100.0 AS latitude,
  1.0 + ((i * 29) % 500) / 100.0 AS longitude
FROM range(1, {n} + 1) t(i)
"""


def write_parquet(path: Path, select_sql: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({select_sql} ORDER BY _row) TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path


def open_table(
    tmp_path: Path,
    select_sql: str = EQUIPEMENTS_SQL,
    columns: list[dict[str, Any]] | None = None,
    positions: dict[str, str] | None = POSITIONS,
    limits: engine.Limits = LIMITS,
) -> engine.VersionTable:
    """A small version opened through the query engine, without any store."""
    key = uuid.uuid4().hex
    parquet = write_parquet(tmp_path / f"{key}.parquet", select_sql)
    return engine.open_file(parquet, columns or EQUIPEMENTS_COLUMNS,
                            cache_root=tmp_path / "cache", key=key, positions=positions,
                            limits=replace(limits, temp_directory=str(tmp_path / "tmp")))


def parquet_version(settings: Settings, session: Session, entry: Dataset, sql: str,
                    columns: list[dict[str, Any]] = EQUIPEMENTS_COLUMNS,
                    positions: dict[str, str] | None = POSITIONS) -> DatasetVersion:
    """A version as ingest would leave it: a content-hashed Parquet file and its row."""
    folder = versions.dataset_folder(settings, entry)
    tmp = write_parquet(folder / "tmp.parquet", sql)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    final = folder / f"{digest}.parquet"
    tmp.replace(final)
    number = len(versions.list_versions(session, entry)) + 1
    version = DatasetVersion(
        dataset_id=entry.id, number=number, content_hash=digest,
        path=versions.relative_path(entry, digest), row_count=0,
        size_bytes=final.stat().st_size, columns=columns, positions=positions,
        source_filename="equipements.csv", source_format="csv", ingest_settings={},
    )
    session.add(version)
    session.flush()
    return version


# ------------------------------------------------------- web pages


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, email: str) -> str:
    """Log in with the factories' password; the CSRF token of the back-office forms."""
    client.cookies.clear()
    token = csrf_of(client.get("/connexion").text)
    r = client.post("/connexion", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/admin/compte").text)


# ------------------------------------------------------- a published territory (portal)

COUNTERS_CSV = """compteur;date;passages;latitude;longitude
Pont Royal;2025-01-01;1200;47.9010;1.9050
Pont Royal;2025-02-01;1350;47.9010;1.9050
Quai Châtelet;2025-01-01;800;47.8990;1.9120
Quai Châtelet;2025-02-01;950;47.8990;1.9120
Avenue de Paris;2025-01-01;400;47.9150;1.9000
Avenue de Paris;2025-02-01;450;47.9150;1.9000
"""
SUBSIDIES_CSV = """association;montant;secteur
Club de football;1500,50;Sport
Chorale des Écoles;800;Culture
Les Amis du Théâtre;2300;Culture
Vélo Solidaire;1200;Sport
"""


@dataclass
class PortalWorld:
    counters: Dataset
    subsidies: Dataset
    canteen: Dataset
    internal: Dataset
    closed: Dataset
    stored: Dataset
    org_slug: str
    other_org_slug: str


def portal_world(services: Services, tmp_path: Path) -> PortalWorld:
    """Two organisations, open published datasets (two with data, one with positions), and
    internal, restricted and unpublished ones."""
    with services.db.unit_of_work() as s:
        metro = organisation(s, "Métropole du Val")
        ville = organisation(s, "Ville de Test")
        published = {"access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED}
        counters = dataset(
            s, metro, "Comptages vélo", theme="Mobilité", licence="etalab-2.0",
            keywords=["vélo", "comptage"], update_frequency=UpdateFrequency.MONTHLY,
            description="Passages de **vélos** aux compteurs permanents.",
            spatial_coverage="Métropole du Val", temporal_start=date(2025, 1, 1),
            temporal_end=date(2025, 12, 31), **published)
        subsidies = dataset(
            s, ville, "Subventions aux associations", theme="Vie associative",
            licence="ODbL", keywords=["associations"],
            description="Montants votés en 2025. <script>alert(1)</script>", **published)
        canteen = dataset(
            s, ville, "Fréquentation des cantines scolaires", theme="Éducation",
            licence="Licence Ouverte 2.0", keywords=["école"], **published)
        internal = dataset(
            s, ville, "Annuaire interne des agents", theme="Ressources humaines",
            access_level=AccessLevel.INTERNAL, lifecycle_stage=LifecycleStage.PUBLISHED)
        closed = dataset(
            s, ville, "Dossiers sociaux confidentiels", theme="Social",
            access_level=AccessLevel.RESTRICTED, lifecycle_stage=LifecycleStage.PUBLISHED)
        stored = dataset(
            s, ville, "Énergie brouillon non publié", theme="Énergie",
            access_level=AccessLevel.OPEN, lifecycle_stage=LifecycleStage.STORED)
        world = PortalWorld(counters, subsidies, canteen, internal, closed, stored, metro.slug,
                            ville.slug)
    load(services, counters, write(tmp_path, "compteurs.csv", COUNTERS_CSV))
    load(services, subsidies, write(tmp_path, "subventions.csv", SUBSIDIES_CSV))
    load(services, closed, write(tmp_path, "secret.csv", "nom;montant\nDupont;12\n"))
    return world


# ------------------------------------------------------- a table of persons (protection)

FIRST = ["Jean", "Marie", "Pierre", "Sophie", "Luc", "Claire", "Paul", "Julie", "Michel",
         "Anne", "Nicolas", "Isabelle"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent"]
# Four classes of quasi-identifiers (sexe, annee, commune), of sizes 3, 2, 1 and 4.
KNOWN_CLASSES_CSV = """sexe,annee,commune,valeur
F,1980,Orléans,1
F,1980,Orléans,2
F,1980,Orléans,3
M,1980,Orléans,4
M,1980,Orléans,5
F,1990,Olivet,6
M,1990,Olivet,7
M,1990,Olivet,8
M,1990,Olivet,9
M,1990,Olivet,10
"""


def persons_csv(n: int = 40) -> str:
    lines = ["prenom,nom,email,date_naissance,age,code_postal,latitude,longitude,montant"]
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 5) % len(LAST)]
        lines.append(
            f"{first},{last},{first.lower()}.{last.lower()}{i}@exemple.fr,"
            f"19{50 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d},{20 + i % 50},"
            f"{['45000', '20090', '97411', '13001', '20200'][i % 5]},"
            f"{47.9 + i * 0.00137:.6f},{1.9 + i * 0.00091:.6f},{100 + i}"
        )
    return "\n".join(lines) + "\n"


@dataclass
class PersonsWorld:
    dataset: Dataset
    version: DatasetVersion
    dpo: Principal
    editor: Principal
    other_dpo: Principal
    reader: Principal


def persons_world(services: Services, tmp_path: Path, text: str | None = None) -> PersonsWorld:
    """A table of persons loaded as a dataset version, and the principals who act on it."""
    path = write(tmp_path, "usagers.csv", text or persons_csv())
    with services.db.unit_of_work() as s:
        org = organisation(s)
        other = organisation(s, "Commune voisine")
        entry = dataset(s, org, title="Usagers de la médiathèque")
        dpo = account(s, "dpo@ville.fr", roles=[(org, Role.DPO, None)])
        editor = account(s, "cdo@ville.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        other_dpo = account(s, "dpo@voisine.fr", roles=[(other, Role.DPO, None)])
        reader = account(s, "agent@ville.fr", roles=[(org, Role.AGENT, None)])
        version = ingest(s, services.settings, SYSTEM, entry, path)
        ids = dpo.id, editor.id, other_dpo.id, reader.id
    return PersonsWorld(entry, version, *(principal(services, i) for i in ids))


# ------------------------------------------------------- Ligérac's publication workflow

REFERENT = "referent@ligerac.fr"
CDO = "agd@ligerac.fr"
AGENT = "agent@ligerac.fr"
OTHER_REFERENT = "referent.sports@ligerac.fr"

DESCRIPTION = ("Nombre de passages de vélos enregistrés chaque jour par les compteurs "
               "permanents de la ville.")
LIGERAC_COUNTERS_CSV = ("compteur;date;passages;code_insee;latitude;longitude\n"
                        + "".join(f"Écluse {i % 3};2025-01-{1 + i % 28:02d};{100 + i};"
                                  f"45{i % 10:03d};47,9{i % 10};1,90{i % 7}\n"
                                  for i in range(60)))


@dataclass
class Ligerac:
    org_id: int
    slug: str
    sports_slug: str


def ligerac(db: Database, *, licence: str | None = "Licence Ouverte 2.0",
            description: str = DESCRIPTION) -> Ligerac:
    """A town with a referent per department, a chief data officer and an agent; an internal
    dataset ready to be published (counters) and another department's (swimming pools)."""
    with db.unit_of_work() as s:
        ville = organisation(s, "Ville de Ligérac")
        mobility = department(s, ville, "Mobilités")
        sports = department(s, ville, "Sports")
        counters = dataset(s, ville, "Comptages vélo", department=mobility,
                           description=description, licence=licence, theme="Mobilité",
                           access_level=AccessLevel.INTERNAL, contains_personal_data=False)
        piscines = dataset(s, ville, "Entrées des piscines", department=sports,
                           description=DESCRIPTION, licence="ODbL")
        account(s, REFERENT, roles=[(ville, Role.DATA_REFERENT, mobility)])
        account(s, OTHER_REFERENT, roles=[(ville, Role.DATA_REFERENT, sports)])
        account(s, CDO, roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
        account(s, AGENT, roles=[(ville, Role.AGENT, mobility)])
        return Ligerac(ville.id, counters.slug, piscines.slug)


# ------------------------------------------------------- retention's subscribers


def subscribers_csv(years: range = range(2015, 2025)) -> str:
    lines = ["nom,email,date_fin_abonnement,montant"]
    for i, year in enumerate(years):
        for month in (1, 6, 12):
            lines.append(f"Personne {i}-{month},p{i}.{month}@exemple.fr,"
                         f"{year}-{month:02d}-{28 if month != 12 else 31},{10 + i}")
    return "\n".join(lines) + "\n"


@dataclass
class RetentionWorld:
    org_id: int
    dataset: Dataset


def retention_world(services: Services, title: str = "Abonnés de la médiathèque"
                    ) -> RetentionWorld:
    with services.db.unit_of_work() as s:
        org = organisation(s)
        dep = department(s, org, "Médiathèques")
        entry = dataset(s, org, title, dep)
        return RetentionWorld(org.id, entry)


def set_rule(services: Services, entry: Dataset, **rule: Any) -> None:
    with services.db.unit_of_work() as s:
        current = s.get(Dataset, entry.id)
        assert current is not None
        retention_rules.set_rule(s, SYSTEM, current, rule)


def in_years(n: int) -> date:
    today = date.today()
    return date(today.year + n, today.month, min(today.day, 28))


# ------------------------------------------------------- a closed dataset and its grantees

GRANTS_SLUG = "badges-riverains"


@dataclass
class GrantsWorld:
    tokens: dict[str, str]  # API token by email

    def get(self, client: TestClient, email: str, path: str, **params: object) -> Any:
        return client.get(f"{DATASETS_API}/{GRANTS_SLUG}{path}", params=params or None,
                          headers={"Authorization": f"Bearer {self.tokens[email]}"})

    def post(self, client: TestClient, email: str, path: str, body: object) -> Any:
        return client.post(f"{DATASETS_API}/{GRANTS_SLUG}{path}", json=body,
                           headers={"Authorization": f"Bearer {self.tokens[email]}"})


def grants_world(db: Database, settings: Settings) -> GrantsWorld:
    """A restricted dataset with a version; the town's managers, two outsiders, a partner,
    each with an API token."""
    with db.unit_of_work() as s:
        ville = organisation(s)
        autre = organisation(s, "Autre Ville")
        asso = organisation(s, "Association Partenaire")
        dep = department(s, ville)
        closed = dataset(s, ville, "Badges riverains", access_level=AccessLevel.RESTRICTED)
        parquet_version(settings, s, closed, EQUIPEMENTS_SQL)
        roles = {
            "cdo@ville.fr": [(ville, Role.CHIEF_DATA_OFFICER, None)],
            "dpo@ville.fr": [(ville, Role.DPO, None)],
            "referent@ville.fr": [(ville, Role.DATA_REFERENT, dep)],
            "alice@autre.fr": [(autre, Role.AGENT, None)],
            "bob@autre.fr": [(autre, Role.AGENT, None)],
            "asso@partenaire.fr": [(asso, Role.PARTNER, None)],
        }
        tokens = {}
        for email, its_roles in roles.items():
            acc = account(s, email, roles=its_roles)
            tokens[email] = accounts.create_api_token(s, acc, "tests")[1]
        return GrantsWorld(tokens)


# ------------------------------------------------------- the register


def full_activity(organisation_id: int, **fields: Any) -> ActivityInput:
    """A processing activity with every field of the CNIL model filled."""
    values: dict[str, Any] = {
        "organisation_id": organisation_id,
        "reference": "T-0001",
        "name": "Gestion des dossiers d'aide sociale facultative",
        "status": "active",
        "department": "Action sociale",
        "description": "Instruction des demandes d'aides facultatives du CCAS.",
        "controller_representative": "Le président du CCAS",
        "joint_controllers": [{"name": "Département du Loiret", "contact": "dpo@loiret.example"}],
        "processors": [
            {"name": "Éditeur Solis", "contract_reference": "MAR-2024-017",
             "contact": "rgpd@solis.example"},
            {"name": "Hébergeur Numérique Sud", "contract_reference": "MAR-2023-002"},
        ],
        "dpo_name": "Nadia Benali",
        "dpo_contact": "dpo@valdeloire.example",
        "purpose": "Instruire et attribuer les aides sociales facultatives",
        "sub_purposes": ["Instruction des dossiers", "Paiement des aides", "Statistiques"],
        "legal_basis": "public_task",
        "legal_basis_details": "Code de l'action sociale et des familles, L123-5",
        "art9_condition": "h",
        "data_subjects": ["Usagers", "Membres du foyer"],
        "estimated_data_subjects": 4200,
        "data_categories": [
            {"category": "identity", "details": "Nom; prénom | adresse"},
            {"category": "economic_financial", "details": "Ressources, RIB"},
            {"category": "personal_life"},
        ],
        "special_categories": ["health", "nir"],
        "recipients": [{"name": "Agents instructeurs", "kind": "internal"},
                       {"name": "Trésorerie", "kind": "external"},
                       {"name": "Éditeur Solis", "kind": "processor"}],
        "transfers": [{"recipient": "Support éditeur", "country": "Maroc",
                       "safeguard": "standard_clauses", "details": "Télémaintenance"}],
        "retention_rules": [
            {"data_category": "identity", "duration": 5, "unit": "years",
             "start_event": "la clôture du dossier", "final_fate": "archives",
             "legal_reference": "Instruction DPACI/RES/2009/018"},
            {"data_category": "economic_financial", "duration": 10, "unit": "years",
             "start_event": "le dernier paiement", "final_fate": "destruction"},
            {"data_category": "personal_life", "duration": 18, "unit": "months",
             "start_event": "la décision", "final_fate": "anonymisation"},
        ],
        "security_measures": [{"measure": "access_control", "details": "Profils par service"},
                              {"measure": "backup"}, {"measure": "encryption"}],
        "data_sources": ["data_subject", "other_administration"],
        "source_details": "CAF (CDAP)",
        "linked_datasets": [],
        "linked_applications": ["Solis ASG", "Parapheur"],
        "dpia_criteria": ["sensitive_data", "vulnerable_persons"],
        "dpia_exemption": None,
    }
    values.update(fields)
    return ActivityInput.model_validate(values)


# ------------------------------------------------------- the demo territory with versions

TREES_CSV = """essence;hauteur;plantation;commune;latitude;longitude
Platane;21;1990-03-01;Ligérac;47.9010;1.9050
Tilleul;12,5;2001-11-15;Ligérac;47.8990;1.9120
Platane;18;1985-04-20;Belvoir-sur-Loire;47.9150;1.9000
Chêne;25;1970-01-10;Montaigu-la-Rivière;47.9200;1.8800
Érable;9;2015-10-05;Ligérac;47.9050;1.9100
Tilleul;14;1999-02-02;Varennes-les-Saules;47.8800;1.9300
Platane;23;1980-06-30;Ligérac;47.9020;1.9060
"""
BUDGET_CSV = """poste;montant;annee
Voirie;120000;2024
Écoles;80000,50;2024
Culture;45000;2024
"""


@dataclass
class DemoTerritory:
    services: Services
    trees: Dataset
    budget: Dataset
    closed: Dataset
    internal: Dataset
    unpublished: Dataset


def demo_territory(database_url: str, tmp: Path, public_url: str = "http://testserver"
                   ) -> DemoTerritory:
    """The demo inventory (without its published datasets) in a new store, plus real versions
    on two public datasets (one with positions, so GeoJSON is offered) and on a closed one,
    every optional field filled on one entry, none on the other."""
    settings = Settings(data_dir=tmp / "data", database_url=database_url,
                        secret_key="test-secret-key", public_url=public_url)
    services = bootstrap(settings)
    with services.db.unit_of_work() as s:
        load_demo(s, password=PASSWORD)
    with services.db.unit_of_work() as s:
        # The public entries, none with data yet (so none exported yet).
        first, second = list(s.scalars(public.public_query().order_by(Dataset.id)))[:2]
        org = first.organisation
        closed = dataset(
            s, org, "Dossiers sociaux nominatifs", theme="Social",
            access_level=AccessLevel.RESTRICTED, lifecycle_stage=LifecycleStage.PUBLISHED,
            licence="etalab-2.0")
        internal = dataset(
            s, org, "Annuaire interne des agents", theme="Administration",
            access_level=AccessLevel.INTERNAL, lifecycle_stage=LifecycleStage.PUBLISHED)
        unpublished = dataset(
            s, org, "Brouillon de jeu ouvert", theme="Culture", access_level=AccessLevel.OPEN,
            lifecycle_stage=LifecycleStage.STORED, licence="etalab-2.0")
        first.temporal_start, first.temporal_end = date(2020, 1, 1), date(2025, 12, 31)
        first.spatial_coverage = "Ligérac"
        first.update_frequency = UpdateFrequency.ANNUAL
        first.keywords = ["arbres", "patrimoine arboré"]
        first.licence = "etalab-2.0"
        second.licence = "ODbL"
        ids = (first.id, second.id, closed.id, internal.id, unpublished.id)
    load(services, first, write(tmp, "arbres.csv", TREES_CSV))
    load(services, second, write(tmp, "budget.csv", BUDGET_CSV))
    load(services, closed, write(tmp, "secret.csv", "nom;montant\nDupont;12\n"))
    with services.db.session() as s:
        found = {d.id: d for d in s.scalars(select(Dataset).where(Dataset.id.in_(ids))
                                            .options(selectinload(Dataset.organisation)))}
    return DemoTerritory(services, *(found[i] for i in ids))


def full_algorithm(organisation_id: int, **fields: Any) -> Any:
    """A complete algorithm of the public register (ready to publish), as the service takes it."""
    from patrimoine.transparency.service import AlgorithmInput
    values: dict[str, Any] = {
        "organisation_id": organisation_id, "name": "Tarification solidaire des transports",
        "department": "Mobilités", "contact": "transparence@example.fr",
        "purpose": "Calculer la réduction sur l'abonnement de transport selon les ressources.",
        "legal_basis": "Délibération du conseil métropolitain ; article L1113-1 du code des "
                       "transports.",
        "decisions_per_year": 42000, "public_concerned": "Foyers résidant dans la métropole",
        "automation": "fully_automated", "kind": "rules",
        "parameters": [{"name": "Quotient familial", "description": "Ressources / parts",
                        "weight": "Détermine la tranche"},
                       {"name": "Nombre de parts", "description": "Composition du foyer"}],
        "operations": "Le quotient est calculé puis comparé aux seuils des quatre tranches.",
        "human_oversight": "Un agent vérifie les pièces justificatives.",
        "appeal": "Recours gracieux auprès du service Mobilités.",
        "risks": "Erreur de déclaration des ressources.",
        "source_code_url": "https://git.example.fr/tarifs", "source_code_licence": "EUPL-1.2",
        "documents": {"description": {"url": "https://example.fr/desc.pdf",
                                      "title": "Description"}},
        "status": "published", "published_on": date(2026, 3, 1),
        "review_on": date(2027, 3, 1)}
    return AlgorithmInput.model_validate({**values, **fields})
