"""A dozen published open datasets for the demo territory, so that the portal has real data.

Each table is generated from the step's seeded random source as a file in the format a
department would send (CSV in UTF-8 or Windows-1252 with `;` and decimal commas, tab-separated
text, XLSX, JSON, GeoJSON, Parquet), then goes through the real workflow: the ingest
(`publication.add_version`, sniffing included) and the publication with its checks
(metadata, personal-data gate). Slugs are fixed, so URLs stay stable from one load to the next.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from patrimoine.access.principal import Principal
from patrimoine.demo import vocabulary as v
from patrimoine.demo.territory import METROPOLE, SPECS, VILLE, DemoContext
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import (
    AccessLevel,
    LifecycleStage,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)
from patrimoine.inventory.service import DatasetInput
from patrimoine.protection.findings import service as findings
from patrimoine.protection.findings.models import NOT_PERSONAL
from patrimoine.publication import service as publication
from patrimoine.standards import validation

# The territory sits on the Loire; every position falls inside this box.
LAT, LON = 47.47, 0.70
START, END = date(2023, 1, 1), date(2024, 12, 31)
CITY_SIRET = "21370261600011"  # the Ville de Ligérac's SIRET (SIREN and SIRET keys right)


@dataclass
class Spec:
    slug: str
    title: str
    org_key: str
    department: str | None
    theme: str
    keywords: list[str]
    frequency: UpdateFrequency
    licence: str
    description: str
    filename: str
    write: Callable[[random.Random, Path], None]
    temporal: tuple[date, date] | None = (START, END)
    overrides: dict[str, Any] = field(default_factory=dict)
    # The national schema the data follows (shipped name), declared before publication: its
    # downloads conform to it (tests/integration/demo/test_demo_schemas.py checks them).
    schema: str | None = None
    # Scanner findings the DPO dismisses before publication: (column, kind, reason).
    dismissed: tuple[tuple[str, str, str], ...] = ()


def _days(start: date = START, end: date = END) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _near(rng: random.Random, spread: float = 0.06) -> tuple[float, float]:
    return (round(LAT + rng.uniform(-spread, spread), 6),
            round(LON + rng.uniform(-spread * 1.5, spread * 1.5), 6))


def _comma(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _csv(path: Path, header: list[str], rows: list[list[Any]], *, delimiter: str = ",",
         encoding: str = "utf-8") -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


STREETS = ("rue Nationale", "quai de Loire", "avenue de Grammont", "boulevard Béranger",
           "rue du Commerce", "place Plumereau", "rue Colbert", "avenue de la République",
           "rue des Halles", "boulevard Heurteloup", "rue Édouard-Vaillant", "quai Paul-Bert",
           "allée des Tilleuls", "rue de la Fuye", "avenue Maginot", "rue Victor-Hugo")
DISTRICTS = ("Centre", "Rives de Loire", "Les Tilleuls", "Saint-Florent", "Beaujardin",
             "Montjoyeux", "Les Fontaines", "Belvoir", "Varennes", "Sanitas")


# ----------------------------------------------------------------------- the tables


def bicycle_counters(rng: random.Random, path: Path) -> None:
    counters = []
    for i, street in enumerate(STREETS[:14] + ("pont Wilson", "passerelle Fil-de-Loire"), 1):
        lat, lon = _near(rng, 0.03)
        counters.append((f"CPT-{i:03d}", f"Compteur {street}", rng.randint(250, 2600), lat, lon))
    rows = []
    for day in _days():
        season = 1 + 0.35 * math.sin((day.timetuple().tm_yday - 100) / 365 * 2 * math.pi)
        week = 0.62 if day.weekday() >= 5 else 1.0
        for cid, name, base, lat, lon in counters:
            count = max(0, int(base * season * week * rng.uniform(0.8, 1.2)))
            rows.append([cid, name, day.isoformat(), count, lat, lon])
    _csv(path, ["compteur_id", "compteur", "date", "passages", "latitude", "longitude"], rows)


PARKINGS = (("P+R Gare de Belvoir", 420), ("P+R Les Tilleuls", 310), ("P+R Varennes Sud", 180),
            ("P+R Saint-Florent Tram", 520), ("P+R Beaujardin", 260), ("P+R Montjoyeux", 150),
            ("P+R Rives de Loire", 380))


def park_and_ride(rng: random.Random, path: Path) -> None:
    places = [(name, capacity, *_near(rng, 0.07)) for name, capacity in PARKINGS]
    rows = []
    for day in _days(date(2024, 1, 1)):
        weekday = day.weekday() < 5
        for hour in range(6, 22):
            peak = math.exp(-((hour - 11) ** 2) / 18)
            for name, capacity, lat, lon in places:
                rate = min(1.0, (0.85 if weekday else 0.3) * peak * rng.uniform(0.85, 1.1)
                           + 0.03)
                used = int(capacity * rate)
                stamp = datetime(day.year, day.month, day.day, hour).strftime("%d/%m/%Y %H:%M")
                rows.append([name, stamp, capacity, used, _comma(100 * used / capacity, 1),
                             _comma(lat, 6), _comma(lon, 6)])
    _csv(path, ["parking", "date_heure", "capacite", "places_occupees", "taux_occupation",
                "latitude", "longitude"], rows, delimiter=";")


ASSOCIATION_KINDS = (
    ("Union sportive", "Sport", "Fonctionnement du club et école de sport"),
    ("Club de judo", "Sport", "Participation aux compétitions régionales"),
    ("Compagnie théâtrale", "Culture", "Création d'un spectacle jeune public"),
    ("Chorale", "Culture", "Concerts de fin d'année"),
    ("Amicale laïque", "Éducation populaire", "Accompagnement à la scolarité"),
    ("Comité de quartier", "Vie des quartiers", "Fête de quartier et repas partagé"),
    ("Banque alimentaire", "Solidarité", "Aide alimentaire aux familles"),
    ("Jardins partagés", "Environnement", "Animation des jardins partagés"),
    ("Festival", "Culture", "Organisation du festival d'été"),
    ("Association des commerçants", "Commerce", "Animations commerciales de Noël"),
)


def _luhn(digits: str) -> str:
    """`digits` followed by the Luhn check digit: a SIRET or SIREN whose key is right."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (1 if i % 2 else 2)
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


