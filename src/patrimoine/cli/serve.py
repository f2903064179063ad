"""patrimoine serve: the web application."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from patrimoine.cli.common import console, services


def serve(
    host: Annotated[str | None, typer.Option(
        help="Adresse d'écoute (127.0.0.1 par défaut).")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute (8000 par défaut).")] = None,
) -> None:
    """Servir le back-office, le portail et l'API."""
    # Imported here: every other command starts faster without the web application.
    import uvicorn

    from patrimoine.web.app import create_app

    svc = services()
    app = create_app(services=svc)
    host = host or svc.settings.host
    port = port or svc.settings.port
    console.print(f"Patrimoine sert sur http://{host}:{port} (données : {svc.settings.data_dir})")
    # The compiled HTTP parser and event loop (dependencies): a page answered by the API
    # spends less time in the server than in h11 and asyncio's pure-Python loop.
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False,
                http="httptools", loop="uvloop" if sys.platform != "win32" else "auto",
                access_log=svc.settings.access_log)
