"""E-mail addresses: trimmed, lower-cased, checked for shape (no DNS look-up)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from analyzers.errors import InvalidValue


def normalize_email(raw: str) -> str:
    """" Jean.Dupont@Example.FR " → "jean.dupont@example.fr"; InvalidValue when it is not an address."""
    text = raw.strip()
    if not text:
        raise InvalidValue("empty e-mail address")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise InvalidValue(f"not an e-mail address: {error}") from None
    # Mailboxes are case-insensitive in practice everywhere rcu's customers live.
    return checked.normalized.lower()
