"""The event contract: what one interaction may hold (README, "The event contract").

Files (`rcu ingest`) and the API (`POST /v1/events`) read events through the same steps as
records — `parse_record` (bytes → JSON object, the same limits) and `validate_event` (object →
search.events.Event) — so an event is refused for the same reason, with the same words, wherever
it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from analyzers.cards import normalize_card
from analyzers.emails import canonical_email
from analyzers.errors import InvalidValue
from analyzers.phones import canonical_phone
from indexers.contract import (
    MAX_DEPTH,
    MAX_FIELD_CHARS,
    MAX_ID_BYTES,
    RecordRejected,
    SourceId,
    nesting_depth,
    read_instant,
    validation_reason,
    visible_id,
)
from search.events.model import IDENTIFIER_KINDS, Event, EventType, IdentifierKind, ProposalOutcome

SourceName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
MAX_PRODUCTS = 200
MAX_AMOUNT = 1e9
DAYS_PER_MONTH = 31  # the retention limit is checked generously: a month's index holds up to 31 days
# What each type must say: a purchase without an amount, or a subscription without its offer, is no fact.
REQUIRED: dict[str, tuple[str, ...]] = {
    "purchase": ("amount",),
    "web_order": ("amount",),
    "subscription": ("offer",),
    "cancellation": ("offer",),
    "proposal": ("action", "outcome"),
}


@dataclass(frozen=True)
class EventClock:
    """What `at` is checked against: no later than `now` plus a margin, no earlier than the events
    kept (an older event would land in a month retention has already deleted)."""

    future_margin: timedelta = timedelta(days=1)
    retention_months: int = 36
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def earliest(self) -> datetime:
        return self.now - timedelta(days=DAYS_PER_MONTH * self.retention_months)

    @property
    def latest(self) -> datetime:
        return self.now + self.future_margin


def _products(value: Any) -> Any:
    """A list of product names, or one text of names separated by | (CSV exports)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    return value


class SourceEvent(BaseModel):
    """One event of one system. `record` (`source:source_id`) or one identifier names whose it is;
    any field beyond the contract is kept as a typed attribute (string, number, boolean, list, object)."""

    model_config = ConfigDict(extra="allow", strict=True, str_strip_whitespace=True)

    source: SourceName
    event_id: SourceId
    at: datetime
    type: EventType
    record: (
        Annotated[
            str,
            StringConstraints(min_length=3, max_length=MAX_ID_BYTES, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*:.+$"),
            AfterValidator(visible_id),
        ]
        | None
    ) = None
    loyalty_card: Annotated[str, StringConstraints(max_length=64)] | None = None
    email: Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS)] | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    amount: float | None = Field(default=None, ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="In the currency's units (euros).")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    products: list[Label] | None = Field(default=None, max_length=MAX_PRODUCTS)
    shop: Code | None = None
    channel: Code | None = None
    offer: Label | None = None
    action: Code | None = None
    outcome: ProposalOutcome | None = None
    reason: Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS)] | None = None

    @field_validator("event_id", mode="before")
    @classmethod
    def _integer_ids_are_ids(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("amount", mode="before")
    @classmethod
    def _numbers_are_amounts(cls, value: Any) -> Any:
        # JSON integers are amounts too; CSV cells come as text ("12,50" as written in France).
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip().replace(",", "."))
            except ValueError:
                raise ValueError("must be a number") from None
        return value

    @field_validator("products", mode="before")
    @classmethod
    def _product_list(cls, value: Any) -> Any:
        return _products(value)

    @field_validator("at", mode="before")
    @classmethod
    def _an_instant_in_range(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must be an ISO 8601 date-time string")
        moment = read_instant(value)
        clock: EventClock = (info.context or {}).get("clock") or EventClock()
        if moment < clock.earliest:
            raise ValueError(f"older than the {clock.retention_months} months of events kept (RCU_EVENTS_RETENTION_MONTHS)")
        if moment > clock.latest:
            raise ValueError(f"more than {clock.future_margin.total_seconds() / 3600:g} h in the future (the allowed margin)")
        return moment

    @model_validator(mode="after")
    def _says_what_its_type_needs(self) -> SourceEvent:
        missing = [name for name in REQUIRED.get(self.type, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{', '.join(missing)}: required for a {self.type}")
        if self.outcome is not None and self.type != "proposal":
            raise ValueError("outcome: only a proposal has an outcome")
        if not self.record and not any(getattr(self, kind) for kind in IDENTIFIER_KINDS):
            raise ValueError("record: required (source:source_id), unless the event names a loyalty_card, an email or a phone")
        if len(self.key.encode("utf-8", errors="surrogatepass")) > MAX_ID_BYTES:
            raise ValueError(f"event_id: source:event_id is longer than {MAX_ID_BYTES} bytes in UTF-8")
        return self

    @property
    def key(self) -> str:
        return f"{self.source.lower()}:{self.event_id}"

    def identifier(self) -> tuple[IdentifierKind, str] | None:
        """The first identifier given, in its canonical form (as records hold it)."""
        normalizers = {"loyalty_card": normalize_card, "email": canonical_email, "phone": canonical_phone}
        for kind in IDENTIFIER_KINDS:
            value = getattr(self, kind)
            if value:
                try:
                    return kind, normalizers[kind](value)
                except InvalidValue as error:
                    raise RecordRejected(f"{kind}: {error.reason}") from None
        return None

    def record_id(self) -> str | None:
        """`record` with its source lower-cased, as record ids are written."""
        if not self.record:
            return None
        source, _, source_id = self.record.partition(":")
        return f"{source.lower()}:{source_id}"


def validate_event(payload: dict[str, Any], clock: EventClock | None = None) -> Event:
    """The contract's event, or RecordRejected with every reason at once."""
    if nesting_depth(payload) > MAX_DEPTH:
        raise RecordRejected(f"nested too deeply: more than {MAX_DEPTH} levels")
    try:
        source_event = SourceEvent.model_validate(payload, context={"clock": clock or EventClock()})
    except ValidationError as error:
        raise RecordRejected(validation_reason(error)) from None
    record_id = source_event.record_id()
    return Event(
        source=source_event.source,
        event_id=source_event.event_id,
        at=source_event.at,
        type=source_event.type,
        record_id=record_id,
        identifier=None if record_id else source_event.identifier(),
        amount=source_event.amount,
        currency=source_event.currency,
        products=tuple(source_event.products or ()),
        shop=source_event.shop.lower() if source_event.shop else None,
        channel=source_event.channel.lower() if source_event.channel else None,
        offer=source_event.offer,
        action=source_event.action,
        outcome=source_event.outcome,
        reason=source_event.reason,
        attributes=dict(source_event.model_extra or {}),
    )


def is_event(payload: dict[str, Any]) -> bool:
    """Whether a JSON object is written to the event contract rather than the record one."""
    return "event_id" in payload
