"""GET /v1/customers/{customer_id}: the 360 view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import RedirectResponse

from api.deps import AuditDep, Caller, NamesDep, OpenSearchDep, allowed
from api.schemas import Customer360Response, ErrorResponse, TimelineEvent, display_name
from search.audit import AuditEntry
from search.lookup import customer_360
from search.redirects import redirect_target_async

router = APIRouter(prefix="/v1", tags=["customers"])


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
    },
)
async def customer(
    client: OpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("customers"))],
    customer_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
) -> Customer360Response | RedirectResponse:
    """Golden record with provenance per field, every source record, the timeline and the household."""
    view = await customer_360(client, names, customer_id, caller.access)
    if view is None:
        survivor = await redirect_target_async(client, names, customer_id)
        if survivor:
            await audit.record(AuditEntry(caller.name, caller.role_name, "customer", [], customer_id, "redirected"))
            return RedirectResponse(url=f"/v1/customers/{survivor}", status_code=308)
        await audit.record(AuditEntry(caller.name, caller.role_name, "customer", [], customer_id, "nothing"))
        raise HTTPException(status_code=404, detail=f"No customer {customer_id}.")
    # Every customer the caller sees: the household members shown beside this one too.
    shown = [customer_id, *(member["customer_id"] for member in view.household if member.get("customer_id"))]
    await audit.record(AuditEntry(caller.name, caller.role_name, "customer", shown, customer_id))
    return Customer360Response(
        customer_id=customer_id,
        display_name=display_name(view.customer),
        customer=view.customer,
        records=view.records,
        timeline=_timeline(view.records),
        household=view.household,
    )
