"""The ingestion contract: what one source record may hold (README, "The ingestion contract")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from analyzers.dates import parse_timestamp
from analyzers.errors import InvalidValue
from search.rights.consents import InvalidStatement, Purpose, Status, check_status

MAX_FIELD_CHARS = 1000
MAX_RECORD_BYTES = 64 * 1024

FieldText = Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS)]
KNOWN_TEXT_FIELDS = (
    "updated_at",
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


class ConsentStatement(BaseModel):
    """What the customer said about one purpose, and when (README, "Consent")."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    purpose: Purpose
    status: Status
    at: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(description="ISO 8601 instant of the statement.")

    @model_validator(mode="after")
    def _status_fits_purpose(self) -> ConsentStatement:
        try:
            check_status(self.purpose, self.status)
            self.at = parse_timestamp(self.at).isoformat()
        except (InvalidStatement, InvalidValue) as error:
            raise ValueError(str(getattr(error, "reason", error))) from None
        return self


class SourceRecord(BaseModel):
    """One record of one source system. Only `source` and `source_id` are required; any other field
    is kept as a source attribute. Text fields must be strings (or null): a number where a name is
    expected is a structural error, reported, not guessed."""

    model_config = ConfigDict(extra="allow", strict=True, str_strip_whitespace=True)

    source: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    source_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    updated_at: FieldText | None = None
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

    @field_validator(*KNOWN_TEXT_FIELDS, mode="after")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        return value or None

    @property
    def record_id(self) -> str:
        return f"{self.source.lower()}:{self.source_id}"

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
