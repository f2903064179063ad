"""create_app(settings): the web application, with nothing built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from anyio import to_thread
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from patrimoine import __version__
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.web import audit_heads, errors
from patrimoine.web.api import accounts as api_accounts
from patrimoine.web.api import audit as api_audit
from patrimoine.web.api import charter as api_charter
from patrimoine.web.api import ckan as api_ckan
from patrimoine.web.api import datastore as api_datastore
from patrimoine.web.api import dcat as api_dcat
from patrimoine.web.api import findings as api_findings
from patrimoine.web.api import grants as api_grants
from patrimoine.web.api import inventory as api_inventory
from patrimoine.web.api import protection as api_protection
from patrimoine.web.api import publication as api_publication
from patrimoine.web.api import responses as api_responses
from patrimoine.web.api import retention as api_retention
from patrimoine.web.api import sovereignty as api_sovereignty
from patrimoine.web.api import standards as api_standards
from patrimoine.web.api import transparency as api_transparency
from patrimoine.web.body_limit import BodyLimit
from patrimoine.web.head import HeadAsGet
from patrimoine.web.layout_warmer import LayoutWarmer
from patrimoine.web.pages import account as pages_account
from patrimoine.web.pages import account_links as pages_account_links
from patrimoine.web.pages import admin as pages_admin
from patrimoine.web.pages import admin_access as pages_access
from patrimoine.web.pages import admin_accounts as pages_accounts
from patrimoine.web.pages import admin_charter as pages_charter
from patrimoine.web.pages import admin_clauses as pages_clauses
from patrimoine.web.pages import admin_findings as pages_findings
from patrimoine.web.pages import admin_organisations as pages_organisations
from patrimoine.web.pages import admin_partners as pages_partners
from patrimoine.web.pages import admin_protection as pages_protection
from patrimoine.web.pages import admin_publication as pages_publication
from patrimoine.web.pages import admin_report as pages_report
from patrimoine.web.pages import admin_retention as pages_retention
from patrimoine.web.pages import admin_sovereignty as pages_sovereignty
from patrimoine.web.pages import admin_standards as pages_standards
from patrimoine.web.pages import admin_transparency as pages_transparency
from patrimoine.web.pages import admin_worklist as pages_worklist
from patrimoine.web.pages import auth as pages_auth
from patrimoine.web.pages import documents as pages_documents
from patrimoine.web.pages import forecast_public as pages_forecast_public
from patrimoine.web.pages import portal as pages_portal
from patrimoine.web.pages import report_public as pages_report_public
from patrimoine.web.pages import signatories_public as pages_signatories_public
from patrimoine.web.pages import transparency_public as pages_transparency_public
from patrimoine.web.security import SecurityHeaders
from patrimoine.web.templating import make_templates
from patrimoine.web.wellformed import WellFormedText

STATIC_DIR = Path(__file__).parent / "static"
# Worker threads beyond the database turns: static files, streamed exports, pages without
# the database.
EXTRA_THREADS = 8
log = logging.getLogger("patrimoine")


async def _remove_orphan_files(services: Services) -> None:
    """Version files left by a process killed mid-ingest (datastore/versions.py)."""
    try:
        await run_in_threadpool(versions.remove_orphan_files, services.db.engine,
                                services.settings)
    except Exception:
        log.exception("orphan version files could not be removed")


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    services = services or bootstrap(settings)
    settings = services.settings
    warmer = LayoutWarmer(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Query layouts are built in the background, not by the first request that needs one.
        # Requests take a turn on the database (web/deps.py) before a connection; threads
        # are sized with the turns, so that each request holding one can always run.
        _app.state.db_turns = anyio.Semaphore(services.db.connections)
        to_thread.current_default_thread_limiter().total_tokens = \
            services.db.connections + EXTRA_THREADS
        if settings.warm_layouts:
            warmer.start(initial=True)
        services.usage.start_flushing(services.db)
        await _remove_orphan_files(services)
        await audit_heads.publish_now(services)  # before any request: no race with writers
        publisher = asyncio.create_task(audit_heads.publish_daily(services))
        try:
            yield
        finally:
            warmer.stop()
            services.usage.stop_flushing(services.db)
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher

    app = FastAPI(
        lifespan=lifespan,
        title="Patrimoine",
        version=__version__,
        description="API du patrimoine de données : inventaire, entrepôt de données, portail.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.state.layout_warmer = warmer
    app.state.templates = make_templates()
    # Innermost: its error pages read the session, and a body bound, when there is one,
    # must come before it reads a whole body.
    app.add_middleware(WellFormedText)
    # Outside WellFormedText (which reads whole bodies), inside the session.
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="patrimoine_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(HeadAsGet)  # outermost: HEAD runs every route as its GET
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (api_accounts.router, api_inventory.router, api_datastore.router,
                   api_protection.router,
                   api_retention.router, pages_retention.router,
                   api_charter.router, pages_charter.router,
                   api_sovereignty.router, pages_sovereignty.router, pages_partners.router,
                   pages_clauses.router,
                   api_grants.router, api_audit.router, pages_access.router,
                   api_findings.router, api_publication.router,
                   api_dcat.router, api_ckan.router,
                   api_standards.router, pages_standards.router,
                   api_transparency.router, pages_transparency.router,
                   pages_findings.router,
                   pages_auth.router, pages_account_links.router, pages_account.router,
                   pages_accounts.router, pages_organisations.router,
                   pages_admin.router, pages_publication.router,
                   pages_protection.router, pages_worklist.router, pages_report.router,
                   audit_heads.router, pages_transparency_public.router,
                   pages_signatories_public.router, pages_documents.router,
                   pages_forecast_public.router, pages_report_public.router,
                   pages_portal.router):
        # The routers' routes as they are (each router already applied its prefix, tags,
        # responses and dependencies when its routes were declared): include_router would
        # rebuild every route for every application, ~0.3 s of CPU per app made.
        app.router.routes.extend(router.routes)
    api_responses.declare_security(app)
    return app
