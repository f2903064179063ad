"""Labelled tables for measuring the personal-data scanner.

Each generated table comes with the kinds every column truly holds (the label), so precision
and recall can be computed per kind at column level. Persons come from Faker fr_FR; the
identifiers are real-format values computed here (NIR with their key, IBAN with their
check digits, SIRET with their Luhn digit, plates with the letters the SIV uses). Decoy
columns hold what scanners often mistake for personal data: INSEE codes (2A004 included),
postcodes, years in `code_…` columns, SIRET/SIREN, amounts, product codes and random
15-digit lot numbers, event dates, public-facility names and coordinates, street names
without a number.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from faker import Faker

from patrimoine.protection.detectors import iban_check_digits, nir_key

PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
VOIES = ["rue", "avenue", "boulevard", "bd", "chemin", "allée", "impasse", "place", "route",
         "quai", "cours", "square", "passage", "résidence", "rue", "rue", "avenue"]
COMMUNES = [("45234", "Orléans"), ("44109", "Nantes"), ("13055", "Marseille"),
            ("13001", "Aix-en-Provence"), ("10387", "Troyes"), ("42218", "Saint-Étienne"),
            ("91477", "Palaiseau"), ("2A004", "Ajaccio"), ("2B033", "Bastia"),
            ("97411", "Saint-Denis"), ("69123", "Lyon"), ("59350", "Lille"),
            ("33063", "Bordeaux"), ("35238", "Rennes"), ("67482", "Strasbourg"),
            ("34172", "Montpellier"), ("06088", "Nice"), ("45208", "Olivet"), ("44143", "Rezé"),
            ("10362", "Sainte-Savine"), ("91692", "Les Ulis"), ("01053", "Bourg-en-Bresse")]
FACILITIES = ["Piscine", "Gymnase", "École élémentaire", "Médiathèque", "Stade", "Crèche",
              "Maison de quartier", "Salle polyvalente", "Collège", "Centre social",
              "Bibliothèque", "Conservatoire", "Parc"]
FAMOUS = ["Jean Moulin", "Jules Ferry", "Victor Hugo", "Louise Michel", "Pierre de Coubertin",
          "Marie Curie", "Jean Jaurès", "Simone Veil", "Jacques Prévert", "Léo Lagrange"]
CATEGORIES = ["Sport", "Culture", "Éducation", "Social", "Environnement", "Jeunesse"]


@dataclass
class LabelledTable:
    name: str
    columns: list[str]
    rows: list[list[Any]]
    labels: dict[str, set[str]]  # column -> kinds it truly holds


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)

    # --- identifiers ------------------------------------------------------------------------

    def nir(self, spaced: bool | None = None) -> str:
        r = self.rng
        dept = r.choice(["75", "13", "45", "44", "2A", "2B", "69", "99", "59", "33", "10"])
        body = (f"{r.choice('12')}{r.randint(0, 99):02d}{r.randint(1, 12):02d}{dept}"
                f"{r.randint(1, 999):03d}{r.randint(1, 999):03d}")
        key = f"{nir_key(body):02d}"
        if spaced if spaced is not None else r.random() < 0.4:
            return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key}"
        return body + key

    def iban(self) -> str:
        r = self.rng
        country = r.choice(["FR", "FR", "FR", "FR", "DE", "BE", "ES", "IT"])
        if country == "FR":
            bban = (f"{r.randint(10000, 99999)}{r.randint(10000, 99999)}"
                    f"{r.randint(0, 10**11 - 1):011d}{r.randint(1, 97):02d}")
        elif country == "DE":
            bban = f"{r.randint(10**17, 10**18 - 1)}"
        elif country == "BE":
            bban = f"{r.randint(10**11, 10**12 - 1)}"
        elif country == "ES":
            bban = f"{r.randint(10**19, 10**20 - 1)}"
        else:
            bban = f"{r.choice(PLATE_LETTERS)}{r.randint(10**21, 10**22 - 1)}"
        iban = country + iban_check_digits(country, bban) + bban
        if r.random() < 0.5:
            return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        return iban

    def phone(self, mobile: bool | None = None) -> str:
        r = self.rng
        lead = r.choice("67") if (mobile if mobile is not None else r.random() < 0.5) \
            else r.choice("123459")
        pairs = [f"{r.randint(0, 99):02d}" for _ in range(4)]
        style = r.randrange(6)
        if style == 0:
            return f"0{lead} " + " ".join(pairs)
        if style == 1:
            return f"0{lead}." + ".".join(pairs)
        if style == 2:
            return f"0{lead}-" + "-".join(pairs)
        if style == 3:
            return f"0{lead}" + "".join(pairs)
        if style == 4:
            return f"+33 {lead} " + " ".join(pairs)
        return f"+33{lead}" + "".join(pairs)

    def plate(self) -> str:
        r = self.rng
        letters = lambda k: "".join(r.choice(PLATE_LETTERS) for _ in range(k))  # noqa: E731
        if r.random() < 0.75:
            sep = r.choice(["-", "-", " ", ""])
            return f"{letters(2)}{sep}{r.randint(1, 999):03d}{sep}{letters(2)}"
        dept = r.choice(["75", "13", "45", "2A", "69", "33", "974"])
        return f"{r.randint(1, 9999)} {letters(r.randint(2, 3))} {dept}"

    def siret(self, spaced: bool = False) -> str:
        digits = [self.rng.randint(0, 9) for _ in range(13)]
        for check in range(10):
            candidate = digits + [check]
            total = 0
            for i, digit in enumerate(reversed(candidate)):
                doubled = digit * 2 if i % 2 else digit
                total += doubled - 9 if doubled > 9 else doubled
            if total % 10 == 0:
                break
        s = "".join(map(str, candidate))
        return f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}" if spaced else s

    # --- persons ----------------------------------------------------------------------------

    def full_name(self) -> str:
        first, last = self.fake.first_name(), self.fake.last_name()
        style = self.rng.randrange(5)
        if style == 0:
            return f"{last.upper()} {first}"
        if style == 1:
            return f"{self.rng.choice(['M.', 'Mme', 'Madame', 'Monsieur'])} {first} {last}"
        return f"{first} {last}"

    def address(self, with_city: bool | None = None) -> str:
        r = self.rng
        number = f"{r.randint(1, 250)}{r.choice(['', '', '', ' bis', ' ter'])}"
        street = f"{r.choice(VOIES)} {r.choice(['', 'de ', 'du ', 'des '])}{self.fake.last_name()}"
        head = f"{number}{r.choice([' ', ', '])}{street}"
        if with_city if with_city is not None else r.random() < 0.6:
            code, city = r.choice(COMMUNES)
            return f"{head}, {r.randint(10, 95)}{r.randint(0, 999):03d} {city}"
        return head

    def birth(self, iso: bool = False) -> str:
        day = self.fake.date_of_birth(minimum_age=0, maximum_age=100)
        return day.isoformat() if iso else day.strftime("%d/%m/%Y")

    def home(self) -> tuple[float, float]:
        return (round(self.rng.uniform(42.5, 50.9), self.rng.choice([5, 6])),
                round(self.rng.uniform(-4.5, 7.8), self.rng.choice([5, 6])))

    def event_date(self) -> str:
        return (date(2016, 1, 1) + timedelta(days=self.rng.randint(0, 3500))).strftime("%d/%m/%Y")

    def amount(self) -> str:
        value = self.rng.uniform(5, 250000)
        return f"{value:,.2f}".replace(",", " ").replace(".", ",") if self.rng.random() < 0.5 \
            else f"{value:.2f}"

    def product(self) -> str:
        r = self.rng
        return r.choice([f"REF-{r.randint(10000, 99999)}",
                         f"PRD-{r.choice(PLATE_LETTERS)}{r.choice(PLATE_LETTERS)}-"
                         f"{r.randint(100, 9999)}",
                         f"{r.randint(10**12, 10**13 - 1)}"])

    # --- tables -----------------------------------------------------------------------------

    def persons(self, n: int, variant: int) -> LabelledTable:
        """A register of persons (usagers, inscriptions) with decoy columns beside."""
        r, f = self.rng, self.fake
        names = [["prenom", "nom", "email", "telephone", "adresse", "date_naissance", "nir",
                  "iban", "immatriculation", "latitude", "longitude"],
                 ["Prénom", "Nom de famille", "Courriel", "Portable", "Adresse postale",
                  "DateNaissance", "NumeroSecu", "RIB_IBAN", "Plaque", "lat_domicile",
                  "lon_domicile"],
                 ["first_name", "last_name", "mail", "tel", "adr", "dob", "num_ss",
                  "iban_titulaire", "vehicule", "y", "x"]][variant % 3]
        decoys = ["code_insee", "code_postal", "code_annee", "siret", "montant", "date_inscription",
                  "code_produit", "numero_lot", "categorie", "commune"]
        rows = []
        for _ in range(n):
            lat, lon = self.home()
            code, city = r.choice(COMMUNES)
            rows.append([
                f.first_name(), f.last_name(),
                f.email() if r.random() < 0.7 else
                f"{f.first_name().lower()}.{f.last_name().lower()}@{f.free_email_domain()}",
                self.phone(), self.address(), self.birth(iso=variant % 2 == 1), self.nir(),
                self.iban(), self.plate(), lat, lon,
                code, f"{r.randint(1, 95):02d}{r.randint(0, 999):03d}", r.randint(1990, 2025),
                self.siret(spaced=variant % 2 == 0), self.amount(), self.event_date(),
                self.product(), f"{r.randint(10**14, 10**15 - 1)}", r.choice(CATEGORIES), city,
            ])
            for i in range(11):  # sparse personal columns: some cells empty
                if i > 1 and r.random() < 0.08:
                    rows[-1][i] = ""
        labels = dict(zip(names, [{"name"}, {"name"}, {"email"}, {"phone"}, {"address"},
                                  {"birth_date"}, {"nir"}, {"iban"}, {"plate"}, {"position"},
                                  {"position"}], strict=True))
        labels.update({d: set() for d in decoys})
        return LabelledTable(f"personnes_{variant}", names + decoys, rows, labels)

    def contacts(self, n: int, variant: int) -> LabelledTable:
        """Free-form columns, unhelpful names: full names, comments holding contact details."""
        r, f = self.rng, self.fake
        columns = ["col_a", "col_b", "observations", "geo", "col_c", "reference", "code_commune",
                   "siren", "annee", "evenement_date"]
        rows = []
        for _ in range(n):
            lat, lon = self.home()
            comment = r.choice([
                f"Rappeler au {self.phone(mobile=True)} avant le passage.",
                f"Courrier envoyé, réponse attendue par mail à {f.email()} sous huit jours.",
                "Dossier complet, aucune pièce manquante à signaler pour ce demandeur.",
                "Intervention programmée la semaine prochaine selon le planning du service.",
            ])
            rows.append([self.full_name(), self.nir(spaced=True), comment, f"{lat}, {lon}",
                         self.iban(), self.product(), r.choice(COMMUNES)[0],
                         self.siret()[:9], r.randint(1995, 2025), self.event_date()])
        labels = {"col_a": {"name"}, "col_b": {"nir"}, "observations": {"phone", "email"},
                  "geo": {"position"}, "col_c": {"iban"}, "reference": set(),
                  "code_commune": set(), "siren": set(), "annee": set(), "evenement_date": set()}
        return LabelledTable(f"contacts_{variant}", columns, rows, labels)

    def facilities(self, n: int, variant: int) -> LabelledTable:
        """Public facilities: precise coordinates and service contacts, no person."""
        r = self.rng
        columns = ["nom_equipement", "type", "nom_voie", "code_insee", "commune", "latitude",
                   "longitude", "geo_point_2d", "email_contact", "telephone", "siret",
                   "annee_construction", "capacite", "date_ouverture"]
        rows = []
        for _ in range(n):
            code, city = r.choice(COMMUNES)
            kind = r.choice(FACILITIES)
            lat, lon = round(r.uniform(42.5, 50.9), 6), round(r.uniform(-4.5, 7.8), 6)
            slug = city.lower().replace(" ", "-").replace("é", "e").replace("è", "e")
            rows.append([f"{kind} {r.choice(FAMOUS)}", kind,
                         f"{r.choice(VOIES)} {r.choice(FAMOUS)}", code, city, lat, lon,
                         f"{lat}, {lon}",
                         f"{r.choice(['contact', 'accueil', 'mairie', 'sport', 'culture'])}"
                         f"@ville-{slug}.fr",
                         self.phone(mobile=False), self.siret(), r.randint(1950, 2024),
                         r.randint(20, 2000), self.event_date()])
        labels = {c: set() for c in columns}
        labels["email_contact"] = {"email"}
        labels["telephone"] = {"phone"}
        return LabelledTable(f"equipements_{variant}", columns, rows, labels)

    def subsidies(self, n: int, variant: int) -> LabelledTable:
        """Subsidies to associations: names of organisations, amounts, coordinates."""
        r = self.rng
        columns = ["annee", "code_insee", "nom_beneficiaire", "rna_beneficiaire", "objet",
                   "montant", "date_convention", "latitude", "longitude", "numero_dossier"]
        rows = []
        for _ in range(n):
            code, city = r.choice(COMMUNES)
            rows.append([r.randint(2015, 2025), code,
                         f"Association {r.choice(['sportive', 'culturelle', 'des parents'])} "
                         f"de {city}",
                         f"W{r.randint(10**8, 10**9 - 1)}", r.choice(CATEGORIES), self.amount(),
                         self.event_date(), round(r.uniform(42.5, 50.9), 5),
                         round(r.uniform(-4.5, 7.8), 5), f"{r.randint(0, 10**9):010d}"])
        return LabelledTable(f"subventions_{variant}", columns, rows, {c: set() for c in columns})


    def agents(self, n: int, variant: int) -> LabelledTable:
        """Staff list: sparse, messy cases, professional contacts, dates of hiring."""
        r, f = self.rng, self.fake
        columns = ["matricule", "nom_prenom", "service", "grade", "email_pro",
                   "telephone_pro", "date_de_naissance", "date_entree", "code_service",
                   "indice", "quotite", "numero_voie", "libelle_voie", "code_postal", "ville"]
        rows: list[list[Any]] = []
        for _ in range(n):
            first, last = f.first_name(), f.last_name()
            name = r.choice([f"{last.upper()} {first}", f"{first} {last}",
                             f"{first.lower()} {last.lower()}", f"{first.upper()} {last.upper()}"])
            slug = f"{first}.{last}".lower().replace(" ", "").replace("é", "e").replace("è", "e")
            born = f.date_of_birth(minimum_age=18, maximum_age=67)
            rows.append([
                f"{r.randint(1, 99999):06d}", name,
                r.choice(["Direction des sports", "Service état civil", "Médiathèque",
                          "Police municipale", "Centre technique"]),
                r.choice(["Adjoint administratif", "Attaché", "Rédacteur", "Technicien"]),
                f"{slug}@ville-orleans.fr" if r.random() < 0.6 else "",
                self.phone(mobile=False) if r.random() < 0.4 else "",
                born if variant % 2 else born.strftime("%d/%m/%Y"),
                date(1980, 1, 1) + timedelta(days=r.randint(0, 16000)),
                f"{r.randint(100, 999)}", r.randint(340, 1000), r.choice(["100 %", "80 %", "50 %"]),
                f"{r.randint(1, 200)}{r.choice(['', '', '', ' bis'])}",
                f"{r.choice(VOIES)} {r.choice(['', 'de ', 'des '])}{f.last_name()}",
                f"{r.randint(1, 95):02d}{r.randint(0, 999):03d}", r.choice(COMMUNES)[1],
            ])
        labels = {c: set() for c in columns}
        labels.update({"nom_prenom": {"name"}, "email_pro": {"email"},
                       "telephone_pro": {"phone"}, "date_de_naissance": {"birth_date"},
                       "libelle_voie": {"address"}})
        return LabelledTable(f"agents_{variant}", columns, rows, labels)

    def pound(self, n: int, variant: int) -> LabelledTable:
        """Vehicles taken to the pound: plates, owners' addresses, street of removal."""
        r = self.rng
        columns = ["numero_pv", "immat", "marque", "lieu_enlevement", "adresse_proprietaire",
                   "date_enlevement", "montant_frais", "code_postal"]
        rows = []
        for _ in range(n):
            rows.append([f"PV{r.randint(10**6, 10**7 - 1)}", self.plate(),
                         r.choice(["Peugeot", "Renault", "Citroën", "Dacia", "Toyota"]),
                         f"{r.choice(VOIES)} {r.choice(FAMOUS)}",
                         self.address(with_city=True) if r.random() < 0.85 else "",
                         self.event_date(), self.amount(),
                         f"{r.randint(1, 95):02d}{r.randint(0, 999):03d}"])
        labels = {c: set() for c in columns}
        labels.update({"immat": {"plate"}, "adresse_proprietaire": {"address"}})
        return LabelledTable(f"fourriere_{variant}", columns, rows, labels)

    def communes(self, n: int, variant: int) -> LabelledTable:
        """Reference table of communes and products: names of places and things only."""
        r = self.rng
        columns = ["nom", "code_insee", "population", "latitude", "longitude", "libelle",
                   "code", "prix_unitaire"]
        rows = []
        for _ in range(n):
            code, city = r.choice(COMMUNES)
            rows.append([city, code, r.randint(500, 900000), round(r.uniform(42.5, 50.9), 4),
                         round(r.uniform(-4.5, 7.8), 4),
                         r.choice(["Chaise pliante", "Table ronde", "Barrière de police",
                                   "Rue Victor Hugo", "Jardin Jean Moulin", "Grille d'exposition"]),
                         self.product(), self.amount()])
        return LabelledTable(f"communes_{variant}", columns, rows, {c: set() for c in columns})


    def faker_only(self, n: int, variant: int) -> LabelledTable:
        """Every value from Faker's own fr_FR providers (not from this module's formats), with
        Faker's non-personal values as decoys."""
        f = self.fake
        personal = {"nom_complet": (f.name, "name"), "courriel": (f.email, "email"),
                    "telephone": (f.phone_number, "phone"), "adresse": (f.address, "address"),
                    "securite_sociale": (f.ssn, "nir"), "iban": (f.iban, "iban"),
                    "immatriculation": (f.license_plate, "plate"),
                    "date_de_naissance": (f.date_of_birth, "birth_date")}
        decoys = {"entreprise": f.company, "metier": f.job, "carte": f.credit_card_number,
                  "ean": f.ean13, "ip": f.ipv4, "slogan": f.catch_phrase,
                  "couleur": f.color_name, "prix": f.pricetag, "code_postal": f.postcode,
                  "departement": lambda: f.department()[1], "region": f.region,
                  "date_maj": f.date_time_this_year, "identifiant": f.uuid4}
        columns = list(personal) + list(decoys)
        makers = [m for m, _ in personal.values()] + list(decoys.values())
        rows = [[make() for make in makers] for _ in range(n)]
        labels: dict[str, set[str]] = {c: {kind} for c, (_, kind) in personal.items()}
        labels.update({c: set() for c in decoys})
        return LabelledTable(f"faker_{variant}", columns, rows, labels)


