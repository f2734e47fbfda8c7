"""The ingestion contract: what one source record may hold (README, "The ingestion contract").

Files (`rcu ingest`) and the API (`POST /v1/records`) read records through the same two steps,
`parse_record` (bytes → JSON object) and `validate_record` (object → SourceRecord), so a record is
refused for the same reason, with the same words, wherever it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
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

from analyzers.dates import parse_timestamp
from analyzers.errors import InvalidValue
from analyzers.visible import invisible_character
from search.rights.consents import InvalidStatement, Purpose, Status, check_status, statement_instant

MAX_FIELD_CHARS = 1000
MAX_RECORD_BYTES = 64 * 1024
MAX_DEPTH = 16
"""Nesting levels of a record (the record object is level 1): deeper JSON is an export bug, and
OpenSearch's serializer refuses values past 254 levels."""
MAX_ID_BYTES = 512
"""OpenSearch refuses a whole bulk request when one document id is longer than this, UTF-8 encoded."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_FUTURE_MARGIN = timedelta(days=1)

FieldText = Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS)]


def visible_id(value: str) -> str:
    """An id as its source wrote it, refused (never cleaned) when it holds a control or format
    character: "A1" plus a zero-width space, cleaned, would be another record's id."""
    invisible = invisible_character(value)
    if invisible:
        raise ValueError(f"holds an invisible or control character ({invisible})")
    return value


SourceId = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(visible_id)]
KNOWN_TEXT_FIELDS = (
    "given_name",
    "family_name",
    "birth_name",
    "birth_date",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "loyalty_card",
    "civility",
)


class RecordRejected(Exception):
    """A record that breaks the contract; `reason` says why, naming the field, never its value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ContractClock:
    """What `updated_at` is checked against: no earlier than 1970 (it is the record's version), no
    later than `now` plus a margin for clocks and time zones (an instant years ahead would win
    every later update for good)."""

    future_margin: timedelta = DEFAULT_FUTURE_MARGIN
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def latest(self) -> datetime:
        return self.now + self.future_margin


class ConsentStatement(BaseModel):
    """What the customer said about one purpose, and when (README, "Consent")."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    purpose: Purpose
    status: Status
    at: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(description="ISO 8601 instant of the statement.")

    @model_validator(mode="after")
    def _status_fits_purpose(self, info: ValidationInfo) -> ConsentStatement:
        clock = (info.context or {}).get("clock") or ContractClock()
        try:
            check_status(self.purpose, self.status)
            self.at = statement_instant(parse_timestamp(self.at), clock.latest).isoformat()
        except (InvalidStatement, InvalidValue) as error:
            raise ValueError(str(getattr(error, "reason", error))) from None
        except OverflowError:
            raise ValueError("at: out of the range of dates") from None
        return self


def read_instant(value: Any) -> datetime:
    """An instant of the contracts (a record's `updated_at`, an event's `at`): an ISO 8601 string of
    at most 64 characters; ValueError with the reason otherwise."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    if len(value) > 64:
        raise ValueError("not an ISO 8601 date-time (longer than 64 characters)")
    try:
        return parse_timestamp(value)
    except InvalidValue as error:
        raise ValueError(error.reason) from None
    except OverflowError:
        raise ValueError("out of the range of dates") from None


class SourceRecord(BaseModel):
    """One record of one source system. Only `source` and `source_id` are required; any other field
    is kept as a source attribute. Text fields must be strings (or null): a number where a name is
    expected is a structural error, reported, not guessed."""

    model_config = ConfigDict(extra="allow", strict=True, str_strip_whitespace=True)

    source: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    source_id: SourceId
    updated_at: datetime | None = Field(default=None, description="ISO 8601 instant of the source's last change; the record's version.")
    given_name: FieldText | None = None
    family_name: FieldText | None = None
    birth_name: FieldText | None = Field(default=None, description="Maiden name.")
    birth_date: FieldText | None = None
    email: FieldText | None = None
    phone: FieldText | None = None
    street: FieldText | None = None
    postcode: FieldText | None = None
    city: FieldText | None = None
    country: FieldText | None = None
    loyalty_card: FieldText | None = None
    civility: FieldText | None = None
    deleted: bool | None = None
    consents: list[ConsentStatement] | None = Field(default=None, max_length=64)

    @field_validator("source_id", mode="before")
    @classmethod
    def _integer_ids_are_ids(cls, value: Any) -> Any:
        # Exports often write numeric ids as JSON numbers; an id is an id. Booleans are not ids.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("updated_at", mode="before")
    @classmethod
    def _an_instant_in_range(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        moment = read_instant(value)
        clock = (info.context or {}).get("clock") or ContractClock()
        if moment < EPOCH:
            raise ValueError("before 1970-01-01: not a usable version")
        if moment > clock.latest:
            raise ValueError(f"more than {clock.future_margin.total_seconds() / 3600:g} h in the future (the allowed margin)")
        return moment

    @field_validator(*KNOWN_TEXT_FIELDS, mode="after")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _id_fits_opensearch(self) -> SourceRecord:
        if len(self.record_id.encode("utf-8", errors="surrogatepass")) > MAX_ID_BYTES:
            raise ValueError(f"source_id: source:source_id is longer than {MAX_ID_BYTES} bytes in UTF-8")
        return self

    @property
    def record_id(self) -> str:
        return f"{self.source.lower()}:{self.source_id}"

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply `value` nests (a scalar is 0, `{}` is 1), counted without recursion and
    stopping once past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        # Only containers go on the stack: a record's many scalar values are never visited twice.
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (an integrator reads "null", not "NoneType")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def parse_record(raw: bytes) -> dict[str, Any]:
    """One record's bytes (a JSON Lines line, a request body) as a JSON object; raises RecordRejected."""
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordRejected(f"oversized record: {len(raw)} bytes (at most {MAX_RECORD_BYTES})")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark is an encoding mark, not content
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RecordRejected(f"invalid UTF-8 at byte {error.start}") from None
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RecordRejected(f"invalid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise RecordRejected(f"a record must be a JSON object, not {_json_kind(payload)}")
    return payload


def validation_reason(error: ValidationError) -> str:
    """ "given_name: Input should be a valid string; source: Field required"."""
    parts = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in problem["loc"]) or "record"
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(message if message.startswith(f"{where}:") or (not problem["loc"] and ":" in message) else f"{where}: {message}")
    return "; ".join(parts)


def validate_record(payload: dict[str, Any], clock: ContractClock | None = None) -> SourceRecord:
    """The contract's record, or RecordRejected with every reason at once."""
    depth = nesting_depth(payload)
    if depth > MAX_DEPTH:
        raise RecordRejected(f"nested too deeply: more than {MAX_DEPTH} levels")
    try:
        return SourceRecord.model_validate(payload, context={"clock": clock or ContractClock()})
    except ValidationError as error:
        raise RecordRejected(validation_reason(error)) from None
