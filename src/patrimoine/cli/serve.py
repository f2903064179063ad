"""patrimoine serve: the web application."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from patrimoine.cli.common import console, services
from patrimoine.web.app import create_app


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the back-office, the portal and the API."""
    svc = services()
    app = create_app(services=svc)
    host = host or svc.settings.host
    port = port or svc.settings.port
    console.print(f"Patrimoine sert sur http://{host}:{port} (données : {svc.settings.data_dir})")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
