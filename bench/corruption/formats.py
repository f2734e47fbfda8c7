"""How systems write values that mean the same: phones, dates, streets, civilities — and the small
slips in digits that typing makes."""

from __future__ import annotations

import random
from datetime import date

from bench.corruption.vocabulary import STREET_TYPES

PHONE_FORMATS = ("spaced", "plain", "dotted", "dashed", "international", "international_spaced", "double_zero")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d")
CIVILITIES = {"M": ("M.", "M", "Monsieur", "Mr"), "F": ("Mme", "Madame", "Mme.", "Mlle")}
_STREET_WRITINGS = dict(STREET_TYPES)


def write_phone(national: str, style: str) -> str:
    """A ten-digit national number ("0612345678") as a system writes it."""
    pairs = [national[i : i + 2] for i in range(0, 10, 2)]
    if style == "spaced":
        return " ".join(pairs)
    if style == "dotted":
        return ".".join(pairs)
    if style == "dashed":
        return "-".join(pairs)
    if style == "international":
        return "+33" + national[1:]
    if style == "international_spaced":
        return "+33 " + national[1] + " " + " ".join(pairs[1:])
    if style == "double_zero":
        return "0033" + national[1:]
    return national


def slip_digit(digits: str, rng: random.Random, keep_first: int = 2) -> str:
    """One digit mistyped or two neighbours swapped, after the first `keep_first` digits."""
    at = rng.randrange(keep_first, len(digits) - 1)
    if rng.random() < 0.5:
        return digits[:at] + digits[at + 1] + digits[at] + digits[at + 2 :]
    return digits[:at] + str((int(digits[at]) + rng.choice((1, -1))) % 10) + digits[at + 1 :]


def write_date(day: date, style: str) -> str:
    return day.strftime(style)


def slip_date(day: date, rng: random.Random) -> date:
    """Day and month swapped (when both can be months), or a day one off."""
    if day.day <= 12 and day.day != day.month and rng.random() < 0.5:
        return day.replace(day=day.month, month=day.day)
    try:
        return day.replace(day=day.day + rng.choice((1, -1)))
    except ValueError:
        return day.replace(day=day.day - 1) if day.day > 1 else day.replace(day=2)


def write_street(street: str, rng: random.Random) -> str:
    """The street type written one of the ways systems abbreviate it ("avenue" → "av.")."""
    number, street_type, name = _street_parts(street)
    writing = rng.choice(_STREET_WRITINGS.get(street_type, (street_type,)))
    comma = "," if rng.random() < 0.15 else ""
    return f"{number}{comma} {writing} {name}"


def _street_parts(street: str) -> tuple[str, str, str]:
    words = street.split(" ")
    cut = 2 if len(words) > 2 and words[1] == "bis" else 1
    return " ".join(words[:cut]), words[cut], " ".join(words[cut + 1 :])


def write_civility(sex: str, rng: random.Random) -> str:
    return rng.choice(CIVILITIES[sex])
