"""POST /v1/records: an integrator pushes one record; validated, indexed and resolved in real time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from api.deps import Caller, PusherDep, allowed
from api.schemas import RecordAccepted
from indexers.contract import SourceRecord
from indexers.ingest import validation_reason
from indexers.push import RecordSuppressed

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


@router.post(
    "/records",
    response_model=RecordAccepted,
    responses={
        409: {"description": "The record is an erased person's, sent again without a newer consent."},
        422: {"description": "The record breaks the ingestion contract."},
    },
)
async def push_record(
    pusher: PusherDep,
    caller: Annotated[Caller, Depends(allowed("records"))],
    payload: Annotated[dict[str, Any], Body(examples=[EXAMPLE], description="One record of the ingestion contract (README).")],
) -> RecordAccepted:
    """Index the record (a newer `updated_at` wins, as in `rcu ingest`) and resolve it: the answer
    names the customer it belongs to."""
    try:
        record = SourceRecord.model_validate(payload)
    except ValidationError as error:
        raise HTTPException(status_code=422, detail=validation_reason(error)) from None
    try:
        pushed = await run_in_threadpool(pusher.push, record)
    except RecordSuppressed as error:
        raise HTTPException(status_code=409, detail=f"record refused: {error}") from None
    return RecordAccepted(record_id=pushed.record_id, outcome=pushed.outcome, customer_id=pushed.customer_id, warnings=pushed.warnings)
