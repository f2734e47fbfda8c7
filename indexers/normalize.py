"""From a validated SourceRecord to the document indexed in `records`, with data-quality warnings.

A value that cannot be normalized never costs the customer: it is kept raw, left out of matching
(the normalized field stays empty) and reported as a warning naming the field. A value of the right
shape that the reference rules do not confirm (a phone in an unallocated range, an e-mail with an
odd domain) keeps its canonical form for matching and look-up, is listed in `quality.unverified`,
and is reported as a warning too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from analyzers.addresses import normalize_postcode, normalize_street
from analyzers.cards import normalize_card
from analyzers.dates import parse_birth_date
from analyzers.emails import normalize_email
from analyzers.errors import InvalidValue, UnverifiedValue
from analyzers.names import normalize_name
from analyzers.phones import to_e164
from indexers.contract import SourceRecord
from indexers.versions import content_tie, dated_version

COUNTRY_ALIASES = {"france": "FR", "fra": "FR", "belgique": "BE", "bel": "BE", "suisse": "CH", "che": "CH", "luxembourg": "LU", "lux": "LU"}


@dataclass(frozen=True)
class FieldWarning:
    field: str
    raw: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "raw": self.raw, "reason": self.reason}


@dataclass
class NormalizedRecord:
    record_id: str
    version: int | None  # None for an undated record: indexers.versions.undated_version decides it
    tie: int  # what breaks a tie between copies with the same updated_at (indexers.versions)
    document: dict[str, Any]
    deleted: bool = False
    warnings: list[FieldWarning] = field(default_factory=list)


@dataclass(frozen=True)
class NormalizeOptions:
    """Per-source parsing choices, from a CSV mapping; JSON Lines use the defaults."""

    birth_date_format: str | None = None
    default_country: str = "FR"


def normalize_country(raw: str) -> str:
    text = raw.strip()
    alias = COUNTRY_ALIASES.get(text.lower())
    if alias:
        return alias
    if len(text) == 2 and text.isalpha():
        return text.upper()
    raise InvalidValue(f"not an ISO 3166 country code: {text[:20]!r}")


class _Normalizer:
    """Collects normalized values, raw values and warnings for one record."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.raw: dict[str, str] = {}
        self.warnings: list[FieldWarning] = []
        self.unverified: list[str] = []

    def _keep_raw(self, name: str, value: str, reason: str) -> None:
        self.raw[name] = value
        self.warnings.append(FieldWarning(name, value, reason))

    def apply(self, name: str, value: str | None, normalize: Callable[[str], Any], keep_raw: bool = True) -> Any:
        if value is None:
            return None
        try:
            normalized = normalize(value)
        except UnverifiedValue as unverified:
            self.raw[name] = value
            self.warnings.append(FieldWarning(name, value, unverified.reason))
            self.unverified.append(name)
            self.document[name] = unverified.canonical
            return unverified.canonical
        except InvalidValue as error:
            return self._keep_raw(name, value, error.reason)
        except (ValueError, OverflowError, ArithmeticError):
            # A normalizer meeting a value it was not written for: the value is kept, never the run lost.
            return self._keep_raw(name, value, "could not be normalized")
        if keep_raw and normalized != value:
            self.raw[name] = value
        self.document[name] = normalized
        return normalized


def normalize_record(record: SourceRecord, options: NormalizeOptions | None = None, now: datetime | None = None) -> NormalizedRecord:
    options = options or NormalizeOptions()
    now = now or datetime.now(UTC)
    source = record.source.lower()
    document: dict[str, Any] = {
        "record_id": record.record_id,
        "source": source,
        "source_id": record.source_id,
        "ingested_at": now.isoformat(),
        "deleted": bool(record.deleted),
    }
    if record.updated_at:
        document["updated_at"] = record.updated_at.isoformat()
    tie = content_tie(record.model_dump(mode="json", exclude={"updated_at"}), bool(record.deleted))
    version = dated_version(record.updated_at, tie) if record.updated_at else None
    fields = _Normalizer(document)
    if record.deleted:
        # A tombstone keeps the version (so an older copy never comes back) and nothing personal.
        return NormalizedRecord(record.record_id, version, tie, document, deleted=True)

    for name in ("given_name", "family_name", "birth_name"):
        fields.apply(name, getattr(record, name), normalize_name)
    fields.apply("civility", record.civility, lambda v: v.strip().rstrip(".").capitalize())
    country = fields.apply("country", record.country, normalize_country) or options.default_country
    fields.apply("birth_date", record.birth_date, lambda v: parse_birth_date(v, options.birth_date_format, now.date()).isoformat())
    fields.apply("email", record.email, normalize_email)
    fields.apply("phone", record.phone, lambda v: to_e164(v, country))
    fields.apply("street", record.street, normalize_street)
    fields.apply("postcode", record.postcode, lambda v: normalize_postcode(v, country))
    fields.apply("city", record.city, normalize_name)
    fields.apply("loyalty_card", record.loyalty_card, normalize_card)
    if fields.raw:
        document["raw"] = fields.raw
    if record.attributes:
        document["attributes"] = record.attributes
    if fields.warnings:
        document["quality"] = {
            "fields": sorted({warning.field for warning in fields.warnings}),
            "warnings": [warning.as_dict() for warning in fields.warnings],
        }
        if fields.unverified:
            document["quality"]["unverified"] = fields.unverified
    return NormalizedRecord(record.record_id, version, tie, document, warnings=fields.warnings)
