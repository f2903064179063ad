"""The public register as files, and the *mention explicite* of a decision.

- `FIELDS` is the one list of the exported fields, in order, with their French meaning:
  the CSV's columns and the JSON's keys follow it, and docs/transparency.md documents it.
  Lists are flattened in the CSV (parameters "name (weight) : description" joined with
  " | ", datasets by title); the JSON keeps them structured. CSV cells a spreadsheet would
  run as a formula are neutralised (core/csvcells.py).
- `mention_explicite` writes the text block a decision letter carries when the decision
  was taken on the basis of an algorithmic processing (CRPA R311-3-1-1): that it was, for
  what purpose, that the person may obtain the rules and main characteristics of the
  processing (L311-3-1, R311-3-1-2), and how to ask for them. The wording is ours.
"""

from __future__ import annotations

import io
import json
from typing import Any

from patrimoine.core import csvcells
from patrimoine.core.vocabulary import label
from patrimoine.transparency.models import Automation, DocumentKind, PublicAlgorithm
from patrimoine.transparency.service import algorithm_organisation_name, public_datasets

FIELDS: list[tuple[str, str]] = [
    ("reference", "Référence de l'algorithme dans le registre de l'organisation"),
    ("name", "Nom de l'algorithme"),
    ("organisation", "Organisation qui l'utilise"),
    ("department", "Service ou direction responsable"),
    ("contact", "Contact pour toute question ou demande"),
    ("purpose", "Finalité : la décision que l'algorithme prend ou aide à prendre"),
    ("legal_basis", "Base légale (texte, délibération)"),
    ("decisions_per_year", "Nombre de décisions prises par an (estimation)"),
    ("public_concerned", "Public concerné"),
    ("automation", "Degré d'automatisation : fully_automated ou decision_support"),
    ("kind", "Nature : rules, statistical ou machine_learning"),
    ("parameters", "Paramètres du traitement et leur pondération"),
    ("operations", "Opérations effectuées par le traitement"),
    ("human_oversight", "Intervention humaine dans la décision"),
    ("appeal", "Voies de recours"),
    ("risks", "Risques identifiés et mesures"),
    ("dpia", "Analyse d'impact (AIPD) : true si elle est liée au registre RGPD"),
    ("datasets", "Jeux de données de l'inventaire utilisés (publics)"),
    ("supplier", "Fournisseur"),
    ("contracts", "Contrats par lesquels il est acquis ou exploité (référence — intitulé)"),
    ("source_code_url", "Adresse du code source"),
    ("source_code_licence", "Licence du code source"),
    *[(f"document_{k.value}", f"{label(k)} (adresse)") for k in DocumentKind],
    ("published_on", "Date de publication (AAAA-MM-JJ)"),
    ("review_on", "Date de la prochaine revue (AAAA-MM-JJ)"),
    ("url", "Page publique de l'algorithme"),
]


def public_record(algorithm: PublicAlgorithm, base_url: str) -> dict[str, Any]:
    """One published entry, keyed by `FIELDS`, its lists kept structured."""
    docs = algorithm.documents or {}
    record: dict[str, Any] = {
        "reference": algorithm.reference, "name": algorithm.name,
        "organisation": algorithm_organisation_name(algorithm),
        "department": algorithm.department, "contact": algorithm.contact,
        "purpose": algorithm.purpose, "legal_basis": algorithm.legal_basis,
        "decisions_per_year": algorithm.decisions_per_year,
        "public_concerned": algorithm.public_concerned,
        "automation": algorithm.automation.value, "kind": algorithm.kind.value,
        "parameters": [dict(p) for p in algorithm.parameters],
        "operations": algorithm.operations, "human_oversight": algorithm.human_oversight,
        "appeal": algorithm.appeal, "risks": algorithm.risks,
        "dpia": algorithm.dpia_id is not None,
        "datasets": [d.title for d in public_datasets(algorithm)],
        "supplier": algorithm.supplier,
        "contracts": [f"{c.reference} — {c.title}" for c in algorithm.contracts],
        "source_code_url": algorithm.source_code_url,
        "source_code_licence": algorithm.source_code_licence,
        **{f"document_{k.value}": _absolute((docs.get(k.value) or {}).get("url"), base_url)
           for k in DocumentKind},
        "published_on": algorithm.published_on.isoformat() if algorithm.published_on else None,
        "review_on": algorithm.review_on.isoformat() if algorithm.review_on else None,
        "url": public_url(algorithm, base_url),
    }
    return record


def _absolute(url: str | None, base_url: str) -> str | None:
    """A document kept here has a path; the register gives everyone a full address."""
    return f"{base_url.rstrip('/')}{url}" if url and url.startswith("/") else url


def public_url(algorithm: PublicAlgorithm, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/algorithmes/{algorithm.id}"


def _parameter(p: dict[str, Any]) -> str:
    text = p["name"] + (f" ({p['weight']})" if p.get("weight") else "")
    return text + (f" : {p['description']}" if p.get("description") else "")


def csv_text(algorithms: list[PublicAlgorithm], base_url: str) -> str:
    out = io.StringIO()
    writer = csvcells.writer(out)
    writer.writerow([name for name, _ in FIELDS])
    for algorithm in algorithms:
        record = public_record(algorithm, base_url)
        record["parameters"] = " | ".join(_parameter(p) for p in record["parameters"])
        record["datasets"] = " | ".join(record["datasets"])
        record["contracts"] = " | ".join(record["contracts"])
        record["dpia"] = "oui" if record["dpia"] else "non"
        writer.writerow(["" if v is None else v for v in record.values()])
    return out.getvalue()


def json_text(algorithms: list[PublicAlgorithm], base_url: str) -> str:
    return json.dumps({"fields": [{"name": n, "description": d} for n, d in FIELDS],
                       "algorithms": [public_record(a, base_url) for a in algorithms]},
                      ensure_ascii=False, indent=2)


def mention_explicite(algorithm: PublicAlgorithm, base_url: str) -> str:
    """The French text block for the letters notifying a decision taken with `algorithm`."""
    organisation = algorithm_organisation_name(algorithm)
    how = ("a été prise sur le fondement d'un traitement algorithmique"
           if algorithm.automation == Automation.FULLY_AUTOMATED else
           "a été prise avec l'aide d'un traitement algorithmique, puis examinée par un agent")
    purpose = algorithm.purpose.strip().rstrip(".")
    return (
        f"Cette décision {how} (« {algorithm.name} », référence {algorithm.reference}), "
        f"dont la finalité est la suivante : {purpose}.\n"
        "Conformément aux articles L311-3-1 et R311-3-1-1 du code des relations entre le "
        "public et l'administration, vous pouvez obtenir communication des règles qui "
        "définissent ce traitement et des principales caractéristiques de sa mise en œuvre "
        "dans votre cas : le degré et le mode de contribution du traitement à la décision, "
        "les données traitées et leurs sources, les paramètres du traitement et leur "
        "pondération appliqués à votre situation, et les opérations qu'il effectue "
        "(article R311-3-1-2).\n"
        f"Pour en faire la demande, écrivez à {organisation} : {algorithm.contact}, en "
        "rappelant la référence de cette décision. La réponse vous parviendra dans un délai "
        "d'un mois.\n"
        f"Description publique de l'algorithme : {public_url(algorithm, base_url)}"
    )
