"""POST /v1/events: a system sends one interaction; validated like a line of an events file,
attached to its record and stored once per event id (search.events).

A key writes only the events of the sources its policy binds it to, as for records."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import AuditDep, Caller, NamesDep, SettingsDep, SyncOpenSearchDep, allowed, asked_key
from api.schemas import EventAccepted, json_object_body
from indexers.contract import RecordRejected, parse_record
from indexers.event_contract import EventClock, validate_event
from search.audit import AuditEntry
from search.events import EventRejected, record_event
from search.segments.store import refresh_profiles

router = APIRouter(prefix="/v1", tags=["events"])

EXAMPLE = {
    "source": "caisse_lyon2",
    "event_id": "T-2026-118842",
    "at": "2026-11-23T17:42:00+01:00",
    "type": "purchase",
    "loyalty_card": "2905555555555",
    "amount": 42.9,
    "products": ["café moulu 1 kg", "filtres"],
    "shop": "lyon2",
}
BODY = json_object_body("One event of the event contract (README): a JSON object of at most 64 KiB.", EXAMPLE)


@router.post(
    "/events",
    response_model=EventAccepted,
    openapi_extra=BODY,
    responses={
        409: {"description": "Another event is stored under this id, or the event is an erased person's."},
        413: {"description": "The request body is larger than the API accepts."},
        422: {"description": "The event breaks the event contract, or no single customer holds its identifier."},
    },
)
async def push_event(
    request: Request,
    client: SyncOpenSearchDep,
    names: NamesDep,
    settings: SettingsDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("events"))],
) -> EventAccepted:
    """Store the event (the same event again is `unchanged`); the answer names the record it is
    attached to and that record's customer. Searches and 360 views see it once this answers."""
    payload: dict[str, Any] | None = None
    try:
        payload = parse_record(await request.body())
        clock = EventClock(timedelta(seconds=settings.future_margin_s), settings.events_retention_months)
        event = validate_event(payload, clock)
    except RecordRejected as rejected:
        await audit.record(AuditEntry(caller.name, caller.role_name, "event", [], asked_key(payload, "event_id"), "rejected"))
        raise HTTPException(status_code=422, detail=rejected.reason) from None
    if not caller.may_write(event.source):
        await audit.record(AuditEntry(caller.name, caller.role_name, "event", [], event.key, "refused"))
        raise HTTPException(status_code=403, detail=f"{caller.name!r} may not write events of the source {event.source!r}.")
    try:
        # Attached only to records of the sources the key is bound to: its answer tells an
        # integrator nothing about whether another system holds a card, an e-mail or a phone.
        stored = await run_in_threadpool(record_event, client, settings, event, names, sources=caller.may_write)
    except EventRejected:  # answered by api/errors.py: 409 or 422 with the reason
        await audit.record(AuditEntry(caller.name, caller.role_name, "event", [], event.key, "rejected"))
        raise
    if stored.customer_id and stored.outcome == "recorded":
        # The customer's segments follow at once (search.segments): a purchase can make a "client fidèle".
        await run_in_threadpool(refresh_profiles, client, settings, names, [stored.customer_id])
    shown = [stored.customer_id] if stored.customer_id else []
    await audit.record(AuditEntry(caller.name, caller.role_name, "event", shown, event.key, stored.outcome))
    return EventAccepted(event_key=stored.key, outcome=stored.outcome, record_id=stored.record_id, customer_id=stored.customer_id)