def subsidies(rng: random.Random, path: Path) -> None:
    """SCDL subventions 2.1.1: its sixteen columns in its order, as a finance department
    exports them from a spreadsheet (Windows-1252, `;`, decimal commas)."""
    beneficiaries = []
    for i in range(260):
        kind, sector, purpose = rng.choice(ASSOCIATION_KINDS)
        district = rng.choice(DISTRICTS)
        siren = _luhn(f"{rng.randint(30_000_000, 89_999_999)}")
        siret = _luhn(f"{siren}{i % 1_000:04d}")
        rna = f"W37{rng.randint(0, 9_999_999):07d}" if rng.random() < 0.8 else ""
        beneficiaries.append((f"{kind} {district}", siret, rna, sector, purpose))
    rows = []
    for year in (2022, 2023, 2024):
        for council, (month, day) in enumerate(((3, 14), (6, 27), (11, 21)), 1):
            decision = f"DEL-{year}-{council:02d}"
            for name, siret, rna, _sector, purpose in rng.sample(beneficiaries, 95):
                amount = rng.choice((300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000, 12000,
                                     25000))
                signed = date(year, month, day) + timedelta(days=rng.randint(5, 40))
                paid = rng.choice(("unique", "échelonné"))
                first = signed + timedelta(days=rng.randint(10, 60))
                period = (first.isoformat() if paid == "unique" else
                          f"{first.isoformat()}/{(first + timedelta(days=180)).isoformat()}")
                rows.append(["Ville de Ligérac", CITY_SIRET, signed.isoformat(), decision,
                             name, siret, rna, purpose,
                             _comma(amount * rng.uniform(0.9, 1.0), 2), "aide en numéraire",
                             paid, period, "", "non", _comma(rng.uniform(0.05, 0.8), 2), ""])
    _csv(path, ["nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision",
                "nomBeneficiaire", "idBeneficiaire", "rnaBeneficiaire", "objet", "montant",
                "nature", "conditionsVersement", "datesPeriodeVersement", "idRAE",
                "notificationUE", "pourcentageSubvention", "dispositifAide"], rows,
         delimiter=";", encoding="cp1252")


SCHOOLS = ("Jules-Ferry", "Les Tilleuls", "Paul-Bert", "Marie-Curie", "Jean-Macé",
           "La Fontaine", "Saint-Exupéry", "Victor-Hugo", "Les Prés", "George-Sand",
           "Camille-Claudel", "Les Rives", "Louis-Pasteur", "Jacques-Prévert")


def canteens(rng: random.Random, path: Path) -> None:
    holidays = {(10, 23), (10, 30), (12, 25), (1, 1), (2, 19), (2, 26), (4, 15), (4, 22),
                (5, 1), (5, 8)}
    schools = [(f"École {name}", rng.randint(90, 380)) for name in SCHOOLS]
    rows = []
    for day in _days(date(2023, 9, 4), date(2024, 7, 5)):
        monday = day - timedelta(days=day.weekday())
        if day.weekday() in (2, 5, 6) or (monday.month, monday.day) in holidays:
            continue
        for school, enrolled in schools:
            served = int(enrolled * rng.uniform(0.78, 0.95))
            rows.append([school, day.isoformat(), enrolled, served,
                         int(served * rng.uniform(0.08, 0.2))])
    _csv(path, ["ecole", "date", "inscrits", "repas_servis", "repas_vegetariens"], rows)


