"""What the counter typed, understood: an e-mail, a phone or card number, or names with a postcode
and a birth date in any order. Parsing only; search.lookup builds and runs the queries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzers.cards import normalize_card
from analyzers.dates import parse_birth_date
from analyzers.emails import canonical_email
from analyzers.errors import InvalidValue
from analyzers.phones import canonical_phone
from search.access import CUSTOMER_PATHS

DIGITS_ONLY = re.compile(r"^\+?[\d\s.\-/()]+$")
POSTCODE = re.compile(r"^\d{5}$")
DATE = re.compile(r"^(\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2})$")
MAX_QUERY_LENGTH = 200


class QueryNotUnderstood(ValueError):
    """The text is too short or too long to look anything up."""


@dataclass
class ParsedQuery:
    """What the counter typed, split into the parts rcu can look up."""

    text: str
    names: str = ""
    postcode: str = ""
    birth_date: str = ""
    phone: str = ""
    email: str = ""
    card: str = ""
    kinds: list[str] = field(default_factory=list)

    def exact_values(self) -> dict[str, str]:
        """The exact-valued parts typed (kind → value as indexed): e-mail, phone, card, postcode, birth date."""
        return {kind: value for kind in CUSTOMER_PATHS if (value := getattr(self, kind))}


def parse_query(text: str) -> ParsedQuery:
    """An e-mail, a phone or card number (a bare number may be either), or names with an optional
    postcode and birth date in any order: "dupont jean 75011", "lefev hel 17/05/1980"."""
    text = " ".join(text.split())
    if len(text) < 2:
        raise QueryNotUnderstood("type at least 2 characters")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryNotUnderstood(f"a query is at most {MAX_QUERY_LENGTH} characters")
    parsed = ParsedQuery(text)
    if "@" in text and " " not in text:
        try:
            parsed.email = canonical_email(text)
        except InvalidValue:
            parsed.email = text.lower()
        parsed.kinds.append("email")
        return parsed
    if DIGITS_ONLY.match(text) and sum(ch.isdigit() for ch in text) >= 6:
        try:
            # Unverified numbers too ("07 20 65 09 81"): the records hold them in this same form.
            parsed.phone = canonical_phone(text, "FR")
            parsed.kinds.append("phone")
        except InvalidValue:
            pass
        parsed.card = _card(text)
        if parsed.card:
            parsed.kinds.append("card")
        return parsed
    words = []
    for token in text.split():
        if POSTCODE.match(token) and not parsed.postcode:
            parsed.postcode = token
        elif DATE.match(token) and not parsed.birth_date:
            try:
                parsed.birth_date = parse_birth_date(token).isoformat()
            except InvalidValue:
                words.append(token)
        elif (
            len(token) >= 6
            and " " not in text
            and any(ch.isdigit() for ch in token)
            and any(ch.isalpha() for ch in token)
            and (card := _card(token))
        ):
            parsed.card = card
        else:
            words.append(token)
    parsed.names = " ".join(words)
    parsed.kinds.extend(
        kind
        for kind, value in (
            ("card", parsed.card),
            ("names", parsed.names),
            ("postcode", parsed.postcode),
            ("birth_date", parsed.birth_date),
        )
        if value
    )
    return parsed


def _card(text: str) -> str:
    try:
        return normalize_card(text)
    except InvalidValue:
        return ""
