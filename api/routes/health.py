"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from opensearchpy.exceptions import OpenSearchException

from api.deps import NamesDep, OpenSearchDep
from api.errors import unavailable

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready", response_model=None)
async def ready(request: Request, client: OpenSearchDep, names: NamesDep) -> dict[str, str] | JSONResponse:
    """OpenSearch answers with a yellow or green cluster, and rcu's indices are there."""
    try:
        cluster = await client.cluster.health()
        present = {index: await client.indices.exists(index=index) for index in (names.records, names.customers)}
    except OpenSearchException:
        return unavailable()
    if cluster["status"] == "red":
        return unavailable("OpenSearch cluster is red.")
    missing = sorted(index for index, exists in present.items() if not exists)
    if missing:
        return unavailable(f"Missing indices {', '.join(missing)}: run `rcu demo` or `rcu ingest` and `rcu resolve`.")
    answer = {"status": "ready", "opensearch": cluster["status"]}
    warmer = getattr(request.app.state, "warmer", None)
    if warmer is not None:
        answer["warm_up"] = warmer.state  # off, waiting, running or done (search.warm_up)
    resolver = getattr(request.app.state, "resolver", None)
    if resolver is not None and (owed := await run_in_threadpool(resolver.unsettled_erasures)):
        answer["note"] = f"The match model still counts the values of {owed} erased people: set RCU_SUPPRESSION_KEY."
    return answer
