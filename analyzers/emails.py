"""E-mail addresses: trimmed, lower-cased, checked for shape (no DNS look-up)."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from analyzers.caching import batch_cached
from analyzers.errors import InvalidValue, UnverifiedValue

# The everyday address (ASCII, dot-atoms, a dotted domain with a letter TLD) is plainly valid; only
# what falls outside it goes through email_validator's full RFC checks, which cost far more.
_PLAIN_ADDRESS = re.compile(
    r"(?=.{3,254}$)(?=[^@]{1,64}@)[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


# An address's shape: one @, a mailbox and a domain, no spaces. A value of this shape that the RFC
# checks refuse ("jean.dupont@gmail", "jean@orange..fr") is still the customer's own mailbox name.
_ADDRESS_SHAPE = re.compile(r"(?=.{3,254}$)[^@\s]{1,64}@[^@\s]*[a-z0-9][^@\s]*")


def normalize_email(raw: str) -> str:
    """ " Jean.Dupont@Example.FR " → "jean.dupont@example.fr"; InvalidValue when it is not an
    address, UnverifiedValue (with the trimmed, lower-cased form) when only its domain looks wrong."""
    text = raw.strip().lower()
    if _PLAIN_ADDRESS.fullmatch(text):
        return text
    return _checked_email(text)


@batch_cached(maxsize=1 << 17)
def _checked_email(text: str) -> str:
    if not text:
        raise InvalidValue("empty e-mail address")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        if _ADDRESS_SHAPE.fullmatch(text):
            raise UnverifiedValue(f"not a valid e-mail address (kept unverified): {error}", text) from None
        raise InvalidValue(f"not an e-mail address: {error}") from None
    # Mailboxes are case-insensitive in practice everywhere rcu's customers live.
    return checked.normalized.lower()


def canonical_email(raw: str) -> str:
    """The form used for matching and look-up: valid, or address-shaped and unverified."""
    try:
        return normalize_email(raw)
    except UnverifiedValue as unverified:
        return unverified.canonical
