"""Phone numbers to E.164 with Google's libphonenumber rules (the `phonenumbers` package)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from analyzers.caching import batch_cached
from analyzers.errors import InvalidValue, UnverifiedValue

DEFAULT_REGION = "FR"
_SEPARATORS = re.compile(r"[\s.\-()/]")


NUMBER_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip", "pager", "uan", "voicemail")


@lru_cache(maxsize=64)
def _region_plan(region: str) -> tuple[str, str, re.Pattern[str]] | None:
    """Country code, national prefix and libphonenumber's valid-number patterns for `region`."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or not metadata.national_prefix:
        return None
    patterns = [
        desc.national_number_pattern
        for desc in (getattr(metadata, kind) for kind in NUMBER_TYPES)
        if desc is not None and desc.national_number_pattern
    ]
    return str(metadata.country_code), metadata.national_prefix, re.compile("|".join(f"(?:{p})" for p in patterns))


def _domestic_shape(text: str, region: str) -> str | None:
    """The E.164 form of a number written the region's plain way (0…, +CC…, 00CC…) that matches one
    of libphonenumber's valid-number patterns for the region; None sends it to the full parser."""
    plan = _region_plan(region)
    if plan is None:
        return None
    country_code, national_prefix, valid = plan
    for prefix in (f"+{country_code}", f"00{country_code}", national_prefix):
        if text.startswith(prefix):
            national = text[len(prefix) :]
            if national.isdigit() and valid.fullmatch(national):
                return f"+{country_code}{national}"
            return None
    return None


def to_e164(raw: str, region: str | None = None) -> str:
    """ "06 12 34 56 78" (region FR) → "+33612345678". Raises InvalidValue when it is not a phone
    number, UnverifiedValue (with its canonical E.164-shaped form) when it is well-formed but not
    valid for libphonenumber ("07 20 65 09 81": a range not yet allocated)."""
    region = (region or DEFAULT_REGION).upper()
    text = _SEPARATORS.sub("", raw)
    return _domestic_shape(text, region) or _compact_to_e164(text, region)


@batch_cached(maxsize=1 << 17)
def _compact_to_e164(text: str, region: str) -> str:
    # One person's number comes in many shapes; without separators they are two or three, so the
    # costly parse runs once per shape (an ingest spends most of its Python time here otherwise).
    if not text:
        raise InvalidValue("empty phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"not a phone number: {text[:40]!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise _unverified(text, number, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Regions that share France's national numbering (06 93 written nationally is a Réunion mobile).
FRENCH_PLAN_REGIONS = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")
MIN_NATIONAL_DIGITS = 8  # shorter national numbers are extensions, codes or fragments, not a line


def _unverified(text: str, number: phonenumbers.PhoneNumber, region: str) -> InvalidValue:
    """Why a parsed number is not valid, carrying its canonical form when it is well-formed: the
    region's length, at least MIN_NATIONAL_DIGITS digits, not one digit repeated."""
    national = str(number.national_number)
    well_formed = (
        phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE
        and len(national) >= MIN_NATIONAL_DIGITS
        and len(set(national)) > 1
    )
    if not well_formed:
        return InvalidValue(f"not a valid phone number for region {region}")
    if region == "FR" and not text.startswith(("+", "00")):
        overseas = {_valid_in(text, other) for other in FRENCH_PLAN_REGIONS} - {None}
        if len(overseas) == 1:
            (read_as,) = overseas
            if read_as is not None:  # the set holds no None; this says so to the type checker
                return UnverifiedValue(f"not a valid phone number for region {region}, read as an overseas number (unverified)", read_as)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return UnverifiedValue(f"not a valid phone number for region {region} (well-formed, kept unverified)", e164)


def _valid_in(text: str, region: str) -> str | None:
    number = phonenumbers.parse(text, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_valid_number(number) else None


def canonical_phone(raw: str, region: str | None = None) -> str:
    """The E.164 form used for matching and look-up: valid, or well-formed and unverified. Raises
    InvalidValue when the text is not a phone number at all."""
    try:
        return to_e164(raw, region)
    except UnverifiedValue as unverified:
        return unverified.canonical


# France's numbering plan gives a line one set of nine national digits (0 + 9 digits dialled at home),
# in metropolitan France and in the overseas départements alike; systems write the country code
# they assume: "+33 6 92 12 34 56" for a Réunion mobile (+262 692…), or a block libphonenumber does
# not know yet, "06 93 28 29 87", read +33 where another source wrote +262.
FRENCH_PLAN_CODES = tuple(sorted({"33", *(str(phonenumbers.country_code_for_region(region)) for region in FRENCH_PLAN_REGIONS)}))
NATIONAL_DIGITS = 9


def same_line_forms(e164: str) -> list[str]:
    """The E.164 forms of one line of France's numbering plan: its nine national digits under every
    country code of the plan (+33, +262, +508, +590, +594, +596), sorted; any other number alone."""
    for code in FRENCH_PLAN_CODES:
        national = e164.removeprefix(f"+{code}")
        if national != e164 and len(national) == NATIONAL_DIGITS and national.isdigit():
            return [f"+{other}{national}" for other in FRENCH_PLAN_CODES]
    return [e164]


# What libphonenumber calls a line of a place, not of a person: a landline, and in France the 09
# numbers of an internet box (its VOIP type). A household shares it; a mobile is one person's.
_HOUSEHOLD_LINE_TYPES = frozenset({phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.VOIP})


@batch_cached(maxsize=1 << 16)
def is_household_line(e164: str) -> bool:
    """Whether a canonical number is a household's line (a landline, a box's 09 number) rather
    than a person's (a mobile). An unverified number (a range libphonenumber does not know) is not
    taken for a household's: its type is unknown."""
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164, None)) in _HOUSEHOLD_LINE_TYPES
    except phonenumbers.NumberParseException:
        return False


_FRENCH_E164 = re.compile(r"\+33([1-79])(\d{2})(\d{2})(\d{2})(\d{2})")


def _french_national(e164: str) -> str | None:
    """A French number's national form as libphonenumber writes it ("06 12 34 56 78"), for the
    shapes whose format is fixed (every leading digit but 8, which has formats of its own)."""
    match = _FRENCH_E164.fullmatch(e164)
    return f"0{match[1]} {match[2]} {match[3]} {match[4]} {match[5]}" if match else None


@batch_cached(maxsize=1 << 16)
def mask_phone(e164: str, region: str | None = None) -> str:
    """The national form with all but the first two and last two digits hidden: "06 •• •• •• 78".
    (Cached within a batch only: analyzers.caching. French numbers, most of what a counter agent
    sees, take the regular-expression path without libphonenumber.)"""
    region = (region or DEFAULT_REGION).upper()
    national = _french_national(e164) if region == "FR" else None
    if national is not None:
        # "0X XX XX XX XX": its first two digits and last two are its first and last two characters.
        return f"{national[:2]} •• •• •• {national[-2:]}"
    try:
        number = phonenumbers.parse(e164, region)
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
