"""Dates as source systems write them, to ISO 8601, never guessed.

Accepted without configuration: 1980-05-17, 17/05/1980, 17-05-1980, 17.05.1980 and 19800517 — day
before month, as French systems write them. A two-digit year, an impossible day (31/02) or a birth
date in the future is an error, not a guess. A CSV mapping may name the one format its source uses.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from analyzers.caching import batch_cached
from analyzers.errors import InvalidValue

DEFAULT_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d")
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"), "%d/%m/%Y"),
    (re.compile(r"^\d{1,2}-\d{1,2}-\d{4}$"), "%d-%m-%Y"),
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
    (re.compile(r"^\d{8}$"), "%Y%m%d"),
)
_TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}$")
EARLIEST_BIRTH = date(1900, 1, 1)


@batch_cached(maxsize=1 << 16)
def parse_date(raw: str, date_format: str | None = None) -> date:
    """A calendar date from one of the accepted shapes (or exactly `date_format` when given)."""
    text = raw.strip()
    if not text:
        raise InvalidValue("empty date")
    candidates = [date_format] if date_format else [fmt for shape, fmt in _SHAPES if shape.match(text)]
    if not candidates:
        if _TWO_DIGIT_YEAR.match(text):
            raise InvalidValue(f"ambiguous date {text!r}: two-digit year")
        raise InvalidValue(f"unrecognised date {text!r} (expected e.g. 1980-05-17 or 17/05/1980)")
    for fmt in candidates:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidValue(f"impossible date {text!r}")


def parse_birth_date(raw: str, date_format: str | None = None, today: date | None = None) -> date:
    """A birth date: a real date between 1900 and today."""
    born = parse_date(raw, date_format)
    today = today or datetime.now(UTC).date()
    if born > today:
        raise InvalidValue(f"birth date {born.isoformat()} is in the future")
    if born < EARLIEST_BIRTH:
        raise InvalidValue(f"birth date {born.isoformat()} is before {EARLIEST_BIRTH.year}")
    return born


def parse_timestamp(raw: str) -> datetime:
    """An ISO 8601 instant ("2024-03-01T10:15:00Z", "2024-03-01"); naive values are taken as UTC."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise InvalidValue(f"not an ISO 8601 date-time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def mistyped_dates(born: date, today: date | None = None) -> list[str]:
    """The birth dates a customer or an agent may have meant instead of `born` (ISO strings,
    `born` itself left out): day and month swapped, one digit of DDMMYYYY changed, or two adjacent
    digits swapped — each a real date between 1900 and today."""
    today = today or datetime.now(UTC).date()
    digits = born.strftime("%d%m%Y")
    spellings = {born.strftime("%m%d%Y")}
    for at in range(len(digits)):
        spellings.update(digits[:at] + other + digits[at + 1 :] for other in "0123456789")
        if at + 1 < len(digits):
            spellings.add(digits[:at] + digits[at + 1] + digits[at] + digits[at + 2 :])
    near: set[str] = set()
    for spelling in spellings:
        try:
            candidate = datetime.strptime(spelling, "%d%m%Y").date()
        except ValueError:
            continue
        if EARLIEST_BIRTH <= candidate <= today and candidate != born:
            near.add(candidate.isoformat())
    return sorted(near)
