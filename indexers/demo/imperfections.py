"""The ways source systems get a person wrong: dropped accents, typos, misheard names, formats."""

from __future__ import annotations

import random
import re
from datetime import date

from unidecode import unidecode

# Spellings a French ear confuses, as (pattern, replacement) over lower-case text.
MISHEARINGS: tuple[tuple[str, str], ...] = (
    ("bvre", "vre"),
    ("èvre", "ebvre"),
    ("evre", "ebvre"),
    ("ph", "f"),
    ("f", "ph"),
    ("th", "t"),
    ("t$", "d"),
    ("d$", "t"),
    ("eau", "o"),
    ("aud$", "ault"),
    ("ault$", "aud"),
    ("au", "o"),
    ("y", "i"),
    ("ss", "s"),
    ("ll", "l"),
    ("tt", "t"),
    ("nn", "n"),
    ("mm", "m"),
    ("rr", "r"),
    ("c(?=[aou])", "k"),
    ("qu", "k"),
    ("é", "ai"),
    ("è", "ai"),
    ("ai", "é"),
    ("an", "en"),
    ("en", "an"),
    ("x$", ""),
    ("s$", ""),
    ("ier$", "ié"),
    ("er$", "é"),
    ("in", "ain"),
    ("ain", "in"),
)
KEYBOARD_NEIGHBOURS = {
    "a": "zqs",
    "z": "aes",
    "e": "zrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "om",
    "q": "asw",
    "s": "qdz",
    "d": "sfe",
    "f": "dgr",
    "g": "fht",
    "h": "gjy",
    "j": "hku",
    "k": "jli",
    "l": "kmo",
    "m": "lp",
    "w": "xq",
    "x": "wc",
    "c": "xv",
    "v": "cb",
    "b": "vn",
    "n": "bm",
}
PHONE_FORMATS = (
    "{0}{1}{2}{3}{4}",
    "{0} {1} {2} {3} {4}",
    "{0}.{1}.{2}.{3}.{4}",
    "{0}-{1}-{2}-{3}-{4}",
    "+33{0n}{1}{2}{3}{4}",
    "+33 {0n} {1} {2} {3} {4}",
)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y%m%d")


def _recase_like(original: str, changed: str) -> str:
    if original.isupper():
        return changed.upper()
    return "-".join(part[:1].upper() + part[1:] for part in changed.split("-"))


def mishear(name: str, rng: random.Random) -> str:
    """A spelling of `name` that sounds the same in French (Lefèvre → Lefebvre, Dupont → Dupond)."""
    lower = name.lower()
    options = [(p, r) for p, r in MISHEARINGS if re.search(p, lower)]
    if not options:
        return typo(name, rng)
    pattern, replacement = rng.choice(options)
    matches = list(re.finditer(pattern, lower))
    chosen = rng.choice(matches)
    changed = lower[: chosen.start()] + replacement + lower[chosen.end() :]
    return _recase_like(name, changed) if changed else name


def typo(text: str, rng: random.Random) -> str:
    """One keyboard slip, never on the first letter: a neighbour key, a dropped, doubled or swapped letter."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha() and i > 0]
    if len(letters) < 2:
        return text
    i = rng.choice(letters)
    kind = rng.randrange(4)
    if kind == 0:
        neighbours = KEYBOARD_NEIGHBOURS.get(text[i].lower(), "e")
        replacement = rng.choice(neighbours)
        return text[:i] + (replacement.upper() if text[i].isupper() else replacement) + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    if i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]


def drop_accents(text: str) -> str:
    return unidecode(text)


def format_phone(national: str, rng: random.Random) -> str:
    """ "0612345678" in one of the shapes source systems use."""
    pairs = [national[i : i + 2] for i in range(0, 10, 2)]
    shape = rng.choice(PHONE_FORMATS)
    return shape.replace("{0n}", pairs[0][1]).format(*pairs)


def format_date(day: date, rng: random.Random, formats: tuple[str, ...] = DATE_FORMATS) -> str:
    return day.strftime(rng.choice(formats))
