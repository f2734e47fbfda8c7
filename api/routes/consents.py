"""PUT /v1/customers/{customer_id}/consents: what the customer says about each purpose, recorded
by a role allowed to (the counter, the call center, a steward, the privacy officer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AuditDep, Caller, NamesDep, ResolutionConfigDep, SettingsDep, SyncOpenSearchDep, allowed
from api.routes.customers import CustomerId
from search.audit import AuditEntry
from search.rights.consents import InvalidStatement, Purpose, Status, check_status, statement_instant
from search.rights.overlay import customer_records, rebuild_customer
from search.rights.statements import add_consents
from search.segments.store import refresh_profiles

router = APIRouter(prefix="/v1", tags=["consents"])


class ConsentInput(BaseModel):
    purpose: Purpose
    status: Status = Field(description="granted or refused; for restriction, requested or lifted.")
    at: datetime | None = Field(default=None, description="When the customer said it (now when absent).")


class ConsentsUpdate(BaseModel):
    statements: list[ConsentInput] = Field(min_length=1, max_length=16)


class ConsentsResponse(BaseModel):
    customer_id: str
    consents: dict[str, Any] = Field(description="Per purpose, the statement that decides it: the most recent across sources.")
    restricted: bool
    consent_history: list[dict[str, Any]] = Field(description="Every statement, newest first, with its origin.")


@router.put("/customers/{customer_id}/consents", response_model=ConsentsResponse)
async def put_consents(
    client: SyncOpenSearchDep,
    settings: SettingsDep,
    names: NamesDep,
    audit: AuditDep,
    config: ResolutionConfigDep,
    caller: Annotated[Caller, Depends(allowed("consents"))],
    customer_id: CustomerId,
    update: ConsentsUpdate,
) -> ConsentsResponse:
    """Record consent statements; the most recent statement per purpose wins across every source."""
    statements = []
    latest = datetime.now(UTC) + timedelta(seconds=settings.future_margin_s)
    for item in update.statements:
        try:
            check_status(item.purpose, item.status)
            at = statement_instant(item.at or datetime.now(UTC), latest)
        except InvalidStatement as error:
            raise HTTPException(status_code=422, detail=f"statements: {error}") from None
        statements.append({"purpose": item.purpose, "status": item.status, "at": at.isoformat()})
    record_ids = await run_in_threadpool(customer_records, client, names, customer_id)
    await run_in_threadpool(add_consents, client, names, customer_id, record_ids, statements, caller.name)
    document = await run_in_threadpool(rebuild_customer, client, names, config, customer_id)
    # Segment exports and proposed actions obey the new statements at once.
    await run_in_threadpool(refresh_profiles, client, settings, names, [customer_id])
    await audit.record(AuditEntry(caller.name, caller.role_name, "consents", [customer_id]))
    return ConsentsResponse(
        customer_id=customer_id,
        consents=document.get("consents", {}),
        restricted=bool(document.get("restricted")),
        consent_history=document.get("consent_history", []),
    )
