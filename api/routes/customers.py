"""GET /v1/customers/{customer_id}: the 360 view."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from api.deps import AuditDep, Caller, NamesDep, OpenSearchDep, RulesDep, SettingsDep, SyncOpenSearchDep, allowed
from api.schemas import (
    Customer360Response,
    CustomerFiguresResponse,
    ErrorResponse,
    Holding,
    InteractionsPage,
    PossiblySameCustomer,
    TimelineEvent,
    display_name,
)
from search.actions.sheet import customer_sheet_async
from search.audit import AuditEntry
from search.coalesce import CoalescingClient
from search.events.timeline import MAX_PAGE, InvalidCursor, customer_records, timeline_page
from search.events.view import InteractionsView, interactions_view
from search.lookup import Customer360, customer_360
from search.redirects import redirect_target_async
from search.rights.erasure import erased_at

router = APIRouter(prefix="/v1", tags=["customers"])
CustomerId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Events per page of the timeline of interactions.")]
DEFAULT_PAGE = 20


def _interactions(view: InteractionsView) -> dict[str, Any]:
    """The 360 view's interaction parts, those the role may see (the others stay null)."""
    return {
        "interactions": InteractionsPage(events=view.page.events, next=view.page.next) if view.page else None,
        "holdings": [Holding(**h.as_dict()) for h in view.holdings] if view.holdings is not None else None,
        "figures": CustomerFiguresResponse(**view.figures.as_dict()) if view.figures else None,
    }


async def _not_here(
    client: OpenSearchDep, names: NamesDep, audit: AuditDep, caller: Caller, customer_id: str, action: str, rest: str = ""
) -> RedirectResponse:
    """A customer id with no customer behind it, audited as `action`: 410 when it was erased (or
    merged into a customer erased since), else 308 to the customer it was merged into (`rest`: the
    path and query after the id), else 404. The erasure's marker is a real-time get, looked at
    first: the merges the erasure deleted may still be found by a search until the redirects'
    next periodic refresh (the erasure does not refresh them: search.rights.erasure_plan)."""
    gone = await erased_at(client, names, customer_id)
    survivor = None if gone else await redirect_target_async(client, names, customer_id)
    if survivor:
        await audit.record(AuditEntry(caller.name, caller.role_name, action, [], customer_id, "redirected"))
        return RedirectResponse(url=f"/v1/customers/{survivor}{rest}", status_code=308)
    await audit.record(AuditEntry(caller.name, caller.role_name, action, [], customer_id, "nothing"))
    if gone:
        raise HTTPException(status_code=410, detail=f"The customer {customer_id} was erased on {gone[:10]}.")
    raise HTTPException(status_code=404, detail=f"No customer {customer_id}.")


def _timeline(records: list[dict[str, Any]]) -> list[TimelineEvent]:
    events = []
    for record in records:
        note = (record.get("attributes") or {}).get("note")
        events.append(TimelineEvent(at=record.get("updated_at"), source=record["source"], source_id=record["source_id"], note=note))
    return sorted(events, key=lambda e: e.at or "", reverse=True)


