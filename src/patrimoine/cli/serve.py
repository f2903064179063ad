"""patrimoine serve: the web application."""

from __future__ import annotations

import sys
from functools import partial
from typing import Annotated

import typer

from patrimoine.cli.common import console, services


def serve(
    host: Annotated[str | None, typer.Option(
        help="Adresse d'écoute (127.0.0.1 par défaut).")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute (8000 par défaut).")] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Processus servant les requêtes (1 par défaut ; un par cœur au plus).")] = 1,
) -> None:
    """Servir le back-office, le portail et l'API."""
    # Imported here: every other command starts faster without the web application.
    import uvicorn

    from patrimoine.web.app import create_app

    svc = services()  # the schema is checked once, before any worker starts
    svc.settings.resolved_secret_key()  # and the key made once, for every worker to read
    host = host or svc.settings.host
    port = port or svc.settings.port
    plural = f", {workers} processus" if workers > 1 else ""
    console.print(f"Patrimoine sert sur http://{host}:{port} (données : "
                  f"{svc.settings.data_dir}{plural})")
    # The base of every link that leaves the instance (catalogues, DCAT, CKAN): said at
    # start, since a wrong one only shows once harvested.
    console.print(f"Adresse publique des liens (catalogues, DCAT, CKAN) : "
                  f"{svc.settings.public_url} (réglage PATRIMOINE_PUBLIC_URL)", highlight=False)
    # The compiled HTTP parser and event loop (dependencies): a page answered by the API
    # spends less time in the server than in h11 and asyncio's pure-Python loop.
    run = partial(uvicorn.run, host=host, port=port, log_level="info",
                  # A client's address (login throttling, audit) comes from the proxy's
                  # X-Forwarded-For only when that proxy is trusted.
                  proxy_headers=bool(svc.settings.trusted_proxies),
                  forwarded_allow_ips=svc.settings.trusted_proxies or None,
                  http="httptools", loop="uvloop" if sys.platform != "win32" else "auto",
                  access_log=svc.settings.access_log)
    if workers > 1:
        # Each worker process builds its own application from the same PATRIMOINE_*
        # settings (create_app is the factory).
        svc.db.dispose()
        run("patrimoine.web.app:create_app", factory=True, workers=workers)
    else:
        run(create_app(services=svc))
