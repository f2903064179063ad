"""A deterministic audit spreadsheet shaped like the one Troyes Champagne Métropole built.

653 rows by default, with the counts of the Troyes audit tables (organisations, directions,
themes, source, sharing, confidentiality), French values, written as XLSX (openpyxl), ODS
(odfpy) or CSV (cp1252 with `;`, UTF-8 with BOM and `,`, or any encoding and delimiter).
Options add a title row above the headers and odd header spellings.

    from tests.support.spreadsheets import write_audit
    path = write_audit(tmp_path / "audit.xlsx")               # format from the suffix
    data = audit_bytes("csv", encoding="cp1252", delimiter=";", title_row=True)
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from pathlib import Path

ORGANISATIONS = {
    "C.M.A.S.": 14,
    "Troyes Champagne Métropole": 341,
    "Ville de Troyes": 207,
    "Ville de Troyes / Troyes Champagne Métropole": 91,
}

DIRECTIONS = {
    "Action foncière": 3,
    "Administration du Pôle Famille & Proximité": 6,
    "Affaires juridiques – Contentieux – Assemblées": 8,
    "Aménagement Economique (Service)": 3,
    "Centre de Supervision Urbain": 5,
    "Circulation - Stationnement - Régie voirie": 38,
    "CMAS (Direction Générale)": 14,
    "Commande publique - Achats transversaux": 13,
    "Coordination des événementiels et commémorations": 6,
    "Culture - Labels et Patrimoine - Vie associative": 25,
    "Développement durable - Climat - Energie": 150,
    "Eau – Trame Hydraulique – Réseaux de chaleur TCM + Régie Assainissement": 36,
    "Emploi - Insertion": 4,
    "Enfance - Education - Jeunesse": 24,
    "Enseignement supérieur – Recherche – Vie étudiante": 14,
    "Gestion et prévention des déchets": 4,
    "Médiathèque Jacques-Chirac": 1,
    "Mobilités": 22,
    "Moyens Généraux": 9,
    "ODP (Service)": 13,
    "Patrimoine Bâti": 39,
    "Protocole": 3,
    "Requalification des espaces publics": 11,
    "Ressources Humaines": 21,
    "Sports": 14,
    "Systèmes d'information": 74,
    "Urbanisme - Développement urbain": 6,
    "Vie quotidienne": 11,
    "Autres": 76,
}

THEMES = {
    "Administration": 109,
    "Assainissement - Eau - Trame Hydraulique": 46,
    "Culture": 22,
    "Economie & Société": 34,
    "Education – Enfance": 22,
    "Energie & Climat / Dév. Durable": 205,
    "Enseignement supérieur": 13,
    "Espace Public": 14,
    "Patrimoine": 19,
    "Sécurité": 49,
    "Sports": 16,
    "Urbanisme-Habitat": 104,
}

SOURCES = {"Externe": 189, "Interne": 450, "Interne/Externe": 14}
SHARING = {"Non": 160, "Oui": 452, "À définir": 41}
CONFIDENTIALITY = {"Non": 449, "Oui": 132, "À définir": 72}

HEADERS = [
    "Collectivité", "Direction", "Nom du tableau de suivi", "Thématique", "Source des données",
    "Partage des données", "Confidentialité des données", "Coût", "Fréquence de mise à jour",
]
# The same columns as people actually type them.
ODD_HEADERS = [
    "  COLLECTIVITES ", "Direction/Service", "Nom du tableau\nde suivi", "Thème",
    "SOURCE DES DONNEES", "Partage", "Confidentialite", "Coût annuel (€)", "Fréquence MAJ",
]
TITLE_ROW = "Audit interne données / tableaux de bord – Troyes Champagne Métropole (2023)"

_SUBJECTS = {
    "Administration": ["des fonds de concours attribués aux communes", "des courriers entrants",
                       "des délibérations", "des marchés publics", "des effectifs"],
    "Assainissement - Eau - Trame Hydraulique": ["des piézomètres", "des branchements",
                                                 "de la qualité de l'eau", "des stations"],
    "Culture": ["des fréquentations des musées", "des prêts de la médiathèque",
                "des élèves du conservatoire"],
    "Economie & Société": ["des taxes par zone d'activité", "des créations d'entreprises",
                           "des demandeurs d'emploi"],
    "Education – Enfance": ["des dérogations scolaires", "des effectifs scolaires",
                            "de la restauration scolaire"],
    "Energie & Climat / Dév. Durable": ["des consommations d'énergie des bâtiments",
                                        "des consommations énergétiques du territoire",
                                        "des émissions de gaz à effet de serre",
                                        "de la production photovoltaïque",
                                        "du décret tertiaire"],
    "Enseignement supérieur": ["des effectifs étudiants", "des logements étudiants"],
    "Espace Public": ["de l'abattage des arbres", "des interventions de voirie"],
    "Patrimoine": ["des diagnostics des logements municipaux", "des contrôles réglementaires"],
    "Sécurité": ["des délits et infractions", "des interventions du CSU",
                 "des badges riverains"],
    "Sports": ["des fréquentations des piscines", "des réservations des gymnases"],
    "Urbanisme-Habitat": ["des marchés immobiliers", "des permis de construire",
                          "de la vacance des logements", "du parc social"],
}
_PERIODS = ["mensuel", "annuel", "hebdomadaire", "trimestriel", "quotidien"]
_FREQUENCIES = ["Mensuelle", "Annuelle", "Hebdomadaire", "Trimestrielle", "Quotidienne",
                "Ponctuelle", "Au fil de l'eau", "Semestrielle", "À définir"]
_PRODUCERS = ["Ecovélo", "Engie", "Idex", "INSEE", "ADEME", "Enedis", "GRDF", "DGFiP"]
_COSTS = ["", "", "", "0", "Gratuit", "1 200 €", "1200,50", "350 €", "15 000 €", "2 400,00 €",
          "800"]


def _spread(counts: dict[str, int], rng: random.Random) -> list[str]:
    values = [v for v, n in counts.items() for _ in range(n)]
    rng.shuffle(values)
    return values


def audit_rows(n: int = 653, seed: int = 2023) -> list[dict[str, str]]:
    """The rows, keyed by HEADERS. With n=653 the counts are those of the Troyes audit."""
    rng = random.Random(seed)
    organisations = _spread(ORGANISATIONS, rng)
    directions = _spread({k: v for k, v in DIRECTIONS.items() if k != "CMAS (Direction Générale)"},
                         rng)
    # The CMAS direction holds exactly the CMAS rows, as in the audit.
    directions_iter = iter(directions)
    row_directions = [
        "CMAS (Direction Générale)" if org == "C.M.A.S." else next(directions_iter)
        for org in organisations
    ]
    themes, sources = _spread(THEMES, rng), _spread(SOURCES, rng)
    sharing, confidentiality = _spread(SHARING, rng), _spread(CONFIDENTIALITY, rng)
    rows: list[dict[str, str]] = []
    titles: set[tuple[str, str, str]] = set()
    for i in range(653):
        theme = themes[i]
        title = f"Suivi {rng.choice(_PERIODS)} {rng.choice(_SUBJECTS[theme])}"
        year = 2015 + rng.randrange(9)
        if rng.random() < 0.4:
            title += f" ({year} à {year + rng.randrange(1, 4)})"
        base, k = title, 2
        while (organisations[i], row_directions[i], title.casefold()) in titles:
            title, k = f"{base} – n°{k}", k + 1
        titles.add((organisations[i], row_directions[i], title.casefold()))
        source = sources[i]
        if source == "Externe" and rng.random() < 0.3:
            source = f"Externe ({rng.choice(_PRODUCERS)})"
        rows.append({
            "Collectivité": organisations[i],
            "Direction": row_directions[i],
            "Nom du tableau de suivi": title,
            "Thématique": theme,
            "Source des données": source,
            "Partage des données": sharing[i],
            "Confidentialité des données": confidentiality[i],
            "Coût": rng.choice(_COSTS),
            "Fréquence de mise à jour": rng.choice(_FREQUENCIES),
        })
    return rows[:n]


def _grid(rows: Sequence[dict[str, str]] | None, title_row: bool, odd_headers: bool
          ) -> list[list[str]]:
    rows = audit_rows() if rows is None else rows
    headers = list(rows[0]) if rows else HEADERS
    shown = [dict(zip(HEADERS, ODD_HEADERS, strict=True)).get(h, h) if odd_headers else h
             for h in headers]
    grid = [[TITLE_ROW], []] if title_row else []
    grid.append(shown)
    grid.extend([row.get(h, "") for h in headers] for row in rows)
    return grid


def write_xlsx(path: Path, rows: Sequence[dict[str, str]] | None = None, *,
               title_row: bool = False, odd_headers: bool = False,
               numeric_costs: bool = True) -> Path:
    """XLSX through openpyxl; plain amounts become number cells, as Excel users type them."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Audit"
    for r, line in enumerate(_grid(rows, title_row, odd_headers)):
        for c, value in enumerate(line):
            if numeric_costs and r > 0 and value.isdigit():
                ws.cell(row=r + 1, column=c + 1, value=int(value))
            elif value:
                ws.cell(row=r + 1, column=c + 1, value=value)
    wb.save(path)
    return path