@router.get(
    "/customers/{customer_id}",
    response_model=Customer360Response,
    responses={
        308: {"description": "The customer was merged into another: follow Location."},
        404: {"model": ErrorResponse, "description": "No such customer."},
        410: {"model": ErrorResponse, "description": "The customer was erased at their request."},
    },
)
async def customer(
    client: OpenSearchDep,
    sync_client: SyncOpenSearchDep,
    rules: RulesDep,
    names: NamesDep,
    settings: SettingsDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("customers"))],
    customer_id: CustomerId,
    interactions: PageSize = DEFAULT_PAGE,
) -> Customer360Response | RedirectResponse:
    """Golden record with provenance per field, every source record, the timeline, the household,
    the customers possibly the same person (for roles reading names), and the customer's
    interactions: the first page of events across systems, offers held and figures (for roles
    reading them; `GET /v1/customers/{id}/interactions` pages further)."""
    with_actions = "actions" in caller.role.endpoints
    if with_actions and rules.changed():
        await run_in_threadpool(rules.check, sync_client, names)
    marketing = caller.role.purpose == "marketing"

    # The household, possible matches, timeline and figures go as one msearch, the records as one mget.
    batched = CoalescingClient(client)

    async def events_of(customer: dict[str, Any]) -> InteractionsView:
        now = datetime.now(UTC)
        return await interactions_view(batched, names, customer, caller.access, now, settings.events_holding_attributes, interactions)  # type: ignore[arg-type]

    async def identity_and_interactions() -> tuple[Customer360 | None, InteractionsView | None]:
        # The interactions need only the customer's record ids: read beside its records and household.
        view = await customer_360(batched, names, customer_id, caller.access, beside=events_of)  # type: ignore[arg-type]
        return (view, view.beside) if view else (None, None)

    # The segments and actions are read beside the rest, in the same round trips.
    (view, events), sheet = await asyncio.gather(
        identity_and_interactions(),
        customer_sheet_async(batched, sync_client, settings, names, customer_id, with_actions, marketing),  # type: ignore[arg-type]
    )
    if view is None or events is None:
        return await _not_here(client, names, audit, caller, customer_id, "customer")
    possibly_same = [
        PossiblySameCustomer(
            customer_id=other.customer["customer_id"],
            display_name=display_name(other.customer),
            sources=other.customer.get("sources", []),
            probability=other.probability,
            kind=other.kind,
            rule=other.rule,
            reason=other.reason,
        )
        for other in view.possibly_same
    ]
    # Every customer the caller sees: the household members and the customers possibly the same
    # person shown beside this one too.
    shown = [customer_id, *(member["customer_id"] for member in view.household if member.get("customer_id"))]
    shown += [other.customer_id for other in possibly_same]
    await audit.record(AuditEntry(caller.name, caller.role_name, "customer", shown, customer_id))
    return Customer360Response(
        **_interactions(events),
        customer_id=customer_id,
        display_name=display_name(view.customer),
        customer=view.customer,
        records=view.records,
        timeline=_timeline(view.records),
        household=view.household,
        possibly_same=possibly_same,
        segments=[{"name": s.name, "label": s.label} for s in sheet.segments] if sheet else [],
        next_actions=[vars(p) for p in sheet.actions] if sheet else [],
    )


@router.get(
    "/customers/{customer_id}/interactions",
    response_model=InteractionsPage,
    responses={
        308: {"description": "The customer was merged into another: follow Location."},
        403: {"model": ErrorResponse, "description": "The role does not read interactions."},
        404: {"model": ErrorResponse, "description": "No such customer."},
        410: {"model": ErrorResponse, "description": "The customer was erased at their request."},
    },
)
async def interactions(
    request: Request,
    client: OpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("customers"))],
    customer_id: CustomerId,
    after: Annotated[str | None, Query(max_length=512, description="The `next` cursor of the previous page.")] = None,
    size: PageSize = DEFAULT_PAGE,
) -> InteractionsPage | RedirectResponse:
    """The customer's timeline of interactions across systems, newest first, one page at a time
    (roles reading `interactions`)."""
    if not caller.access.interactions:
        await audit.record(AuditEntry(caller.name, caller.role_name, "interactions", [], customer_id, "refused"))
        raise HTTPException(status_code=403, detail=f"The role {caller.role_name!r} may not read interactions.")
    records = await customer_records(client, names, customer_id)
    if records is None:
        query = f"?{request.url.query}" if request.url.query else ""
        return await _not_here(client, names, audit, caller, customer_id, "interactions", f"/interactions{query}")
    try:
        page = await timeline_page(client, names, records, size, after, caller.access.reads_attributes)
    except InvalidCursor as error:
        raise HTTPException(status_code=422, detail=f"after: {error}") from None
    await audit.record(AuditEntry(caller.name, caller.role_name, "interactions", [customer_id], customer_id))
    return InteractionsPage(events=page.events, next=page.next)
