"""Phone numbers to E.164 with Google's libphonenumber rules (the `phonenumbers` package)."""

from __future__ import annotations

import phonenumbers

from analyzers.errors import InvalidValue

DEFAULT_REGION = "FR"


def to_e164(raw: str, region: str | None = None) -> str:
    """"06 12 34 56 78" (region FR) → "+33612345678". Raises InvalidValue when it is not a valid number."""
    text = raw.strip()
    if not text:
        raise InvalidValue("empty phone number")
    try:
        number = phonenumbers.parse(text, (region or DEFAULT_REGION).upper())
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"not a phone number: {raw.strip()[:40]!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(f"not a valid phone number for region {(region or DEFAULT_REGION).upper()}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str, region: str | None = None) -> str:
    """The national form with all but the first two and last two digits hidden: "06 •• •• •• 78"."""
    try:
        number = phonenumbers.parse(e164, (region or DEFAULT_REGION).upper())
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        national = e164
    digits_seen = 0
    total = sum(ch.isdigit() for ch in national)
    masked = []
    for ch in national:
        if ch.isdigit():
            digits_seen += 1
            masked.append(ch if digits_seen <= 2 or digits_seen > total - 2 else "•")
        else:
            masked.append(ch)
    return "".join(masked)
