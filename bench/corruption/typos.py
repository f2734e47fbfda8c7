"""What goes wrong when a value is typed, scanned, heard or squeezed into a field.

Each function takes the value and a seeded random generator and returns the damaged value (or
the value itself when the damage does not apply). `position` chooses where a letter-level error
lands: the first letter with probability `first_letter`, otherwise anywhere, uniformly.
"""

from __future__ import annotations

import random
import unicodedata

# AZERTY rows (French keyboards): a key's neighbours are beside it, and above or below it.
_AZERTY_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn")
OCR_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("rn", "m"),
    ("m", "rn"),
    ("O", "0"),
    ("o", "0"),
    ("l", "1"),
    ("I", "l"),
    ("i", "l"),
    ("cl", "d"),
    ("e", "c"),
    ("S", "5"),
    ("B", "8"),
)
# French spellings that sound alike, both ways.
PHONETIC_SWAPS: tuple[tuple[str, str], ...] = (
    ("ph", "f"),
    ("f", "ph"),
    ("ai", "é"),
    ("é", "ai"),
    ("ais", "ait"),
    ("au", "o"),
    ("eau", "o"),
    ("o", "au"),
    ("qu", "k"),
    ("c", "k"),
    ("k", "c"),
    ("ch", "sh"),
    ("ll", "l"),
    ("l", "ll"),
    ("nn", "n"),
    ("n", "nn"),
    ("tt", "t"),
    ("t", "tt"),
    ("ss", "s"),
    ("s", "ss"),
    ("rr", "r"),
    ("y", "i"),
    ("i", "y"),
    ("ez", "é"),
    ("er", "é"),
    ("ault", "ot"),
    ("ot", "ault"),
    ("an", "en"),
    ("en", "an"),
    ("in", "ain"),
    ("ain", "in"),
    ("ei", "ai"),
    ("gu", "g"),
    ("oux", "ou"),
    ("ard", "ar"),
)


def _neighbours() -> dict[str, str]:
    table: dict[str, str] = {}
    for row_index, row in enumerate(_AZERTY_ROWS):
        for column, key in enumerate(row):
            near = [row[c] for c in (column - 1, column + 1) if 0 <= c < len(row)]
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(_AZERTY_ROWS):
                    near += [_AZERTY_ROWS[other][c] for c in (column - 1, column) if 0 <= c < len(_AZERTY_ROWS[other])]
            table[key] = "".join(dict.fromkeys(near))
    return table


KEY_NEIGHBOURS = _neighbours()


def _position(word: str, rng: random.Random, first_letter: float, span: int = 1) -> int | None:
    """Where a letter-level error lands (an index of a letter with `span - 1` letters after it)."""
    letters = [i for i in range(len(word) - span + 1) if word[i : i + span].isalpha()]
    if not letters:
        return None
    return letters[0] if rng.random() < first_letter else rng.choice(letters)


def _same_case(new: str, old: str) -> str:
    return new.upper() if old.isupper() else new


def keyboard_slip(word: str, rng: random.Random, first_letter: float = 0.0) -> str:
    at = _position(word, rng, first_letter)
    if at is None:
        return word
    key = unicodedata.normalize("NFKD", word[at].lower())[0]
    options = KEY_NEIGHBOURS.get(key)
    return word if not options else word[:at] + _same_case(rng.choice(options), word[at]) + word[at + 1 :]


def transposition(word: str, rng: random.Random, first_letter: float = 0.0) -> str:
    at = _position(word, rng, first_letter, span=2)
    if at is None or word[at].lower() == word[at + 1].lower():
        return word
    swapped = word[at + 1] + word[at]
    if at == 0 and word[0].isupper() and word[1].islower():  # "Dupont" → "Udpont" as typed
        swapped = swapped[0].upper() + swapped[1].lower()
    return word[:at] + swapped + word[at + 2 :]


def dropped_letter(word: str, rng: random.Random, first_letter: float = 0.0) -> str:
    at = _position(word, rng, first_letter)
    if at is None or len(word) < 3:
        return word
    rest = word[:at] + word[at + 1 :]
    return rest[:1].upper() + rest[1:] if at == 0 and word[0].isupper() else rest


def doubled_letter(word: str, rng: random.Random, first_letter: float = 0.0) -> str:
    at = _position(word, rng, first_letter)
    return word if at is None else word[: at + 1] + word[at].lower() + word[at + 1 :]


def _substitute(word: str, table: tuple[tuple[str, str], ...], rng: random.Random, first_letter: float) -> str:
    """One of `table`'s substitutions where it applies (at the start when forced there)."""
    lowered = word.lower()
    spots = [(i, old, new) for old, new in table for i in range(len(word)) if word.startswith(old, i) or lowered.startswith(old, i)]
    if not spots:
        return word
    first = [spot for spot in spots if spot[0] == 0]
    at, old, new = rng.choice(first) if first and rng.random() < first_letter else rng.choice(spots)
    replacement = _same_case(new, word[at : at + len(old)]) if new else ""
    if at == 0 and word[:1].isupper() and replacement:
        replacement = replacement[0].upper() + replacement[1:]
    return word[:at] + replacement + word[at + len(old) :]


def ocr_confusion(word: str, rng: random.Random, first_letter: float = 0.0) -> str:
    return _substitute(word, OCR_CONFUSIONS, rng, first_letter)


def phonetic_variant(word: str, rng: random.Random, first_letter: float = 0.0) -> str:
    return _substitute(word, PHONETIC_SWAPS, rng, first_letter)


TYPING_ERRORS = (keyboard_slip, transposition, dropped_letter, doubled_letter)


def truncated(word: str, rng: random.Random) -> str:
    """A field too short for the name: four to seven letters kept."""
    return word if len(word) <= 5 else word[: rng.randint(4, min(7, len(word) - 1))]


def initial(given: str, rng: random.Random) -> str:
    """ "Jean-Pierre" → "J.-P." or "JP" or "J."; "Camille" → "C." or "C"."""
    parts = given.replace(" ", "-").split("-")
    if len(parts) > 1 and rng.random() < 0.5:
        return rng.choice(("-".join(p[0] + "." for p in parts), "".join(p[0] for p in parts).upper()))
    return given[0] + rng.choice((".", "", "."))


def partial_given(given: str) -> str:
    """The first part of a composed given name: "Marie-Claire" → "Marie"."""
    return given.replace(" ", "-").split("-")[0]


def without_accents(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
