"""The data steward's workbench: the review queue (GET /v1/review), one customer's file for a
split, the decisions (same person, different people, split, detach) and their undo, and the
matcher's precision and recall estimated from them. Roles with the `review` endpoint only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AuditDep, Caller, NamesDep, PusherDep, ResolutionConfigDep, SyncOpenSearchDep, allowed
from api.policy import SHOP_PATTERN
from api.routes.customers import CustomerId
from search.audit import AuditEntry
from search.steward.decisions import KINDS, DecisionRequest, decide, decisions_about, get_decision, item_version, undo
from search.steward.queue import ITEM_KINDS, ReviewFilter, customer_files, review_queue
from search.steward.stats import stats_from_decisions

router = APIRouter(prefix="/v1/review", tags=["review"])
Steward = Annotated[Caller, Depends(allowed("review"))]
DATE = r"^\d{4}-\d{2}-\d{2}(T[0-9:.+Z-]+)?$"
RecordId = Annotated[str, Field(min_length=3, max_length=512)]
DecisionId = Annotated[str, Path(pattern=r"^D[0-9A-F]{16}$")]


def _readable_date(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@router.get("")
async def queue(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Steward,
    kind: Annotated[Literal["possible-match", "identity-conflict"] | None, Query(description=f"One of {', '.join(ITEM_KINDS)}.")] = None,
    source: Annotated[
        str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="A customer holds a record of it.")
    ] = None,
    shop: Annotated[str | None, Query(pattern=SHOP_PATTERN, description="A customer holds a loyalty card of this shop.")] = None,
    since: Annotated[str | None, Query(pattern=DATE, description="Items found or updated from this date.")] = None,
    until: Annotated[str | None, Query(pattern=DATE, description="… up to this date.")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=450)] = 0,
) -> dict[str, Any]:
    """What needs a person, by expected value: possible matches side by side with their
    explanation, and customers whose records disagree on an identity field."""
    for name, value in (("since", since), ("until", until)):
        if value and not _readable_date(value):
            raise HTTPException(status_code=422, detail=f"{name}: not a date (YYYY-MM-DD or an ISO 8601 instant).")
    page = await run_in_threadpool(
        review_queue, client, names, caller.access, ReviewFilter(kind, source, shop, since, until), limit, offset
    )
    shown = sorted({c["customer_id"] for item in page["items"] for c in item["customers"]})
    await audit.record(AuditEntry(caller.name, caller.role_name, "review", shown, None, "found" if shown else "nothing"))
    return page


@router.get("/customers/{customer_id}")
async def customer_file(
    client: SyncOpenSearchDep, names: NamesDep, audit: AuditDep, caller: Steward, customer_id: CustomerId
) -> dict[str, Any]:
    """One customer with every record and its version, to split it or detach a record; and the
    decisions naming it."""
    files = await run_in_threadpool(customer_files, client, names, [customer_id], caller.access)
    if customer_id not in files:
        await audit.record(AuditEntry(caller.name, caller.role_name, "review", [], customer_id, "nothing"))
        raise HTTPException(status_code=404, detail=f"No customer {customer_id}.")
    record_ids = [r["record_id"] for r in files[customer_id]["records"]]
    decisions = await run_in_threadpool(decisions_about, client, names, [customer_id], record_ids, 20)
    await audit.record(AuditEntry(caller.name, caller.role_name, "review", [customer_id], customer_id))
    # The version a decision on this customer alone names (split, detach, confirm).
    return {**files[customer_id], "item_version": item_version({customer_id: files[customer_id]["version"]}), "decisions": decisions}


class Decision(BaseModel):
    kind: Literal["same_person", "different_people", "split", "detach"] = Field(description=f"One of {', '.join(KINDS)}.")
    customer_ids: list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]] = Field(
        min_length=1,
        max_length=2,
        description="same_person / different_people: the two customers (same_person with one confirms it); "
        "split: the customer, then optionally the customer the records join; detach: the customer.",
    )
    version: str = Field(min_length=1, max_length=64, description="The item's version as the queue or the customer's file showed it.")
    records: list[RecordId] = Field(default_factory=list, max_length=1000, description="split: the records that leave; detach: the one.")
    reason: str = Field(default="", max_length=2000, description="Why, in the steward's words.")


class Undo(BaseModel):
    reason: str = Field(default="", max_length=2000)


@router.post("/decisions", status_code=201)
async def take_decision(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    pusher: PusherDep,
    config: ResolutionConfigDep,
    caller: Steward,
    decision: Decision,
) -> dict[str, Any]:
    """Store the decision as a rule every later resolution respects, and apply it now: search and
    the 360 view show it when this answers. 409 when the item changed since it was shown."""
    request = DecisionRequest(decision.kind, tuple(decision.customer_ids), decision.version, tuple(decision.records), decision.reason)
    outcome = await run_in_threadpool(decide, client, names, config, request, caller.name, caller.role_name, pusher.resolver.model())
    await audit.record(AuditEntry(caller.name, caller.role_name, "review_decision", sorted({*decision.customer_ids, *outcome.customers})))
    return {"decision": outcome.decision, "customers": outcome.customers}


@router.post("/decisions/{decision_id}/undo")
async def undo_decision(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    pusher: PusherDep,
    config: ResolutionConfigDep,
    caller: Steward,
    decision_id: DecisionId,
    body: Undo,
) -> dict[str, Any]:
    """Undo a decision: its records re-resolved without it, its redirects gone, the ids it took back."""
    outcome = await run_in_threadpool(undo, client, names, config, decision_id, caller.name, body.reason, pusher.resolver.model())
    customers = sorted({*outcome.decision["customer_ids"], *outcome.customers})
    await audit.record(AuditEntry(caller.name, caller.role_name, "review_undo", customers))
    return {"decision": outcome.decision, "customers": outcome.customers}


@router.get("/decisions/{decision_id}")
async def decision(client: SyncOpenSearchDep, names: NamesDep, caller: Steward, decision_id: DecisionId) -> dict[str, Any]:
    """One decision: its rule, who, when, why, what it did, whether it was undone."""
    document, _seq, _term = await run_in_threadpool(get_decision, client, names, decision_id)
    return document


@router.get("/stats")
async def stats(client: SyncOpenSearchDep, names: NamesDep, caller: Steward) -> dict[str, Any]:
    """The automatic matcher's precision and recall estimated from the decisions, per source pair."""
    found = await run_in_threadpool(stats_from_decisions, client, names)
    return found.as_dict()
