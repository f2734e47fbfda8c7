"""What the counter typed, understood: an e-mail, a phone or card number, or names with a postcode
(or a département), a birth date and an e-mail in any order. A town is not told from a name here:
search.lookup scores the words both ways. Parsing only; search.lookup builds and runs the queries."""

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
# Metropolitan départements 01–95 (Corsica 2A, 2B) and the overseas ones 971–976.
DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2[ABab]|97[1-6])$")
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
    departement: str = ""
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
        parsed.email = _email(text)
        parsed.kinds.append("email")
        return parsed
    if DATE.match(text) and (birth_date := _birth_date(text)):
        # A date alone is a birth date, not a card number.
        parsed.birth_date = birth_date
        parsed.kinds.append("birth_date")
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
        elif DEPARTEMENT.match(token) and not parsed.departement:
            parsed.departement = token.upper()
        elif "@" in token and not parsed.email:
            parsed.email = _email(token)
        elif DATE.match(token) and not parsed.birth_date and (birth_date := _birth_date(token)):
            parsed.birth_date = birth_date
        elif (
            len(token) >= 6
            and " " not in text
            and any(ch.isdigit() for ch in token)
            and any(ch.isalpha() for ch in token)
            and (card := _card(token))
        ):
            parsed.card = card
        elif any(ch.isalnum() for ch in token):
            # Punctuation alone is no name word: "!!" would find a name that folds to nothing.
            words.append(token)
    parsed.names = " ".join(words)
    parsed.kinds.extend(
        kind
        for kind, value in (
            ("card", parsed.card),
            ("names", parsed.names),
            ("email", parsed.email),
            ("postcode", parsed.postcode),
            ("departement", parsed.departement),
            ("birth_date", parsed.birth_date),
        )
        if value
    )
    if not parsed.kinds:
        raise QueryNotUnderstood("type a letter or digit: a name, a phone, an e-mail or a card number")
    return parsed


def _birth_date(text: str) -> str:
    """The birth date typed, ISO; a date impossible day first but real month first ("07/13/1950")
    is read month first, as a date typed in the other order."""
    for spelling in (text, _month_first(text)):
        try:
            return parse_birth_date(spelling).isoformat()
        except InvalidValue:
            continue
    return ""


def _month_first(text: str) -> str:
    parts = re.split(r"([/.-])", text)
    if len(parts) == 5 and len(parts[4]) == 4:
        return "".join([parts[2], parts[1], parts[0], parts[3], parts[4]])
    return ""


def _email(text: str) -> str:
    try:
        return canonical_email(text)
    except InvalidValue:
        return text.lower()


def _card(text: str) -> str:
    try:
        return normalize_card(text)
    except InvalidValue:
        return ""
