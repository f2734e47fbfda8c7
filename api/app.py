"""The FastAPI application: routers, error handling, and what one process keeps (settings,
policy, OpenSearch clients, the real-time resolver)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.deps import documented_callers
from api.errors import install_error_handlers
from api.fast_lookup import LookupFastPath
from api.guards import BodyLimit, SecurityHeaders, quiet_access_log
from api.policy import Policy
from api.routes import (
    actions,
    audit,
    cards,
    changes,
    consents,
    customers,
    events,
    health,
    me,
    records,
    review,
    rights,
    search,
    segments,
    webhooks,
)
from api.schemas import ERROR_RESPONSES
from indexers.push import RecordPusher
from search.actions.rules import RulesWatcher
from search.audit import ensure_audit_index
from search.audit_journal import AuditJournal
from search.audit_shipper import AuditShipper, ShippingLimits
from search.client import async_client, sync_client
from search.indices import IndexNames
from search.misuse import WatchedAuditWriter
from search.resolve.config import ResolutionConfig
from search.resolve.realtime import RealTimeResolver
from search.segments.store import refresh_profiles
from search.warm_up import NodeWarmer, WarmUpPlan
from settings import Settings

STATIC = Path(__file__).with_name("static")


def create_app(settings: Settings, policy: Policy, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The API for `settings`, serving `policy` (api.policy.serving_policy says which may be served);
    `clock` stamps the audit entries (the wall clock unless a test pins it)."""
    names = IndexNames.for_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.opensearch = async_client(settings, maxsize=settings.api_opensearch_connections)
        app.state.sync_opensearch = sync_client(settings)
        limits = {name: role.max_customers_per_hour for name, role in policy.roles.items() if role.max_customers_per_hour}
        journal = AuditJournal(settings.audit_journal_folder, settings.audit_journal_segment_bytes)
        journal.open()
        app.state.audit = WatchedAuditWriter(journal, limits, settings.misuse_delay_s, clock)
        app.state.audit_shipper = AuditShipper(
            journal,
            app.state.opensearch,
            names,
            ShippingLimits(settings.audit_ship_batch_bytes, settings.audit_ship_interval_s, settings.audit_ship_retry_s),
            settings.suppression_key_bytes,
        )
        resolver = RealTimeResolver(
            app.state.sync_opensearch, names, ResolutionConfig.load(settings.resolution_config), settings.suppression_key_bytes
        )
        app.state.resolver = resolver
        app.state.pusher = RecordPusher(
            app.state.sync_opensearch,
            names,
            resolver,
            settings.suppression_key_bytes,
            # A pushed record recomputes the segments of every customer it changed (search.segments).
            on_customers_changed=lambda ids: refresh_profiles(app.state.sync_opensearch, settings, names, ids),
        )
        with suppress(Exception):  # the node may come up later; /ready says so meanwhile
            await ensure_audit_index(app.state.opensearch, names)
        with suppress(Exception):  # the misuse counts start from the trail's last hour (search.misuse), or from zero
            await asyncio.wait_for(app.state.audit.refresh_shared(app.state.opensearch, names), settings.api_opensearch_timeout_s)
        app.state.audit.start(app.state.opensearch, names, settings.misuse_refresh_s)
        app.state.audit_shipper.start()
        # The first agents' views do not pay the node's JVM warm-up: phantom views in the background.
        viewers = [role.field_access() for role in policy.roles.values() if "customers" in role.endpoints]
        plan = WarmUpPlan(names, tuple(viewers), tuple(settings.events_holding_attributes), customers.DEFAULT_PAGE, settings.warm_up_rounds)
        app.state.warmer = NodeWarmer(app.state.opensearch, plan, settings.warm_up_check_s)
        app.state.warmer.start()
        try:
            yield
        finally:
            await app.state.warmer.stop()
            await app.state.audit.stop()
            journal.close()
            await app.state.audit_shipper.stop(settings.api_opensearch_timeout_s)
            await app.state.opensearch.close()
            app.state.sync_opensearch.close()

    app = FastAPI(
        title="rcu",
        summary="Référentiel Client Unique: one customer out of many systems.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.policy = policy
    app.state.access = {name: role.field_access() for name, role in policy.roles.items()}
    app.state.names = names
    app.state.rules = RulesWatcher(settings.actions)
    install_error_handlers(app)
    # Added first, so innermost: the body limit and the security headers wrap its answers too.
    app.add_middleware(LookupFastPath)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(SecurityHeaders)
    quiet_access_log(not settings.access_log_queries)

    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def counter_page() -> FileResponse:
        """The counter screen (French)."""
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/revue", include_in_schema=False)
    async def review_page() -> FileResponse:
        """The data steward's workbench (French)."""
        return FileResponse(STATIC / "revue.html", headers={"Cache-Control": "no-cache"})

    for router in (
        me.router,
        search.router,
        cards.router,
        customers.router,
        consents.router,
        rights.router,
        records.router,
        events.router,
        changes.router,
        webhooks.router,
        audit.router,
        segments.router,
        actions.router,
        review.router,
    ):
        app.include_router(router, responses=ERROR_RESPONSES)
    documented_callers(app)
    return app
