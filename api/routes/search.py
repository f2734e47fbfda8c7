"""GET /v1/search: one box for everything the counter types."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import Caller, allowed
from api.schemas import SearchResponse, display_name, record_refs
from search.audit import AuditEntry
from search.customer_query import customer_query
from search.lookup import search_customers
from search.query_parser import MAX_QUERY_LENGTH, QueryNotUnderstood, parse_query

router = APIRouter(prefix="/v1", tags=["search"])

MIN_QUERY_LENGTH = 2
MAX_LIMIT = 50


@router.get("/search", response_model=SearchResponse)
async def search(
    request: Request,
    caller: Annotated[Caller, Depends(allowed("search"))],
    q: Annotated[
        str,
        Query(
            min_length=MIN_QUERY_LENGTH,
            max_length=MAX_QUERY_LENGTH,
            description='Partial names ("dup jea"), a phone, an e-mail, a card; a town, a postcode, a département or a birth date with a name.',
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> Response:
    """Golden customers best first, with what matched; only the fields the caller's role may read.
    Parts of the query the role may neither search nor verify are left out and named in `ignored`."""
    # api.fast_lookup answers most look-ups without reaching this route (same answer, same audit);
    # this route answers the others and documents the endpoint.
    return Response(await search_answer(request.app.state, caller, q, limit), media_type="application/json")


async def search_answer(state: Any, caller: Caller, q: str, limit: int) -> bytes:
    """The look-up's answer as JSON, audited: the app's services are read from its state, not
    through dependencies (each one FastAPI solves costs CPU per request; issue 21: ≤ 1 ms of API
    CPU per look-up)."""
    audit = state.audit
    try:
        parsed = parse_query(q)
    except QueryNotUnderstood:
        await audit.record(AuditEntry(caller.name, caller.role_name, "search", [], q, "error"))
        raise
    found = await search_customers(state.opensearch, state.names, parsed, caller.access, limit, caller.shop)
    hits = found.hits
    if hits:
        await audit.record(AuditEntry(caller.name, caller.role_name, "search", [h.customer["customer_id"] for h in hits], q))
    else:
        # A role searching through a field it may not read finds nothing, and the trail says it was refused.
        outcome = "refused" if customer_query(parsed, caller.access) is None else "nothing"
        await audit.record(AuditEntry(caller.name, caller.role_name, "search", [], q, outcome))
    # The answer is built as plain data and serialized once: SearchResponse documents it (and
    # tests/api check answers against it); building and validating models per hit cost more CPU
    # than the rest of the look-up (bench/RESULTS.md, 2026-11-27).
    results = [
        {
            "customer_id": hit.customer["customer_id"],
            "display_name": display_name(hit.customer),
            "score": hit.score,
            "matched": hit.matched,
            "highlights": hit.highlights,
            "records": record_refs(hit.customer.get("records", [])),
            "customer": hit.customer,
        }
        for hit in hits
    ]
    ignored = [{"kind": part.kind, "code": part.code, "reason": part.reason} for part in found.ignored]
    return orjson.dumps({"query": q, "kinds": parsed.kinds, "ignored": ignored, "results": results})
