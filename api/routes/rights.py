"""The customer's rights through the API: access and portability (GET …/export, JSON or a French
document), erasure (DELETE /v1/customers/{id}), rectification of a golden field (PUT and DELETE
…/fields/{field})."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from opensearchpy import OpenSearch
from pydantic import BaseModel, Field

from api.deps import AuditDep, Caller, NamesDep, ResolutionConfigDep, SettingsDep, ShippedAuditDep, SyncOpenSearchDep, allowed
from api.routes.customers import CustomerId
from search.audit import AuditEntry, AuditWriter
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.rights.erasure import erase_customer
from search.rights.export import subject_export
from search.rights.export_html import export_html
from search.rights.overlay import customer_records, rebuild_customer
from search.rights.statements import RECTIFIABLE, InvalidRectification, normalized_value, remove_rectification, set_rectification

router = APIRouter(prefix="/v1", tags=["rights"])


@router.get(
    "/customers/{customer_id}/export",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/html": {}}, "description": "Everything held about the customer."}},
)
async def export(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("export"))],
    _shipped: ShippedAuditDep,
    customer_id: CustomerId,
    format: Annotated[Literal["json", "html"], Query(description="json (portability) or html (a French document to read).")] = "json",
) -> JSONResponse | HTMLResponse:
    """Every source record as received and normalized, the golden record with provenance, consents
    and their history, the customer's changes and former ids, and who looked at it."""
    document: dict[str, Any] = await run_in_threadpool(subject_export, client, names, customer_id)
    await audit.record(AuditEntry(caller.name, caller.role_name, "export", [customer_id]))
    if format == "html":
        return HTMLResponse(export_html(document))
    return JSONResponse(document, headers={"Content-Disposition": f'attachment; filename="{customer_id}.json"'})


@router.delete("/customers/{customer_id}")
async def erase(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    settings: SettingsDep,
    config: ResolutionConfigDep,
    caller: Annotated[Caller, Depends(allowed("erase"))],
    _shipped: ShippedAuditDep,
    customer_id: CustomerId,
) -> dict[str, Any]:
    """Erase the customer from every index: records, statements, links, the customer itself (its ids
    answer 410 Gone), its identifiers kept only as keyed hashes on the suppression list, the audit
    keys of its ids deleted (its entries stay, sealed for good: search.audit_seal). The answer is the
    erasure's receipt."""
    report = await run_in_threadpool(erase_customer, client, names, config, customer_id, settings.suppression_key_bytes, caller.name)
    # The erasure's own trace names the pseudonym only: the fact, who and when.
    await audit.record(AuditEntry(caller.name, caller.role_name, "erasure", [report.pseudonym]))
    return report.as_dict()


class Rectification(BaseModel):
    value: str = Field(min_length=1, max_length=1000, description="The correct value, as the customer or a document says.")
    reason: str = Field(min_length=3, max_length=1000, description="Why: the request, the document seen.")


Rectifiable = Annotated[str, Path(description=f"One of {', '.join(RECTIFIABLE)}.", max_length=32)]


@router.put("/customers/{customer_id}/fields/{field}")
async def rectify(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    config: ResolutionConfigDep,
    caller: Annotated[Caller, Depends(allowed("rectify"))],
    customer_id: CustomerId,
    field: Rectifiable,
    rectification: Rectification,
) -> dict[str, Any]:
    """Correct a golden field (GDPR art. 16): the correction is a source of its own (`manual`, who,
    when, why) that wins over every source, through every re-resolution, until a steward removes it."""
    try:
        value = normalized_value(field, rectification.value)
    except InvalidRectification as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    record_ids = await run_in_threadpool(customer_records, client, names, customer_id)
    await run_in_threadpool(set_rectification, client, names, customer_id, record_ids, field, value, caller.name, rectification.reason)
    return await _golden_field_rebuilt(client, names, config, audit, caller, customer_id, field)


@router.delete("/customers/{customer_id}/fields/{field}")
async def accept_sources(
    client: SyncOpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    config: ResolutionConfigDep,
    caller: Annotated[Caller, Depends(allowed("rectify"))],
    customer_id: CustomerId,
    field: Rectifiable,
) -> dict[str, Any]:
    """Remove the corrections of a field: the sources' value (the newer one the steward accepts) is the golden value again."""
    record_ids = await run_in_threadpool(customer_records, client, names, customer_id)
    removed = await run_in_threadpool(remove_rectification, client, names, record_ids, field)
    if not removed:
        raise HTTPException(status_code=404, detail=f"No correction of {field} for customer {customer_id}.")
    return await _golden_field_rebuilt(client, names, config, audit, caller, customer_id, field)


async def _golden_field_rebuilt(
    client: OpenSearch, names: IndexNames, config: ResolutionConfig, audit: AuditWriter, caller: Caller, customer_id: str, field: str
) -> dict[str, Any]:
    """The customer rebuilt after a change of its corrections, the change audited, and the field's
    golden value with its provenance as the answer."""
    document = await run_in_threadpool(rebuild_customer, client, names, config, customer_id)
    await audit.record(AuditEntry(caller.name, caller.role_name, "rectification", [customer_id]))
    return {
        "customer_id": customer_id,
        "field": field,
        "value": document.get(field),
        "provenance": document.get("provenance", {}).get(field),
    }
