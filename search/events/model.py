"""An interaction with a customer in one system, as rcu stores it (README, "Interactions").

`Event` is the validated, normalized event: files and `POST /v1/events` build it through the event
contract (indexers/event_contract.py); rcu's own code (an action's outcome) builds it directly and
hands it to `search.events.record_event`. It belongs to a source record (`record_id`,
`source:source_id`), or carries one identifier (a loyalty card, an e-mail, a phone, already in
their canonical forms) resolved to a record when it is stored, or — for rcu's own events only —
a customer id, stored against one of that customer's records. The customer is never stored:
it is read through the record → customer link, so an event follows its record through merges
and splits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

import orjson

EventType = Literal["purchase", "visit", "call", "web_order", "subscription", "cancellation", "proposal"]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
IdentifierKind = Literal["loyalty_card", "email", "phone"]
IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = get_args(IdentifierKind)
ProposalOutcome = Literal["proposed", "accepted", "refused"]
PROPOSAL_OUTCOMES: tuple[ProposalOutcome, ...] = get_args(ProposalOutcome)

# What each type counts for in a customer's figures (search.events.figures).
SPENDING_TYPES = ("purchase", "web_order")
VISIT_TYPES = ("visit", "purchase")  # a purchase is made in a shop: a visit, even without a visit event
HOLDING_TYPES = ("subscription", "cancellation")
# The channel of an event that names none: where that type of interaction happens.
DEFAULT_CHANNELS: dict[str, str] = {
    "purchase": "shop",
    "visit": "shop",
    "call": "phone",
    "web_order": "web",
}


@dataclass(frozen=True)
class Event:
    """One interaction. Exactly one way to its customer: `record_id`, `identifier` or `customer_id`."""

    source: str
    event_id: str
    at: datetime
    type: EventType
    record_id: str | None = None
    identifier: tuple[IdentifierKind, str] | None = None
    customer_id: str | None = None
    amount: float | None = None
    currency: str | None = None
    products: tuple[str, ...] = ()
    shop: str | None = None
    channel: str | None = None
    offer: str | None = None
    action: str | None = None
    outcome: ProposalOutcome | None = None
    reason: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The document id: `source:event_id`, as a record's is `source:source_id`."""
        return f"{self.source.lower()}:{self.event_id}"

    @property
    def attached_by(self) -> str:
        if self.record_id:
            return "record"
        if self.identifier:
            return self.identifier[0]
        return "customer"

    def document(self, record_id: str, ingested_at: datetime) -> dict[str, Any]:
        """The stored document, attached to `record_id`; `content_hash` tells a copy sent again
        (`unchanged`) from another event under the same id (a conflict)."""
        content: dict[str, Any] = {
            "event_key": self.key,
            "source": self.source.lower(),
            "event_id": self.event_id,
            "type": self.type,
            "at": self.at.isoformat(),
            "record_id": record_id,
            "attached_by": self.attached_by,
            "amount": self.amount,
            "currency": self.currency,
            "products": list(self.products) or None,
            "shop": self.shop,
            "channel": self.channel or DEFAULT_CHANNELS.get(self.type),
            "offer": self.offer,
            "action": self.action,
            "outcome": self.outcome,
            "reason": self.reason,
            "attributes": self.attributes or None,
        }
        content = {name: value for name, value in content.items() if value is not None}
        # Identity of the content: what the source said, wherever it was attached.
        hashed = {name: value for name, value in content.items() if name not in ("record_id", "attached_by")}
        digest = hashlib.sha256(orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
        if self.type in VISIT_TYPES:
            content["visit_day"] = f"{self.at.date().isoformat()}|{self.shop or ''}"
        return {**content, "content_hash": digest, "ingested_at": ingested_at.isoformat()}


Outcome = Literal["recorded", "unchanged"]


@dataclass(frozen=True)
class EventOutcome:
    """What storing one event did: `recorded` (new), `unchanged` (the same event again), with the
    record it is attached to and that record's customer now (None before resolution)."""

    key: str
    outcome: Outcome
    record_id: str
    customer_id: str | None


class EventRejected(Exception):
    """An event that cannot be stored; `reason` says why, naming the field, never its value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventConflict(EventRejected):
    """The event id is already stored with other content: events are facts, a correction is a new event."""


class EventUnattached(EventRejected):
    """No record (or several customers) holds the event's identifier, or its customer does not exist."""


class EventSuppressed(EventRejected):
    """The event belongs to an erased person (the suppression list)."""


@dataclass(frozen=True)
class CustomerFigures:
    """A customer's interactions summed up at `now` (search.events.figures)."""

    last_seen: datetime | None
    visits_12m: int
    spend_12m: float
    shops: list[str]
    channels: list[str]
    products_held: list[str]
    events: int = 0  # every stored event of the customer
    # When visits_12m or spend_12m next change with no new event (an event leaving the year).
    window_ends: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "visits_12m": self.visits_12m,
            "spend_12m": self.spend_12m,
            "shops": self.shops,
            "channels": self.channels,
            "products_held": self.products_held,
            "events": self.events,
        }
