"""Person names: a display form (NFC, sensible casing) and folded forms for matching.

The folded forms agree with the OpenSearch analyzers in `analyzers.index_settings` (tested):
`fold_name` ~ `rcu_name` (elision of l'/d', accent and case folding), `compact_name` ~ `rcu_name_compact`.
"""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

from analyzers.caching import batch_cached
from analyzers.visible import visible_text

APOSTROPHES = "'’ʼ`´"
ELIDED_ARTICLES = ("l", "d")
LOWERCASE_PARTICLES = {"de", "du", "des", "d"}
_SPACES = re.compile(r"\s+")
_APOSTROPHE = re.compile(f"[{APOSTROPHES}]")
_WORD_SPLIT = re.compile(r"[^a-z0-9']+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@batch_cached(maxsize=1 << 16)
def normalize_name(raw: str) -> str:
    """The display form: what is visible of it (NFC, no control or format character, no stack of
    combining marks: analyzers.visible), trimmed, single spaces, typographic apostrophes made plain,
    and names typed all in capitals or all in lower case given a name's usual casing (particles
    de/du/des/d' kept lower case). Mixed case is kept as typed (McDonald, DuPont)."""
    name = _SPACES.sub(" ", visible_text(raw)).strip()
    name = _APOSTROPHE.sub("'", name)
    if name and (name.isupper() or name.islower()):
        name = _recase(name)
    return name


def _recase(name: str) -> str:
    words = name.lower().split(" ")
    cased = []
    for position, word in enumerate(words):
        parts = re.split(r"([-'])", word)
        out = []
        for index, part in enumerate(parts):
            is_particle = part in LOWERCASE_PARTICLES and (position, index) != (len(words) - 1, len(parts) - 1)
            followed_by_apostrophe = index + 1 < len(parts) and parts[index + 1] == "'"
            if part in {"-", "'"} or (is_particle and (len(words) > 1 or followed_by_apostrophe)):
                out.append(part)
            else:
                out.append(part[:1].upper() + part[1:])
        cased.append("".join(out))
    return " ".join(cased)


def fold_text(raw: str) -> str:
    """Accents and case folded away (Œ → oe, ß → ss): lower-case ASCII with its punctuation."""
    if raw.isascii():  # most values: nothing to fold but the case
        return raw.lower()
    return unidecode(unicodedata.normalize("NFC", raw)).lower()


def name_tokens(raw: str) -> list[str]:
    """The words of a name, folded, with elided articles removed: "l'Hôpital" → ["hopital"]."""
    if raw.isalpha():  # one word of letters, the most common case: folded, nothing to split
        folded = raw.lower() if raw.isascii() else fold_text(raw)
        if folded.isascii() and folded.isalpha():
            return [folded]
    tokens = []
    for word in _WORD_SPLIT.split(fold_text(_APOSTROPHE.sub("'", raw))):
        word = word.strip("'")
        for article in ELIDED_ARTICLES:
            if word.startswith(article + "'"):
                word = word[len(article) + 1 :]
                break
        word = word.replace("'", "")
        if word:
            tokens.append(word)
    return tokens


@batch_cached(maxsize=1 << 18)
def fold_name(raw: str) -> str:
    """The folded name as one string: "Hélène de l'Hôpital" → "helene de hopital"."""
    return " ".join(name_tokens(raw))


def compact_name(raw: str) -> str:
    """Folded, without spaces or punctuation: "l'Hôpital" and "Lhopital" both → "lhopital"."""
    return _NON_ALNUM.sub("", fold_text(raw))


_VOWELS = re.compile(r"[aeiouy]")
_NOT_LETTER = re.compile(r"[^a-z]")
_REPEATED = re.compile(r"(.)\1+")


def consonant_skeleton(folded: str) -> str:
    """A folded name's consonants, repeats written once ("besarade" and "besrade" → "bsrd",
    "bneoiit" and "benoit" → "bnt"): typos on vowels, doubled or dropped letters and a vowel
    swapped with its neighbour leave it unchanged (blocking keys, search.resolve.blocking)."""
    return _REPEATED.sub(r"\1", _VOWELS.sub("", _NOT_LETTER.sub("", folded)))
