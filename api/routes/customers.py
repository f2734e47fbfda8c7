"""GET /v1/customers/{customer_id}: the 360 view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from api.deps import AuditDep, Caller, NamesDep, OpenSearchDep, RulesDep, SettingsDep, SyncOpenSearchDep, allowed
from api.schemas import Customer360Response, ErrorResponse, PossiblySameCustomer, TimelineEvent, display_name
from search.actions.sheet import customer_sheet
from search.audit import AuditEntry
from search.lookup import customer_360
from search.redirects import redirect_target_async
from search.rights.erasure import erased_at

router = APIRouter(prefix="/v1", tags=["customers"])
CustomerId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


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
    settings: SettingsDep,
    rules: RulesDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("customers"))],
    customer_id: CustomerId,
) -> Customer360Response | RedirectResponse:
    """Golden record with provenance per field, every source record, the timeline, the household and
    the customers possibly the same person (for roles reading names)."""
    view = await customer_360(client, names, customer_id, caller.access)
    if view is None:
        survivor = await redirect_target_async(client, names, customer_id)
        if survivor:
            await audit.record(AuditEntry(caller.name, caller.role_name, "customer", [], customer_id, "redirected"))
            return RedirectResponse(url=f"/v1/customers/{survivor}", status_code=308)
        gone = await erased_at(client, names, customer_id)
        await audit.record(AuditEntry(caller.name, caller.role_name, "customer", [], customer_id, "nothing"))
        if gone:
            raise HTTPException(status_code=410, detail=f"The customer {customer_id} was erased on {gone[:10]}.")
        raise HTTPException(status_code=404, detail=f"No customer {customer_id}.")
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
    with_actions = "actions" in caller.role.endpoints
    if with_actions:
        await run_in_threadpool(rules.check, sync_client, names)
    sheet = await run_in_threadpool(customer_sheet, sync_client, settings, names, customer_id, with_actions)
    await audit.record(AuditEntry(caller.name, caller.role_name, "customer", shown, customer_id))
    return Customer360Response(
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
