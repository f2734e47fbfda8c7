"""The API's response shapes. Customer and record bodies are open objects: which of their fields
are present depends on the caller's role."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    detail: str = Field(description='What went wrong, readable: "limit: Input should be less than or equal to 50".')


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (401, "No valid API key or bearer token."),
        (403, "The caller's role may not use this endpoint."),
        (422, "A parameter or the body is invalid."),
        (503, "OpenSearch is unavailable (see Retry-After)."),
    )
}


def json_object_body(description: str, example: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads one JSON object itself (a record, an event),
    as `openapi_extra`."""
    content = {"application/json": {"schema": {"type": "object", "additionalProperties": True}, "example": example}}
    return {"requestBody": {"required": True, "description": description, "content": content}}


class RecordRef(BaseModel):
    source: str
    source_id: str


class SearchResult(BaseModel):
    customer_id: str
    display_name: str | None = Field(description="Given and family name, when the role may read names.")
    score: float
    matched: list[str] = Field(
        description="What the query matched through: names, city, phone, email, card, postcode, birth_date, birth_date_near (a date the one typed may be a typo of; never a part only verified)."
    )
    highlights: dict[str, list[str]] = Field(description="Matching fragments of fields the role may read, <mark>ed.")
    records: list[RecordRef]
    customer: dict[str, Any] = Field(
        description="The golden record's current values the role may read (masked where the role's masks say); "
        "per-field provenance and past addresses are in the 360 view."
    )


class IgnoredKind(BaseModel):
    kind: str = Field(description="A part of the query: names, phone, email, card, postcode, departement, birth_date.")
    code: Literal["not_allowed", "verify_only"] = Field(
        description="not_allowed: the role may neither search nor verify it; verify_only: it only confirms a customer found by a name."
    )
    reason: str = Field(description="Why it was left out of the search, readable.")


class SearchResponse(BaseModel):
    query: str
    kinds: list[str] = Field(description="How the query was read.")
    ignored: list[IgnoredKind] = Field(
        default_factory=list, description="Parts of the query the caller's role may neither search nor verify: left out, with why."
    )
    results: list[SearchResult]


class CardResponse(BaseModel):
    card: str
    customer_id: str
    display_name: str | None
    shops: list[str] = Field(description="The sources (shops) where the customer holds a card.")
    customer: dict[str, Any]


class TimelineEvent(BaseModel):
    at: str | None
    source: str
    source_id: str
    note: Any = None


class PossiblySameCustomer(BaseModel):
    customer_id: str
    display_name: str | None = Field(description="The other customer's given and family name.")
    sources: list[str] = Field(description="The systems holding its records.")
    probability: float = Field(description="The match probability of the strongest evidence between the two customers.")
    kind: str = Field(description="below-threshold, refused-by-rule or ambiguous-weak-record.")
    rule: str | None = Field(
        description="What held them apart: different_birth_dates, different_sex, different_given_names, different_personal_contacts, "
        "namesakes_at_home, "
        "name_alone_against_other_records, name_and_postcode_against_two_addresses, name_alone_fits_several_customers, "
        "household_values_fit_two_people, "
        "max_cluster_size; below the threshold, name_alone_below_weak_link_bar for a link on a name alone, else null."
    )
    reason: str = Field(description="The same in words.")


class InteractionsPage(BaseModel):
    events: list[dict[str, Any]] = Field(
        description="Events across systems, newest first: event_key, source, event_id, type, at, record_id, shop, channel, "
        "amount, currency, products, offer, action, outcome, reason (and attributes for roles reading them)."
    )
    next: str | None = Field(description="Cursor of the next, older page (`after`); null on the last page.")


class Holding(BaseModel):
    offer: str
    held: bool = Field(description="What the latest statement about the offer says.")
    since: str = Field(description="When that statement was made (an event's time, a record's updated_at).")
    source: str
    via: Literal["event", "attribute"]


class CustomerFiguresResponse(BaseModel):
    last_seen: str | None = Field(description="Time of the customer's latest event.")
    visits_12m: int = Field(description="Distinct days per shop with a visit or a purchase over the last 365 days.")
    spend_12m: float = Field(description="Purchases and web orders over the last 365 days.")
    shops: list[str]
    channels: list[str]
    products_held: list[str]
    events: int = Field(description="Events stored for the customer (within the retention period).")


class Customer360Response(BaseModel):
    customer_id: str
    display_name: str | None
    customer: dict[str, Any]
    records: list[dict[str, Any]]
    timeline: list[TimelineEvent]
    household: list[dict[str, Any]]
    possibly_same: list[PossiblySameCustomer] = Field(
        description="Customers possibly the same person, for a data steward to decide; only for roles reading names."
    )
    segments: list[dict[str, str]] = Field(default_factory=list, description="The segments the customer is in: name and French label.")
    next_actions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The best eligible actions (action, label, reason, priority, channels, product); for roles recording actions.",
    )
    interactions: InteractionsPage | None = Field(
        default=None, description="The first page of the timeline of interactions; roles reading `interactions` only."
    )
    holdings: list[Holding] | None = Field(default=None, description="Offers held or given up; roles reading `interactions` only.")
    figures: CustomerFiguresResponse | None = Field(
        default=None,
        description="Roles reading `interactions` or `figures`; for a marketing role, not when the customer refused profiling.",
    )


class RecordAccepted(BaseModel):
    record_id: str
    outcome: str = Field(description="indexed, deleted, unchanged, or stale (a newer version was already indexed).")
    customer_id: str | None
    warnings: list[dict[str, Any]] = Field(description="Fields kept raw and left out of matching, with the reason.")


class EventAccepted(BaseModel):
    event_key: str = Field(description="source:event_id, the event's id.")
    outcome: str = Field(description="recorded, or unchanged (the same event was already stored).")
    record_id: str = Field(description="The source record the event is attached to (source:source_id).")
    customer_id: str | None = Field(description="That record's customer now (null before it is resolved).")


class AuditResponse(BaseModel):
    entries: list[dict[str, Any]]


def record_refs(record_ids: list[str]) -> list[dict[str, str]]:
    """Each record id as its source and the id there (RecordRef's shape)."""
    refs = []
    for record_id in record_ids:
        source, _, source_id = record_id.partition(":")
        refs.append({"source": source, "source_id": source_id})
    return refs


def display_name(customer: dict[str, Any]) -> str | None:
    name = " ".join(part for part in (customer.get("given_name"), customer.get("family_name")) if part)
    return name or None
