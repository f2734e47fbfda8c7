"""GET /v1/audit: who saw which customer (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import AuditDep, Caller, NamesDep, OpenSearchDep, ShippedAuditDep, allowed
from api.schemas import AuditResponse
from search.audit import AuditEntry, audit_entries

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit", response_model=AuditResponse)
async def audit(
    client: OpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("audit"))],
    _shipped: ShippedAuditDep,
    customer_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditResponse:
    """The latest look-ups, of one customer or of all, newest first. Reading the trail is itself
    audited: it holds what agents typed about the customer."""
    entries = await audit_entries(client, names, customer_id, limit)
    named = [customer_id] if customer_id else []
    await audit.record(AuditEntry(caller.name, caller.role_name, "audit", named, customer_id, "found" if entries else "nothing"))
    return AuditResponse(entries=entries)
