"""Loyalty card numbers as printed, typed or scanned."""

from __future__ import annotations

from analyzers.errors import InvalidValue

MAX_CARD_LENGTH = 32


def normalize_card(raw: str) -> str:
    """Spaces and dashes dropped, letters upper-cased: 2903 7760 3896-0 → 2903776038960."""
    card = "".join(ch for ch in raw if ch.isalnum()).upper()
    if not card:
        raise InvalidValue("empty loyalty card number")
    if len(card) > MAX_CARD_LENGTH or not card.isascii():
        raise InvalidValue(f"not a loyalty card number: {raw.strip()[:40]!r}")
    return card
