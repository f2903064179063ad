"""patrimoine protection findings|decide|anonymise|k-anonymity|gate …: personal data in the
versions of a dataset, from the command line (acting as the operator of the instance)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, services
from patrimoine.core.errors import NotFound
from patrimoine.datastore import versions as store
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.findings import disclosure, service
from patrimoine.protection.gate import publication_blockers
from patrimoine.protection.scanner import KIND_LABELS, SEVERITY_LABELS

CLI = "ligne de commande"

SlugArg = Annotated[str, typer.Argument(help="Identifiant (slug) du jeu de données.")]
VersionOpt = Annotated[int | None, typer.Option(
    "--version", help="Numéro de la version (par défaut la dernière).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie en JSON.")]


def _principal(by: str | None) -> Principal:
    return Principal.system(f"{CLI} ({by})" if by else CLI)


def _target(session: Session, slug: str, number: int | None) -> tuple[Dataset, DatasetVersion]:
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is None:
        raise NotFound(f"Jeu de données « {slug} » introuvable.")
    if number is not None:
        return dataset, store.get_version(session, dataset, number)
    latest = store.latest_version(session, dataset)
    if latest is None:
        raise NotFound(f"Le jeu de données « {slug} » n'a encore aucune version de données.")
    return dataset, latest


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %".replace(".", ",")


def _print_findings(dataset: Dataset, version: DatasetVersion,
                    views: list[service.FindingView], blockers: list[str]) -> None:
    where = f"« {dataset.slug} », version {version.number}"
    if not views:
        console.print(f"Aucune donnée personnelle détectée dans {where}.")
    else:
        out = Table(title=f"Données personnelles dans {where}")
        for title in ("Colonne", "Nature", "Part des lignes", "Exemples masqués", "Gravité",
                      "État", "Décision"):
            out.add_column(title)
        for v in views:
            f, d = v.finding, v.decision
            state = service.STATUS_LABELS[v.status]
            if f.cleared_by:
                state += f" ({service.OPERATION_LABELS[f.cleared_by]})"
            decided = f"{d.decided_by_label}, {d.decided_at:%d/%m/%Y} : {d.reason}" \
                if d is not None else ""
            out.add_row(f.column, KIND_LABELS[f.kind], _pct(f.share), ", ".join(f.examples),
                        SEVERITY_LABELS.get(f.severity, f.severity), state, decided)
        console.print(out)
    if blockers:
        console.print(f"Publication en données ouvertes refusée ({len(blockers)} motif(s)) :")
        for reason in blockers:
            console.print(f"  - {reason}", markup=False)
    else:
        console.print("Rien ne s'oppose à la publication en données ouvertes.")


def findings(
    slug: SlugArg, version: VersionOpt = None, as_json: JsonOpt = False,
    rescan: Annotated[bool, typer.Option("--rescan", help="Analyser de nouveau (les décisions "
                                                          "sont conservées).")] = False,
) -> None:
    """Données personnelles détectées dans une version (analysée à la première demande)."""
    svc = services()
    principal = _principal(None)
    with svc.db.unit_of_work() as session:
        dataset, target = _target(session, slug, version)
        if rescan:
            service.scan_version(session, svc.settings, target, principal)
        views = service.list_findings(session, svc.settings, principal, dataset, target)
        blockers = publication_blockers(session, target, svc.settings)
        if as_json:
            typer.echo(json.dumps({"dataset": dataset.slug, "version": target.number,
                                   "blockers": blockers,
                                   "findings": [v.to_dict() for v in views]},
                                  ensure_ascii=False, indent=2))
            return
        _print_findings(dataset, target, views, blockers)


def decide(
    slug: SlugArg,
    column: Annotated[str, typer.Argument(help="Colonne du constat.")],
    kind: Annotated[str, typer.Argument(help="Nature : email, phone, nir, iban, name, address, "
                                             "birth_date, plate, position.")],
    decision: Annotated[str, typer.Argument(help="confirmed, not_personal ou accepted.")],
    reason: Annotated[str, typer.Option("--reason", help="Motif (obligatoire pour écarter un "
                                                         "constat).")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Qui décide (par exemple le nom du "
                                                        "DPO), inscrit avec la décision.")] = None,
    version: VersionOpt = None,
) -> None:
    """Confirmer ou écarter un constat ; la décision vaut pour les versions suivantes."""
    svc = services()
    with svc.db.unit_of_work() as session:
        dataset, target = _target(session, slug, version)
        service.ensure_scanned(session, svc.settings, target)
        service.decide(session, _principal(by), dataset, target, column, kind, decision, reason)
        blockers = publication_blockers(session, target, svc.settings)
    console.print(f"Décision enregistrée pour « {column} » ({KIND_LABELS.get(kind, kind)}). "
                  f"Motifs de refus de publication restants : {len(blockers)}.")


def anonymise(
    slug: SlugArg, version: VersionOpt = None, as_json: JsonOpt = False,
    drop: Annotated[list[str] | None, typer.Option("--drop", help="Colonne à supprimer.")] = None,
    mask: Annotated[list[str] | None, typer.Option(
        "--mask", help="COLONNE[:DÉBUT:FIN] : masquer en gardant les premiers et derniers "
                       "caractères (1 et 1 par défaut).")] = None,
    pseudonymise: Annotated[list[str] | None, typer.Option(
        "--pseudonymise", help="Colonne à pseudonymiser (HMAC-SHA256, clé gardée hors des "
                               "données) : le résultat reste une donnée personnelle.")] = None,
    generalise: Annotated[list[str] | None, typer.Option(
        "--generalise", help="COLONNE:NIVEAU : month, year (dates), band[:N] (tranches de N), "
                             "grid[:N] (positions sur une grille de N mètres), department "
                             "(codes postaux).")] = None,
    quasi: Annotated[list[str] | None, typer.Option(
        "--quasi", help="Quasi-identifiant désigné par le DPO (le k-anonymat est calculé sur "
                        "eux et les colonnes généralisées avant toute publication).")] = None,
    sensitive: Annotated[str | None, typer.Option(
        "--sensitive", help="Colonne sensible (l-diversité).")] = None,
) -> None:
    """Créer une version anonymisée ; la version d'origine reste inchangée."""
    plan = anon.parse_cli(drop or [], mask or [], pseudonymise or [], generalise or [])
    svc = services()
    with svc.db.unit_of_work() as session:
        dataset, source = _target(session, slug, version)
        created = anon.anonymise(session, svc.settings, _principal(None), dataset, source, plan,
                                 quasi or [], sensitive)
        views = service.views(session, created)
        blockers = publication_blockers(session, created, svc.settings)
        record: dict[str, Any] = created.ingest_settings["anonymisation"]
        if as_json:
            typer.echo(json.dumps({"dataset": dataset.slug, "version": created.number,
                                   "source_version": source.number,
                                   "operations": record["operations"], "blockers": blockers,
                                   "quasi_identifiers": record["quasi_identifiers"],
                                   "warnings": record["warnings"],
                                   "findings": [v.to_dict() for v in views]},
                                  ensure_ascii=False, indent=2))
            return
        console.print(f"Version {created.number} créée à partir de la version {source.number} "
                      f"({created.row_count} lignes) :")
        for op in record["operations"]:
            console.print(f"  - {anon.Operation(**op).describe()}", markup=False)
        for warning in record["warnings"]:
            console.print(f"Attention : {warning}", markup=False)
        _print_findings(dataset, created, views, blockers)


