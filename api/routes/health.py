"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from opensearchpy.exceptions import OpenSearchException

from api.deps import OpenSearchDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=None)
async def ready(client: OpenSearchDep) -> dict[str, str] | JSONResponse:
    """OpenSearch answers with a yellow or green cluster."""
    try:
        cluster = await client.cluster.health()
    except OpenSearchException:
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "detail": "OpenSearch is unreachable."},
            headers={"Retry-After": "5"},
        )
    if cluster["status"] == "red":
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "detail": "OpenSearch cluster is red."},
            headers={"Retry-After": "5"},
        )
    return {"status": "ready", "opensearch": cluster["status"]}
