"""A deterministic French-style CSV of subsidies, as a city's finance department exports it.

`;` delimiter, decimal commas, dd/mm/yyyy dates, accents, quoted text with `;` and `"`,
empty cells. The same seed always gives the same bytes, so runs are comparable.

    python benchmarks/frenchcsv.py 1000000 var/bench/subventions_1m.csv
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HEADER = ["id", "annee", "code_insee", "commune", "nom_beneficiaire", "rna_beneficiaire",
          "categorie", "objet", "nature", "montant", "date_convention", "date_versement",
          "latitude", "longitude"]

COMMUNES = [
    ("45234", "Orléans", 47.9029, 1.9093), ("44109", "Nantes", 47.2184, -1.5536),
    ("13055", "Marseille", 43.2965, 5.3698), ("13001", "Aix-en-Provence", 43.5297, 5.4474),
    ("10387", "Troyes", 48.2973, 4.0744), ("42218", "Saint-Étienne", 45.4397, 4.3872),
    ("91477", "Palaiseau", 48.7146, 2.2457), ("2A004", "Ajaccio", 41.9192, 8.7386),
    ("97411", "Saint-Denis", -20.8823, 55.4504), ("69123", "Lyon", 45.764, 4.8357),
    ("59350", "Lille", 50.6292, 3.0573), ("33063", "Bordeaux", 44.8378, -0.5792),
    ("35238", "Rennes", 48.1173, -1.6778), ("67482", "Strasbourg", 48.5734, 7.7521),
    ("34172", "Montpellier", 43.6108, 3.8767), ("06088", "Nice", 43.7102, 7.262),
    ("45208", "Olivet", 47.8633, 1.8997), ("44143", "Rezé", 47.1833, -1.55),
    ("10362", "Sainte-Savine", 48.2960, 4.0500), ("91692", "Les Ulis", 48.6818, 2.1697),
]
CATEGORIES = ["Sport", "Culture", "Social", "Éducation", "Environnement", "Jeunesse",
              "Santé", "Solidarité internationale", "Économie", "Loisirs", "Patrimoine",
              "Vie de quartier", "Handicap", "Égalité femmes-hommes"]
NATURES = ["Fonctionnement", "Investissement", "Projet", "Exceptionnelle"]
WORDS = ["association", "festival", "école", "quartier", "solidarité", "été", "jardin",
         "numérique", "théâtre", "musique", "randonnée", "cuisine", "santé", "aînés",
         "réemploi", "vélo", "bibliothèque", "entraide", "éducation populaire", "forêt"]
KINDS = ["Association", "Club", "Amicale", "Comité", "Union", "Cercle", "Collectif"]


def _french_amount(rng: random.Random) -> str:
    value = round(rng.lognormvariate(7.5, 1.4), 2)
    whole, cents = f"{value:.2f}".split(".")
    if len(whole) > 3 and rng.random() < 0.3:  # some exports group thousands with a space
        whole = f"{int(whole):,}".replace(",", " ")
    return f"{whole},{cents}"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if (";" in text or '"' in text) else text


def rows(count: int, seed: int = 20261125):
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) for rank in range(len(COMMUNES))]
    for i in range(1, count + 1):
        code, commune, lat, lon = rng.choices(COMMUNES, weights)[0]
        year = rng.randint(2015, 2025)
        word = rng.choice(WORDS)
        name = f"{rng.choice(KINDS)} {word} de {commune}"
        objet = f"Soutien au projet « {word} » {rng.choice(WORDS)}"
        if rng.random() < 0.015:
            objet += '; volet "' + rng.choice(WORDS) + '"'
        rna = "" if rng.random() < 0.12 else f"W{rng.randint(100000000, 999999999)}"
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        paid = "" if rng.random() < 0.06 else f"{year}-{month:02d}-{min(day + 1, 28):02d}"
        yield [str(i), str(year), code, commune, _quote(name), rna,
               rng.choices(CATEGORIES, [14 - k for k in range(14)])[0], _quote(objet),
               rng.choice(NATURES), _french_amount(rng), f"{day:02d}/{month:02d}/{year}", paid,
               f"{lat + rng.uniform(-0.05, 0.05):.6f}".replace(".", ","),
               f"{lon + rng.uniform(-0.05, 0.05):.6f}".replace(".", ",")]


def write(path: Path, count: int, seed: int = 20261125) -> Path:
    """Write the file once; an existing complete file is reused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        out.write(";".join(HEADER) + "\n")
        batch: list[str] = []
        for row in rows(count, seed):
            batch.append(";".join(row))
            if len(batch) == 10_000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
    partial.replace(path)
    return path


if __name__ == "__main__":
    write(Path(sys.argv[2]), int(sys.argv[1]))
