"""Webhook subscribers for an admin: where each stands in the change feed, its failures and dead
letters (GET /v1/webhooks), and resuming one parked on a dead letter (POST …/{name}/resume)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import Caller, NamesDep, PolicyDep, SyncOpenSearchDep, allowed
from search.webhooks.delivery import resume
from search.webhooks.state import webhook_states

router = APIRouter(prefix="/v1", tags=["webhooks"])
SubscriberName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")]


@router.get("/webhooks")
async def subscribers(
    client: SyncOpenSearchDep, names: NamesDep, policy: PolicyDep, caller: Annotated[Caller, Depends(allowed("webhooks"))]
) -> dict[str, list[dict[str, Any]]]:
    """Every subscriber of the policy: its URL, role, cursor (last change acknowledged), delivered
    count, failures (attempts, next attempt, last error), whether it is parked, and its dead letters."""
    states = {state["subscriber"]: state for state in await run_in_threadpool(webhook_states, client, names)}
    return {
        "subscribers": [
            {"name": name, "url": webhook.url, "role": webhook.role, **states.get(name, {"cursor": 0, "delivered": 0, "dead_letters": []})}
            for name, webhook in sorted(policy.webhooks.items())
        ]
    }


@router.post("/webhooks/{name}/resume")
async def resume_subscriber(
    client: SyncOpenSearchDep,
    names: NamesDep,
    policy: PolicyDep,
    caller: Annotated[Caller, Depends(allowed("webhooks"))],
    name: SubscriberName,
    skip: Annotated[bool, Query(description="Step over the dead batch instead of sending it again.")] = False,
) -> dict[str, Any]:
    """Deliver again to a subscriber parked on a dead letter: the same batch first, or what follows it with `skip`."""
    if name not in policy.webhooks:
        raise HTTPException(status_code=404, detail=f"No webhook subscriber {name} in the policy.")
    state = await run_in_threadpool(resume, client, names, name, skip, datetime.now(UTC))
    return {"subscriber": name, "cursor": state.cursor, "parked": state.parked}