BUILDING_KINDS = (("Groupe scolaire", 2600), ("Gymnase", 1800), ("Médiathèque", 1200),
                  ("Hôtel de ville", 4200), ("Centre social", 900), ("Piscine", 3100),
                  ("Crèche", 600), ("Salle des fêtes", 750), ("Centre technique", 2200))


def energy(rng: random.Random, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # A fixed creation date: the same demo makes the same file, byte for byte.
    book.set_properties({"created": datetime(2025, 1, 6, 9, 0)})
    sheet = book.add_worksheet("Consommations")
    header = ["batiment", "categorie", "surface_m2", "mois", "electricite_kwh", "gaz_kwh",
              "chaleur_kwh"]
    sheet.write_row(0, 0, header)
    buildings = []
    for i in range(72):
        kind, surface = rng.choice(BUILDING_KINDS)
        buildings.append((f"{kind} {rng.choice(DISTRICTS)} n° {i + 1}", kind,
                          int(surface * rng.uniform(0.6, 1.5)), rng.random() < 0.3))
    row = 1
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            winter = 1 + 0.9 * math.cos((month - 1) / 12 * 2 * math.pi)
            for name, kind, surface, district_heat in buildings:
                elec = surface * rng.uniform(3.5, 6.0) * (1 + 0.15 * winter)
                heat = surface * rng.uniform(6, 11) * winter
                sheet.write_row(row, 0, [name, kind, surface, f"{year}-{month:02d}-01",
                                         round(elec), 0 if district_heat else round(heat),
                                         round(heat) if district_heat else 0])
                row += 1
    book.close()


TREES = (("Platanus", "Platanus x acerifolia", "Platane commun"),
         ("Tilia", "Tilia cordata", "Tilleul à petites feuilles"),
         ("Acer", "Acer platanoides", "Érable plane"),
         ("Quercus", "Quercus robur", "Chêne pédonculé"),
         ("Carpinus", "Carpinus betulus", "Charme commun"),
         ("Prunus", "Prunus avium", "Merisier"),
         ("Celtis", "Celtis australis", "Micocoulier de Provence"),
         ("Fraxinus", "Fraxinus excelsior", "Frêne commun"),
         ("Ginkgo", "Ginkgo biloba", "Arbre aux quarante écus"),
         ("Liquidambar", "Liquidambar styraciflua", "Copalme d'Amérique"))


def trees(rng: random.Random, path: Path) -> None:
    features = []
    for i in range(9000):
        genus, species, common = rng.choices(TREES, weights=(9, 8, 6, 4, 4, 3, 3, 2, 1, 1))[0]
        planted = rng.randint(1950, 2023)
        age = 2024 - planted
        lat, lon = _near(rng, 0.05)
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {
                             "identifiant": f"ARB-{i + 1:05d}", "genre": genus,
                             "espece": species, "nom_francais": common,
                             "hauteur_m": round(min(32.0, 2 + age * rng.uniform(0.2, 0.4)), 1),
                             "circonference_cm": int(15 + age * rng.uniform(2.0, 3.5)),
                             "annee_plantation": planted,
                             "quartier": rng.choice(DISTRICTS)}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")


TOILET_PLACES = ("Jardin botanique", "Gare routière", "Halles centrales", "Parc des Prébendes",
                 "Bords de Loire", "Cimetière de la Salle", "Marché aux fleurs",
                 "Esplanade du château", "Stade municipal", "Base nautique", "Aire de jeux",
                 "Parvis de la cathédrale")


def toilets(rng: random.Random, path: Path) -> None:
    rows = []
    for i in range(48):
        place = f"{TOILET_PLACES[i % len(TOILET_PLACES)]} {i // len(TOILET_PLACES) + 1}"
        lat, lon = _near(rng, 0.05)
        automatic = rng.random() < 0.6
        rows.append([f"WC-{i + 1:03d}", place, rng.choice(DISTRICTS),
                     "sanitaire automatique" if automatic else "toilettes en bâtiment",
                     "oui" if rng.random() < 0.8 else "non", "oui",
                     "24 h sur 24" if automatic else "8 h - 20 h", _comma(lat, 6),
                     _comma(lon, 6)])
    _csv(path, ["identifiant", "lieu", "quartier", "type", "acces_pmr", "gratuit", "horaires",
                "latitude", "longitude"], rows, delimiter=";", encoding="latin-1")


LIBRARIES = (("Médiathèque des Tilleuls", 4.0), ("Bibliothèque des Rives", 1.6),
             ("Bibliothèque Beaujardin", 1.1), ("Médiabus", 0.5),
             ("Bibliothèque Saint-Florent", 0.8))
DOCUMENTS = (("Livres adultes", 1400), ("Livres jeunesse", 1700), ("Bandes dessinées", 650),
             ("Films", 380), ("Musique", 140), ("Jeux vidéo", 120), ("Revues", 210))


def library_loans(rng: random.Random, path: Path) -> None:
    rows = []
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            summer = 0.7 if month == 8 else (1.15 if month in (7, 12) else 1.0)
            for library, weight in LIBRARIES:
                for kind, base in DOCUMENTS:
                    rows.append([library, f"{year}-{month:02d}", kind,
                                 int(base * weight * summer * rng.uniform(0.85, 1.15))])
    _csv(path, ["bibliotheque", "mois", "type_document", "prets"], rows, delimiter="\t")


FLOWS = (("Ordures ménagères résiduelles", 1900), ("Collecte sélective", 520), ("Verre", 310),
         ("Biodéchets", 140), ("Encombrants", 95))


def waste(rng: random.Random, path: Path) -> None:
    communes = [(spec.place, weight) for spec, weight in
                ((SPECS[VILLE], 1.0), (SPECS["belvoir"], 0.22), (SPECS["saint-florent"], 0.18),
                 (SPECS["montaigu"], 0.12), (SPECS["varennes"], 0.09))]
    records = []
    for year in (2021, 2022, 2023, 2024):
        for month in range(1, 13):
            for commune, weight in communes:
                for flow, base in FLOWS:
                    trend = 1 - 0.02 * (year - 2021) if flow.startswith("Ordures") else 1.0
                    records.append({"commune": commune, "annee": year, "mois": month,
                                    "flux": flow,
                                    "tonnes": round(base * weight * trend
                                                    * rng.uniform(0.9, 1.1), 1)})
    path.write_text(json.dumps(records, ensure_ascii=False, indent=0), encoding="utf-8")


CHAPTERS = (("011", "Charges à caractère général", "fonctionnement", "dépense"),
            ("012", "Charges de personnel et frais assimilés", "fonctionnement", "dépense"),
            ("65", "Autres charges de gestion courante", "fonctionnement", "dépense"),
            ("66", "Charges financières", "fonctionnement", "dépense"),
            ("70", "Produits des services, du domaine et ventes", "fonctionnement", "recette"),
            ("73", "Impôts et taxes", "fonctionnement", "recette"),
            ("74", "Dotations, subventions et participations", "fonctionnement", "recette"),
            ("20", "Immobilisations incorporelles", "investissement", "dépense"),
            ("21", "Immobilisations corporelles", "investissement", "dépense"),
            ("23", "Immobilisations en cours", "investissement", "dépense"),
            ("16", "Emprunts et dettes assimilées", "investissement", "recette"),
            ("13", "Subventions d'investissement", "investissement", "recette"))
FUNCTIONS = (("0", "Services généraux"), ("1", "Sécurité et salubrité publiques"),
             ("2", "Enseignement - formation"), ("3", "Culture"), ("4", "Sport et jeunesse"),
             ("5", "Interventions sociales et santé"), ("6", "Famille"), ("7", "Logement"),
             ("8", "Aménagement et services urbains, environnement"),
             ("9", "Action économique"))


def budget(rng: random.Random, path: Path) -> None:
    rows = []
    for year in (2022, 2023, 2024):
        for code, chapter, section, direction in CHAPTERS:
            for fcode, function in FUNCTIONS:
                if rng.random() < 0.3:
                    continue
                for nature in range(rng.randint(1, 4)):
                    amount = rng.lognormvariate(11, 1.3) * (1 + 0.03 * (year - 2022))
                    rows.append([year, "Budget primitif", section, direction, code, chapter,
                                 fcode, function, f"{code}{nature + 1}",
                                 round(amount, 2)])
    _csv(path, ["exercice", "type_budget", "section", "sens", "chapitre", "libelle_chapitre",
                "fonction", "libelle_fonction", "nature", "montant"], rows)


SUBJECTS = (("7.1", "Finances locales - Décisions budgétaires", "Budget primitif {y}"),
            ("7.5", "Finances locales - Subventions", "Attribution de subventions aux "
             "associations sportives"),
            ("1.1", "Commande publique - Marchés publics", "Marché de restauration scolaire "
             "- attribution"),
            ("2.1", "Urbanisme - Documents d'urbanisme", "Modification simplifiée du plan "
             "local d'urbanisme"),
            ("3.1", "Domaine et patrimoine - Acquisitions", "Acquisition d'une parcelle "
             "quai de Loire"),
            ("4.1", "Fonction publique - Personnels titulaires", "Mise à jour du tableau des "
             "effectifs"),
            ("8.1", "Domaines de compétences - Enseignement", "Tarifs de la restauration "
             "scolaire {y}"),
            ("8.9", "Domaines de compétences - Culture", "Convention avec le festival d'été"),
            ("5.7", "Institutions - Intercommunalité", "Rapport d'activité de la métropole"),
            ("9.1", "Autres domaines - Vœux et motions", "Vœu pour la sauvegarde du fret "
             "ferroviaire"))


DELIBERATION_FIELDS = (
    ("COLL_NOM", pa.string()), ("COLL_SIRET", pa.string()), ("DELIB_ID", pa.string()),
    ("DELIB_DATE", pa.date32()), ("DELIB_MATIERE_CODE", pa.string()),
    ("DELIB_MATIERE_NOM", pa.string()), ("DELIB_OBJET", pa.string()),
    ("BUDGET_ANNEE", pa.string()), ("BUDGET_NOM", pa.string()), ("PREF_ID", pa.string()),
    ("PREF_DATE", pa.date32()), ("VOTE_EFFECTIF", pa.int64()), ("VOTE_REEL", pa.int64()),
    ("VOTE_POUR", pa.int64()), ("VOTE_CONTRE", pa.int64()), ("VOTE_ABSTENTION", pa.int64()),
    ("DELIB_URL", pa.string()))


def deliberations(rng: random.Random, path: Path) -> None:
    """SCDL délibérations 2.1.5: its seventeen columns in its order, typed (Parquet)."""
    columns: dict[str, list[Any]] = {name: [] for name, _ in DELIBERATION_FIELDS}
    for year in (2022, 2023, 2024):
        for month in (1, 3, 5, 6, 9, 10, 12):
            sitting = date(year, month, rng.randint(8, 26))
            for n in range(rng.randint(10, 22)):
                code, matter, subject = rng.choice(SUBJECTS)
                members = 45
                present = rng.randint(35, members)
                against = rng.choice((0, 0, 0, 2, 5, 9))
                abstain = rng.choice((0, 0, 1, 3))
                delib_id = f"{year}-{month:02d}-{n + 1:03d}"
                budget = code == "7.1"
                values = ["Ville de Ligérac", CITY_SIRET, delib_id, sitting, code, matter,
                          subject.format(y=year), str(year) if budget else None,
                          "Budget principal" if budget else None,
                          f"037-{CITY_SIRET[:9]}-{sitting:%Y%m%d}-{delib_id}-DE",
                          sitting + timedelta(days=rng.randint(2, 9)), members, present,
                          present - against - abstain, against, abstain,
                          f"https://www.ligerac.example/deliberations/{delib_id}.pdf"]
                for name, value in zip(columns, values, strict=True):
                    columns[name].append(value)
    schema = pa.schema([pa.field(name, kind) for name, kind in DELIBERATION_FIELDS])
    pq.write_table(pa.table(columns, schema=schema), path)


IRVE_COLUMNS = (
    "nom_amenageur", "siren_amenageur", "contact_amenageur", "nom_operateur",
    "contact_operateur", "telephone_operateur", "nom_enseigne", "id_station_itinerance",
    "id_station_local", "nom_station", "implantation_station", "adresse_station",
    "code_insee_commune", "coordonneesXY", "nbre_pdc", "id_pdc_itinerance", "id_pdc_local",
    "puissance_nominale", "prise_type_ef", "prise_type_2", "prise_type_combo_ccs",
    "prise_type_chademo", "prise_type_autre", "gratuit", "paiement_acte", "paiement_cb",
    "paiement_autre", "tarification", "condition_acces", "reservation", "horaires",
    "accessibilite_pmr", "restriction_gabarit", "station_deux_roues", "raccordement",
    "num_pdl", "date_mise_en_service", "observations", "date_maj", "cable_t2_attache")
IRVE_MAILBOX = "contact@valdeloire.example"


def charging_points(rng: random.Random, path: Path) -> None:
    """IRVE statique 2.3.0: its forty columns in its order, two charge points a station;
    positions in `coordonneesXY` ("[longitude, latitude]"), as the schema writes them."""
    rows = []
    for station in range(68):
        lat, lon = _near(rng, 0.08)
        power = rng.choice((7.4, 22.0, 22.0, 50.0, 150.0))
        fast = power >= 50
        street = STREETS[station % len(STREETS)]
        opened = date(2018, 1, 1) + timedelta(days=rng.randint(0, 2400))
        for point in (1, 2):
            rows.append([
                "Métropole de Val-de-Loire", "243700754", "", "Val-de-Loire Énergies",
                IRVE_MAILBOX, "", "Val-de-Loire Recharge", f"FRVDLP{station + 1:04d}", "",
                f"Station {street} {station // 16 + 1}",
                rng.choice(("Voirie", "Voirie", "Parking public")),
                f"{rng.randint(1, 120)} {street} 37000 Ligérac", "37261", f"[{lon},{lat}]",
                2, f"FRVDLE{station + 1:04d}{point}", "", power, "false", "true",
                "true" if fast else "false", "false", "false", "false", "true", "true",
                "false", "0,30 € / kWh" if fast else "0,25 € / kWh", "Accès libre", "false",
                "24/7", "Accessible mais non réservé PMR", "Hauteur maximale 2,10 m", "false",
                "Direct", f"{rng.randint(10**13, 10**14 - 1)}", opened.isoformat(), "",
                "2024-12-01", "false"])
    _csv(path, list(IRVE_COLUMNS), rows)


SOLAR_SITES = ("Groupe scolaire Jules-Ferry", "Gymnase des Rives", "Centre technique",
               "Médiathèque des Tilleuls", "Piscine Beaujardin", "Hôtel de métropole",
               "Ombrières P+R Les Tilleuls", "Dépôt de tramway", "Centre de tri",
               "Halle des sports de Belvoir", "École de Varennes", "Salle des fêtes de "
               "Montaigu")


def solar(rng: random.Random, path: Path) -> None:
    sites = [(name, round(rng.uniform(9, 250), 1)) for name in SOLAR_SITES]
    rows = []
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            sun = 0.35 + 0.65 * math.sin((month - 0.5) / 12 * math.pi)
            for name, peak in sites:
                rows.append([name, peak, f"{year}-{month:02d}-01",
                             round(peak * 130 * sun * rng.uniform(0.85, 1.1))])
    _csv(path, ["installation", "puissance_crete_kwc", "mois", "production_kwh"], rows)


# ----------------------------------------------------------------------- the catalogue


def _md(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


SPECS_PUBLISHED: tuple[Spec, ...] = (
    Spec("comptages-velo", "Comptages vélo quotidiens", METROPOLE, "Mobilités", v.ENERGIE,
         ["vélo", "mobilité", "comptage", "modes actifs"], UpdateFrequency.DAILY, "etalab-2.0",
         _md("Nombre de **passages de vélos** enregistrés chaque jour par les 16 compteurs "
             "permanents de la métropole (boucles magnétiques et capteurs pyroélectriques).",
             "- `compteur_id`, `compteur` : identifiant et emplacement du compteur ;\n"
             "- `passages` : vélos comptés dans les deux sens sur la journée ;\n"
             "- `latitude`, `longitude` : position du compteur (WGS 84).",
             "Les jours de panne apparaissent avec des comptages faibles ; ils ne sont pas "
             "corrigés."),
         "comptages-velo.csv", bicycle_counters),
    Spec("parkings-relais-occupation", "Occupation horaire des parkings relais", METROPOLE,
         "Mobilités", v.ESPACE_PUBLIC, ["stationnement", "parking relais", "tramway",
                                        "mobilité"],
         UpdateFrequency.CONTINUOUS, "etalab-2.0",
         _md("Taux d'occupation des **sept parkings relais** (P+R) du réseau de tramway, "
             "relevé chaque heure de 6 h à 21 h.",
             "Le taux est le rapport entre places occupées et capacité, en pourcentage. "
             "Les positions permettent de situer chaque parking sur la carte."),
         "occupation-parkings-relais.csv", park_and_ride, (date(2024, 1, 1), END)),
    Spec("subventions-associations", "Subventions aux associations", VILLE,
         "Culture - Labels et patrimoine - Vie associative", v.ECONOMIE,
         ["subventions", "associations", "SCDL", "transparence"], UpdateFrequency.ANNUAL,
         "etalab-2.0",
         _md("Subventions versées par la Ville de Ligérac aux associations, au format du "
             "**schéma national des données sur les subventions** (SCDL).",
             "Publiées au titre de l'obligation de transparence des aides publiques "
             "(décret n° 2017-779) : une ligne par convention, avec le bénéficiaire (SIRET), "
             "l'objet, le montant et la délibération d'attribution."),
         "subventions-associations.csv", subsidies, (date(2022, 1, 1), END),
         {"types": {"idBeneficiaire": "string", "idAttribuant": "string"}},
         "scdl-subventions"),
    Spec("frequentation-cantines-scolaires", "Fréquentation des cantines scolaires", VILLE,
         "Enfance - Éducation - Jeunesse", v.EDUCATION,
         ["restauration scolaire", "écoles", "cantine", "repas végétariens"],
         UpdateFrequency.MONTHLY, "etalab-2.0",
         _md("Repas servis chaque jour de classe dans les **14 restaurants scolaires** de la "
             "ville, avec le nombre d'inscrits et de repas végétariens.",
             "Année scolaire 2023-2024 ; les mercredis et les vacances scolaires ne "
             "comptent pas de service."),
         "frequentation-cantines.csv", canteens, (date(2023, 9, 4), date(2024, 7, 5))),
    Spec("consommations-energie-batiments", "Consommations d'énergie des bâtiments publics",
         VILLE, "Patrimoine bâti", v.ENERGIE,
         ["énergie", "bâtiments", "décret tertiaire", "sobriété"], UpdateFrequency.MONTHLY,
         "etalab-2.0",
         _md("Consommations mensuelles d'**électricité**, de **gaz** et de **chaleur** "
             "(réseau de chaleur urbain) de 72 bâtiments communaux, en kWh, avec leur "
             "surface.",
             "Ces relevés servent au suivi du dispositif éco-énergie tertiaire et du plan de "
             "sobriété de la ville."),
         "consommations-energie.xlsx", energy, (date(2022, 1, 1), END)),
    Spec("arbres-alignement", "Arbres d'alignement et des parcs", VILLE,
         "Requalification des espaces publics", v.ESPACE_PUBLIC,
         ["arbres", "patrimoine arboré", "biodiversité", "îlots de fraîcheur"],
         UpdateFrequency.ANNUAL, "ODbL-1.0",
         _md("Inventaire des **9 000 arbres** gérés par la ville : genre, espèce, nom "
             "français, hauteur, circonférence à 1 m, année de plantation et quartier.",
             "Fichier GeoJSON d'origine (points en WGS 84) ; la base est partagée sous "
             "licence ODbL : les bases dérivées doivent l'être aussi."),
         "arbres.geojson", trees, None),
    Spec("toilettes-publiques", "Toilettes publiques", VILLE, "Vie quotidienne",
         v.ESPACE_PUBLIC, ["toilettes", "sanitaires", "accessibilité", "PMR"],
         UpdateFrequency.IRREGULAR, "etalab-2.0",
         _md("Emplacements des **toilettes publiques** de la ville, avec leur type, leur "
             "accessibilité aux personnes à mobilité réduite et leurs horaires.",
             "Toutes sont gratuites."),
         "toilettes-publiques.csv", toilets, None),
    Spec("prets-bibliotheques", "Prêts des bibliothèques", VILLE, "Médiathèque des Tilleuls",
         v.CULTURE, ["lecture publique", "bibliothèques", "prêts", "culture"],
         UpdateFrequency.MONTHLY, "etalab-2.0",
         _md("Nombre de **prêts** par mois, par bibliothèque du réseau de lecture publique et "
             "par type de document (livres, bandes dessinées, films, musique, jeux vidéo, "
             "revues)."),
         "prets-bibliotheques.tsv", library_loans, (date(2022, 1, 1), END)),
    Spec("tonnages-collecte-dechets", "Tonnages de déchets collectés", METROPOLE,
         "Gestion et prévention des déchets", v.ENERGIE,
         ["déchets", "collecte", "tri sélectif", "biodéchets"], UpdateFrequency.MONTHLY,
         "etalab-2.0",
         _md("Tonnages mensuels collectés par commune et par flux : ordures ménagères "
             "résiduelles, collecte sélective, verre, biodéchets et encombrants.",
             "Ils mesurent les progrès du programme local de prévention des déchets."),
         "tonnages-dechets.json", waste, (date(2021, 1, 1), END)),
    Spec("budget-primitif", "Budget primitif par chapitre et fonction", METROPOLE, None,
         v.ADMINISTRATION, ["budget", "finances", "transparence", "M57"],
         UpdateFrequency.ANNUAL, "etalab-2.0",
         _md("Lignes du **budget primitif** de la métropole votées pour 2022, 2023 et 2024 : "
             "section, sens (dépense ou recette), chapitre, fonction, nature et montant en "
             "euros.",
             "Nomenclature M57 ; les montants sont ceux votés, avant décisions "
             "modificatives."),
         "budget-primitif.csv", budget, (date(2022, 1, 1), END)),
    Spec("deliberations-conseil-municipal", "Délibérations du conseil municipal", VILLE,
         "Affaires juridiques - Contentieux - Assemblées", v.ADMINISTRATION,
         ["délibérations", "conseil municipal", "SCDL", "vie démocratique"],
         UpdateFrequency.MONTHLY, "etalab-2.0",
         _md("Liste des **délibérations** adoptées par le conseil municipal, au format du "
             "schéma SCDL des délibérations : date de séance, matière, objet et votes.",
             "Chaque délibération est consultable en mairie et sur le registre en ligne."),
         "deliberations.parquet", deliberations, (date(2022, 1, 1), END),
         schema="scdl-deliberations"),
    Spec("bornes-recharge-vehicules-electriques", "Bornes de recharge pour véhicules "
         "électriques", METROPOLE, "Mobilités", v.ENERGIE,
         ["IRVE", "véhicules électriques", "recharge", "mobilité"], UpdateFrequency.MONTHLY,
         "ODbL-1.0",
         _md("Points de recharge ouverts au public sur le territoire, au format du schéma "
             "national **IRVE** (infrastructures de recharge pour véhicules électriques) : "
             "station, implantation, puissance, prises, accès et position."),
         "bornes-irve.csv", charging_points, None, schema="irve/statique",
         dismissed=(("contact_operateur", "email", "Boîte de service de l'opérateur, que le "
                     "schéma IRVE demande de publier."),
                    ("adresse_station", "address", "Adresse des stations de recharge, "
                     "équipements publics."))),
)


# Loaded by the métropole's energy referent and waiting for the chief data officer: the
# back-office's queue of publication requests is not empty in the demo.
PENDING = Spec(
    "production-photovoltaique", "Production des installations photovoltaïques publiques",
    METROPOLE, "Développement durable - Climat - Énergie", v.ENERGIE,
    ["photovoltaïque", "énergies renouvelables", "production", "plan climat"],
    UpdateFrequency.MONTHLY, "etalab-2.0",
    _md("Production mensuelle, en kWh, des **12 installations photovoltaïques** posées sur "
        "les toits et les ombrières du territoire, avec leur puissance crête.",
        "Suivi du plan climat-air-énergie territorial."),
    "production-photovoltaique.csv", solar, (date(2022, 1, 1), END))
PENDING_REFERENT = "j.girard@valdeloire.example"


def _create(ctx: DemoContext, spec: Spec) -> Any:
    org = ctx.organisations[spec.org_key]
    department = ctx.department(spec.org_key, spec.department) if spec.department else None
    data = DatasetInput(
        title=spec.title, description=spec.description, organisation_id=org.id,
        department_id=department.id if department else None, theme=spec.theme,
        keywords=spec.keywords, update_frequency=spec.frequency, licence=spec.licence,
        spatial_coverage=SPECS[spec.org_key].place,
        temporal_start=spec.temporal[0] if spec.temporal else None,
        temporal_end=spec.temporal[1] if spec.temporal else None,
        contact_name=spec.department or org.name,
        contact_email=f"opendata@{SPECS[spec.org_key].domain}", contains_personal_data=False,
        source=Source.INTERNAL, confidentiality=YesNoUndefined.NO, sharing=YesNoUndefined.YES,
        access_level=AccessLevel.INTERNAL, lifecycle_stage=LifecycleStage.STORED)
    return inventory.create_dataset(ctx.session, ctx.principal, data, slug=spec.slug)


def build_published(ctx: DemoContext) -> None:
    """Create, load and publish the dozen demo datasets (needs the data folder)."""
    if ctx.settings is None:
        return
    with tempfile.TemporaryDirectory(prefix="patrimoine-demo-") as work:
        for spec in SPECS_PUBLISHED:
            dataset = _create(ctx, spec)
            path = Path(work) / spec.filename
            spec.write(ctx.rng, path)
            if spec.schema is not None:
                validation.declare_schema(ctx.session, ctx.principal, dataset, name=spec.schema)
            version = publication.add_version(ctx.session, ctx.settings, ctx.principal, dataset,
                                              path, spec.overrides)
            if spec.dismissed:
                findings.ensure_scanned(ctx.session, ctx.settings, version)
                for column, kind, reason in spec.dismissed:
                    findings.decide(ctx.session, ctx.principal, dataset, version, column, kind,
                                    NOT_PERSONAL, reason)
            publication.publish(ctx.session, ctx.principal, dataset, ctx.settings)
        referent = ctx.accounts.get(PENDING_REFERENT)
        if referent is not None:
            asker = Principal.of(referent)
            dataset = _create(ctx, PENDING)
            path = Path(work) / PENDING.filename
            PENDING.write(ctx.rng, path)
            publication.add_version(ctx.session, ctx.settings, asker, dataset, path)
            publication.request_publication(
                ctx.session, asker, dataset, "Données vérifiées avec l'exploitant ; prêtes "
                "pour le portail.", ctx.settings)