def write_ods(path: Path, rows: Sequence[dict[str, str]] | None = None, *,
              title_row: bool = False, odd_headers: bool = False) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Audit")
    for line in _grid(rows, title_row, odd_headers):
        tr = TableRow()
        for value in line:
            if value.isdigit():
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            for part in value.split("\n") if value else []:
                cell.addElement(P(text=part))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def csv_text(rows: Sequence[dict[str, str]] | None = None, *, delimiter: str = ";",
             title_row: bool = False, odd_headers: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for line in _grid(rows, title_row, odd_headers):
        writer.writerow(line)
    return out.getvalue()


def write_csv(path: Path, rows: Sequence[dict[str, str]] | None = None, *,
              encoding: str = "cp1252", delimiter: str = ";", title_row: bool = False,
              odd_headers: bool = False) -> Path:
    """CSV; encoding "utf-8-sig" writes the BOM Excel adds."""
    path.write_bytes(csv_text(rows, delimiter=delimiter, title_row=title_row,
                              odd_headers=odd_headers).encode(encoding))
    return path


def write_audit(path: Path, rows: Sequence[dict[str, str]] | None = None, **options: object
                ) -> Path:
    """Write in the format of the suffix: .xlsx, .ods or .csv (cp1252 `;` by default)."""
    suffix = path.suffix.lower()
    writer = {".xlsx": write_xlsx, ".ods": write_ods, ".csv": write_csv}.get(suffix)
    if writer is None:
        raise ValueError(f"unsupported suffix {suffix!r}")
    return writer(path, rows, **options)  # type: ignore[operator]


def audit_bytes(fmt: str = "xlsx", rows: Sequence[dict[str, str]] | None = None,
                **options: object) -> bytes:
    """The file's bytes, for uploads: fmt is "xlsx", "ods" or "csv"."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = write_audit(Path(folder) / f"audit.{fmt}", rows, **options)
        return path.read_bytes()