def corpus(seed: int = 7, rows: int = 400) -> list[LabelledTable]:
    """Several labelled tables of every type."""
    gen = Generator(seed)
    tables = []
    for variant in range(3):
        tables.append(gen.persons(rows, variant))
        tables.append(gen.contacts(rows, variant))
        tables.append(gen.facilities(rows, variant))
        tables.append(gen.subsidies(rows, variant))
        tables.append(gen.agents(rows, variant))
        tables.append(gen.pound(rows, variant))
        tables.append(gen.communes(rows, variant))
        tables.append(gen.faker_only(rows, variant))
    return tables


def write(table: LabelledTable, folder: Path, fmt: str) -> Path:
    """Write a table as CSV (`;`, Windows-1252), CSV (`,`, UTF-8), XLSX or JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "csv-1252":
        path = folder / f"{table.name}.csv"
        with path.open("w", encoding="cp1252", errors="replace", newline="") as fh:
            csv.writer(fh, delimiter=";").writerows([table.columns, *table.rows])
    elif fmt == "csv":
        path = folder / f"{table.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([table.columns, *table.rows])
    elif fmt == "xlsx":
        import xlsxwriter

        path = folder / f"{table.name}.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Données")
        day = book.add_format({"num_format": "dd/mm/yyyy"})
        for i, row in enumerate([table.columns, *table.rows]):
            for j, value in enumerate(row):
                if isinstance(value, date):
                    sheet.write_datetime(i, j, value, day)
                else:
                    sheet.write(i, j, value)
        book.close()
    elif fmt == "json":
        path = folder / f"{table.name}.json"
        records = [dict(zip(table.columns, r, strict=True)) for r in table.rows]
        path.write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    else:
        raise ValueError(fmt)
    return path


@dataclass
class KindScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(tables: list[LabelledTable], found: list[dict[str, set[str]]]
          ) -> tuple[dict[str, KindScore], list[str]]:
    """Column-level precision and recall per kind; the mistakes, described."""
    from patrimoine.protection.scanner import KINDS

    scores = {k: KindScore() for k in KINDS}
    mistakes = []
    for table, kinds_by_column in zip(tables, found, strict=True):
        for column in table.columns:
            truth = table.labels.get(column, set())
            predicted = kinds_by_column.get(column, set())
            for kind in KINDS:
                if kind in truth and kind in predicted:
                    scores[kind].tp += 1
                elif kind in predicted:
                    scores[kind].fp += 1
                    mistakes.append(f"faux positif {kind} : {table.name}.{column}")
                elif kind in truth:
                    scores[kind].fn += 1
                    mistakes.append(f"manqué {kind} : {table.name}.{column}")
    return scores, mistakes


def blind(table: LabelledTable, prefix: str = "c") -> LabelledTable:
    """The same table with meaningless column names: only the values can speak."""
    names = [f"{prefix}{i:02d}" for i in range(1, len(table.columns) + 1)]
    mapping = dict(zip(table.columns, names, strict=True))
    return LabelledTable(f"{table.name}_aveugle", names, table.rows,
                         {mapping[c]: kinds for c, kinds in table.labels.items()})


def hard_corpus(seed: int = 7, rows: int = 400) -> list[LabelledTable]:
    """Tables whose column names say nothing; birth dates and lone coordinates are then
    expected to be missed (by design they need a column name), names partly."""
    gen = Generator(seed)
    tables = []
    for variant in range(3):
        tables.append(blind(gen.persons(rows, variant)))
        tables.append(blind(gen.agents(rows, variant)))
        tables.append(blind(gen.facilities(rows, variant)))
        tables.append(blind(gen.pound(rows, variant)))
        tables.append(blind(gen.faker_only(rows, variant)))
    return tables
