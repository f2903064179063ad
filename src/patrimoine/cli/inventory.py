"""patrimoine inventory …: the dataset inventory."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, services
from patrimoine.inventory import queries

app = typer.Typer(help="L'inventaire des jeux de données.", no_args_is_help=True)


@app.command("stats")
def stats(
    by: Annotated[str, typer.Option(help="organisation, department, theme, source, sharing or "
                                         "confidentiality.")] = "organisation",
    as_json: Annotated[bool, typer.Option("--json", help="Print {value: count} as JSON.")] = False,
) -> None:
    """Count inventory entries per value of a field, as in the Troyes audit tables."""
    svc = services()
    with svc.db.unit_of_work() as session:
        rows = queries.statistics(session, Principal.system("ligne de commande"), by)
    if as_json:
        typer.echo(json.dumps({r.value: r.count for r in rows}, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Inventaire par {queries.FIELD_LABELS[by].lower()}")
    table.add_column(queries.FIELD_LABELS[by])
    table.add_column("Nombre", justify="right")
    table.add_column("Part", justify="right")
    for r in rows:
        table.add_row(r.value, str(r.count), f"{r.percent:.1f} %".replace(".", ","))
    table.add_row("[b]Total général[/b]", f"[b]{sum(r.count for r in rows)}[/b]", "100 %")
    console.print(table)
