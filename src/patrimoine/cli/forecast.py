"""patrimoine forecast canteens …: school-canteen attendance forecasts (import the service's
files as datasets, predict the coming weeks, replay a past school year, register the
algorithm). `predict` and `backtest` read the imported datasets, or a folder with --data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.cli.common import command_services, console
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.forecast import backtest as backtests
from patrimoine.forecast import model, service
from patrimoine.forecast import predict as predicting
from patrimoine.forecast.canteens import History, read_folder
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Organisation

app = typer.Typer(help="Prévisions publiques et expliquées.", no_args_is_help=True)
canteens = typer.Typer(help="Fréquentation des cantines scolaires.", no_args_is_help=True)
app.add_typer(canteens, name="canteens")

CLI = "ligne de commande"
DataOpt = Annotated[Path | None, typer.Option(
    "--data", help="Lire les fichiers d'un dossier plutôt que les jeux de données importés.")]
OrgOpt = Annotated[str | None, typer.Option(
    "--organisation", help="Nom ou identifiant (slug) de l'organisation (par défaut la "
                           "première).")]



def _organisation(session: Session, name: str | None) -> Organisation:
    if name:
        org = inventory.find_organisation(session, name)
        if org is None:
            raise NotFound(f"Organisation « {name} » introuvable.")
        return org
    org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if org is None:
        raise Invalid("Aucune organisation n'existe encore : créez-en une avant d'importer.")
    return org


def _history(data: Path | None) -> History:
    if data is not None:
        return read_folder(data)
    svc = command_services()
    with svc.db.session() as s:
        return service.history_from_store(s, svc.settings)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"« {text} » n'est pas une date AAAA-MM-JJ.",
                                 param_hint=option) from None


@canteens.command("import")
def import_(
    folder: Annotated[Path, typer.Argument(help="Dossier des fichiers du service.")],
    organisation: OrgOpt = None,
) -> None:
    """Charger les fichiers d'un dossier comme versions de jeux de données internes."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        org = _organisation(s, organisation)
        loaded = service.import_folder(s, svc.settings, Principal.system(CLI), org, folder)
    for name, number, unchanged in loaded:
        console.print(f"{name} : " + ("inchangé" if unchanged else f"version {number}"))


@canteens.command("predict")
def predict(
    start: Annotated[str, typer.Option("--from", help="Premier jour (AAAA-MM-JJ).")],
    end: Annotated[str, typer.Option("--to", help="Dernier jour (AAAA-MM-JJ).")],
    service_level: Annotated[float, typer.Option(
        "--service-level", help="Proportion des jours où la commande doit suffire.")] = 0.97,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie en JSON.")] = False,
    data: DataOpt = None,
) -> None:
    """Prévoir les jours de service entre deux dates, avec la fréquentation d'avant --from."""
    first, last = _date(start, "--from"), _date(end, "--to")
    predicting.check_request(first, last, service_level)
    result = predicting.predict(_history(data), first, last, service_level)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    table = Table("Jour", "Prévision", "Commande proposée", "Intervalle (10 %-90 %)")
    for d in result["days"]:
        table.add_row(d["date"], str(d["forecast"]), str(d["order"]),
                      f"{d['low']} – {d['high']}")
    console.print(table)


@canteens.command("backtest")
def backtest(
    year: Annotated[str, typer.Option("--year", help="Année scolaire, par exemple 2016-2017.")],
    weeks: Annotated[int, typer.Option("--weeks", help="Semaines d'avance (au moins 10).")] = 10,
    service_level: Annotated[float, typer.Option("--service-level")] = 0.97,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie en JSON.")] = False,
    data: DataOpt = None,
) -> None:
    """Rejouer une année scolaire passée avec des origines glissantes."""
    if weeks < 10:
        raise typer.BadParameter("Au moins 10 semaines d'avance.", param_hint="--weeks")
    predicting.check_service_level(service_level)
    result = backtests.backtest_year(model.prepare(_history(data)), year, weeks=weeks,
                                     service_level=service_level)
    with_strikes, without = result.metrics(), result.metrics(strikes=False)
    summary = {"year": year, "weeks": weeks, "service_level": service_level,
               "with_strikes": with_strikes, "without_strikes": without}
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    console.print(f"Année scolaire {year}, prévisions à {weeks} semaines, niveau de service "
                  f"{service_level:.0%}")
    for title, m in (("avec les jours de grève", with_strikes),
                     ("sans les jours de grève", without)):
        console.print(backtests.describe(m, title))


@canteens.command("register")
def register(organisation: OrgOpt = None) -> None:
    """Inscrire la prévision au registre des algorithmes (brouillon, avec ses documents)."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        org = _organisation(s, organisation)
        entry = service.register(s, Principal.system(CLI), org, svc.settings.public_url)
        console.print(f"Registre des algorithmes : {entry.reference} « {entry.name} ».")


@canteens.command("publish")
def publish(
    start: Annotated[str, typer.Option("--from", help="Premier jour prévu (AAAA-MM-JJ).")],
    end: Annotated[str, typer.Option("--to", help="Dernier jour prévu (AAAA-MM-JJ).")],
    years: Annotated[str, typer.Option(
        "--years", help="Années scolaires rejouées, séparées par des virgules.")],
    service_level: Annotated[float, typer.Option("--service-level")] = 0.97,
    organisation: OrgOpt = None,
    data: DataOpt = None,
) -> None:
    """Publier la prévision et ses backtests en données ouvertes, et la page qui les explique."""
    first, last = _date(start, "--from"), _date(end, "--to")
    predicting.check_request(first, last, service_level)
    history = _history(data)
    svc = command_services()
    with svc.db.unit_of_work() as s:
        org = _organisation(s, organisation)
        summary = service.publish(s, svc.settings, Principal.system(CLI), org, history, first,
                                  last, [y.strip() for y in years.split(",") if y.strip()],
                                  service_level)
    console.print(f"{len(summary['forecast']['days'])} jour(s) prévu(s), "
                  f"{len(summary['accuracy'])} année(s) rejouée(s) : publiés.")


@canteens.command("adjust")
def adjust(
    day: Annotated[str, typer.Option("--date", help="Jour de service (AAAA-MM-JJ).")],
    order: Annotated[int, typer.Option("--order", help="Commande retenue (repas).")],
    reason: Annotated[str, typer.Option("--reason", help="Motif, conservé.")],
    site: Annotated[str | None, typer.Option("--site", help="Cantine (par défaut le jour).")
                    ] = None,
    site_type: Annotated[str, typer.Option("--type", help="Type de la cantine : M, E, M/E.")
                         ] = "",
    proposed: Annotated[int | None, typer.Option("--proposed", help="Commande proposée.")
                        ] = None,
    organisation: OrgOpt = None,
) -> None:
    """Modifier à la main la commande d'un jour (ou d'une cantine), motif conservé."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        org = _organisation(s, organisation)
        service.adjust(s, Principal.system(CLI), org, _date(day, "--date"), order, reason,
                       site=(site, site_type) if site else None, proposed=proposed)
    console.print(f"Commande du {day} : {order} repas (motif conservé).")


@canteens.command("adjustments")
def adjustments(organisation: OrgOpt = None, data: DataOpt = None) -> None:
    """Les commandes modifiées à la main, à côté des repas servis quand ils sont connus."""
    svc = command_services()
    with svc.db.session() as s:
        org = _organisation(s, organisation)
        history = read_folder(data) if data else None
        if history is None:
            try:
                history = service.history_from_store(s, svc.settings)
            except Invalid:
                history = None
        rows = service.adjustments(s, org, history)
    print(json.dumps(rows, ensure_ascii=False))