def k_anonymity(
    slug: SlugArg,
    columns: Annotated[str, typer.Option("--columns", help="Quasi-identifiants séparés par des "
                                                           "virgules.")],
    k: Annotated[int | None, typer.Option("--k", help="k visé (par défaut le seuil des petits "
                                                      "effectifs).")] = None,
    version: VersionOpt = None, as_json: JsonOpt = False,
) -> None:
    """k-anonymat d'une version sur des quasi-identifiants."""
    svc = services()
    with svc.db.session() as session:
        dataset, target = _target(session, slug, version)
        report = disclosure.k_anonymity(svc.settings, target, columns.split(","), target=k)
    if as_json:
        typer.echo(json.dumps({"dataset": dataset.slug, "version": target.number,
                               **report.to_dict()}, ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"k = {report.k} sur {', '.join(report.columns)} : {report.classes} classes, "
                  f"{report.rows} lignes ; {report.classes_below_target} classe(s) sous k = "
                  f"{report.target} ({report.rows_below_target} lignes).", markup=False)
    out = Table(title="Plus petites classes")
    for c in report.columns:
        out.add_column(c)
    out.add_column("Effectif", justify="right")
    for cls in report.worst:
        out.add_row(*(str(cls["values"][c]) for c in report.columns), str(cls["size"]))
    console.print(out)


def gate(slug: SlugArg, version: VersionOpt = None) -> None:
    """La version peut-elle être publiée en données ouvertes ? (code de sortie 1 sinon)"""
    svc = services()
    with svc.db.unit_of_work() as session:
        _dataset, target = _target(session, slug, version)
        blockers = publication_blockers(session, target, svc.settings)
    if not blockers:
        console.print(f"La version {target.number} peut être publiée en données ouvertes.")
        return
    console.print(f"La version {target.number} ne peut pas être publiée en données ouvertes :")
    for reason in blockers:
        console.print(f"  - {reason}", markup=False)
    raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.command("findings")(findings)
    app.command("decide")(decide)
    app.command("anonymise")(anonymise)
    app.command("k-anonymity")(k_anonymity)
    app.command("gate")(gate)
