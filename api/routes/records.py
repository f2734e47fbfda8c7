"""POST /v1/records: an integrator pushes one record; validated, indexed and resolved in real time.

The body is read as `rcu ingest` reads a line (indexers.contract): the same limits, the same
reasons. A key writes only the sources its policy binds it to."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import AuditDep, Caller, PusherDep, allowed, asked_key
from api.schemas import RecordAccepted, json_object_body
from indexers.contract import ContractClock, RecordRejected, parse_record, validate_record
from indexers.push import RecordSuppressed
from search.audit import AuditEntry
from settings import Settings

router = APIRouter(prefix="/v1", tags=["records"])

EXAMPLE = {
    "source": "crm",
    "source_id": "C-1042",
    "updated_at": "2026-11-23T09:30:00Z",
    "given_name": "Jean",
    "family_name": "Dupont",
    "birth_date": "17/05/1980",
    "phone": "06 12 34 56 78",
    "email": "jean.dupont@example.fr",
}
BODY = json_object_body("One record of the ingestion contract (README): a JSON object of at most 64 KiB.", EXAMPLE)


@router.post(
    "/records",
    response_model=RecordAccepted,
    openapi_extra=BODY,
    responses={
        409: {"description": "The record is an erased person's, sent again without a newer consent."},
        413: {"description": "The request body is larger than the API accepts."},
        422: {"description": "The record breaks the ingestion contract."},
    },
)
async def push_record(
    request: Request,
    pusher: PusherDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("records"))],
) -> RecordAccepted:
    """Index the record (a newer `updated_at` wins, as in `rcu ingest`) and resolve it: the answer
    names the customer it belongs to."""
    settings: Settings = request.app.state.settings
    payload: dict[str, Any] | None = None
    try:
        payload = parse_record(await request.body())
        record = validate_record(payload, ContractClock(timedelta(seconds=settings.future_margin_s)))
    except RecordRejected as rejected:
        await audit.record(AuditEntry(caller.name, caller.role_name, "record", [], asked_key(payload, "source_id"), "rejected"))
        raise HTTPException(status_code=422, detail=rejected.reason) from None
    if not caller.may_write(record.source):
        await audit.record(AuditEntry(caller.name, caller.role_name, "record", [], record.record_id, "refused"))
        raise HTTPException(status_code=403, detail=f"{caller.name!r} may not write records of the source {record.source!r}.")
    try:
        pushed = await run_in_threadpool(pusher.push, record)
    except RecordSuppressed as error:
        await audit.record(AuditEntry(caller.name, caller.role_name, "record", [], record.record_id, "rejected"))
        raise HTTPException(status_code=409, detail=f"record refused: {error}") from None
    shown = [pushed.customer_id] if pushed.customer_id else []
    await audit.record(AuditEntry(caller.name, caller.role_name, "record", shown, pushed.record_id, pushed.outcome))
    return RecordAccepted(record_id=pushed.record_id, outcome=pushed.outcome, customer_id=pushed.customer_id, warnings=pushed.warnings)
