"""The FastAPI application: routers, lifespan (one OpenSearch client per process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import health
from rcu.settings import Settings, get_settings
from search.client import async_client


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.opensearch = async_client(settings)
        try:
            yield
        finally:
            await app.state.opensearch.close()

    app = FastAPI(title="rcu", summary="Référentiel Client Unique: one customer out of many systems.", lifespan=lifespan)
    app.include_router(health.router)
    return app
