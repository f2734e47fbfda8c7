"""POST /v1/records: an integrator pushes one record; validated, indexed and resolved in real time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from api.deps import Caller, NamesDep, SyncOpenSearchDep, allowed
from api.schemas import RecordAccepted
from indexers.contract import SourceRecord
from indexers.ingest import index_one, validation_reason
from search.resolve.pipeline import resolve_touched

router = APIRouter(prefix="/v1", tags=["records"])

EXAMPLE = {"source": "crm", "source_id": "C-1042", "updated_at": "2026-11-23T09:30:00Z", "given_name": "Jean",
           "family_name": "Dupont", "birth_date": "17/05/1980", "phone": "06 12 34 56 78", "email": "jean.dupont@example.fr"}


@router.post("/records", response_model=RecordAccepted, responses={422: {"description": "The record breaks the ingestion contract."}})
async def push_record(
    request: Request,
    client: SyncOpenSearchDep,
    names: NamesDep,
    caller: Annotated[Caller, Depends(allowed("records"))],
    payload: Annotated[dict[str, Any], Body(examples=[EXAMPLE], description="One record of the ingestion contract (README).")],
) -> RecordAccepted:
    """Index the record (a newer `updated_at` wins, as in `rcu ingest`) and resolve it: the answer
    names the customer it belongs to."""
    try:
        record = SourceRecord.model_validate(payload)
    except ValidationError as error:
        raise HTTPException(status_code=422, detail=validation_reason(error)) from None
    resolver = request.app.state.resolver
    # Searchable before it is answered for: the next pushed record of the same person finds it.
    normalized, outcome = await run_in_threadpool(index_one, client, names, record, tuple(resolver.config.extra_identifiers), "wait_for")
    customer_id = None
    if outcome in ("indexed", "deleted"):
        documents = None if normalized.deleted else [normalized.document]
        report = await run_in_threadpool(resolve_touched, client, names, resolver.config, [normalized.record_id], resolver.model(), documents)
        customer_id = report.customer_ids.get(normalized.record_id)
    elif outcome == "unchanged":
        customer_id = await run_in_threadpool(resolver.customer_of, normalized.record_id)
    return RecordAccepted(record_id=normalized.record_id, outcome=outcome, customer_id=customer_id, warnings=[w.as_dict() for w in normalized.warnings])
