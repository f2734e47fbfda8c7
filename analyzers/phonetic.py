"""A French phonetic key for names, defined once as rewrite rules and run in two places.

OpenSearch's phonetic encoders are built for English (double metaphone) or for many languages at
once (Beider-Morse): neither gives "Lefebvre" and "Lefèvre", or "Laurent" and "Lorant", one code.
These rules spell a folded name the way it sounds in French. The same list becomes a chain of
`pattern_replace` token filters in the index (analyzers.index_settings) and is applied here in
Python for resolution; a test checks that both give the same keys.

Rules are Java/Python-compatible regular expressions over folded lower-case letters, applied in
order to each word; replacements use `$1` (Java's syntax), translated for Python below.
"""

from __future__ import annotations

import re

import jellyfish

from analyzers.caching import batch_cached
from analyzers.names import name_tokens

FRENCH_PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    ("[^a-z]", ""),
    ("(.)\\1+", "$1"),  # doubled letters: Rousseau / Rouseau
    ("ph", "f"),
    ("th", "t"),
    ("sch", "ch"),
    ("ch(?=r)", "k"),  # Christophe
    ("ck", "k"),
    ("cq", "k"),  # Leclercq / Leclerc
    ("qu", "k"),
    ("gu(?=[eiy])", "g"),
    ("ch", "x"),
    ("c(?=[eiy])", "s"),
    ("g(?=[eiy])", "j"),
    ("c", "k"),
    ("h", ""),
    ("w", "v"),
    ("bv", "v"),  # Lefebvre / Lefèvre
    ("y", "i"),
    ("z", "s"),
    ("eau", "o"),
    ("au", "o"),
    ("ou", "u"),
    ("ean", "an"),  # Jean
    ("(?:ain|ein|aim|eim|im)(?![aeiou])", "in"),
    ("(?:an|en|am|em)(?![aeiou])", "an"),  # Laurent / Lorant
    ("om(?![aeiou])", "on"),
    ("(?:ai|ei)", "e"),
    ("e[rz]$", "e"),  # Roger / Rogé
    ("e$", ""),
    ("[dtsxpg]+$", ""),  # silent final consonants: Dupont / Dupond, Renaud / Reno
    ("(.)\\1+", "$1"),
)


def _required_letters(pattern: str) -> str:
    """The letters every match of `pattern` begins with ("ch(?=r)" → "ch", "e$" → "e"; "" when
    none is certain): a word without them is left as it is by that rule, and `in` is far cheaper
    than running the expression."""
    if "|" in pattern:
        return ""  # alternatives: no letters common to all are read here
    letters = re.match("[a-z]*", pattern).group(0)  # type: ignore[union-attr]  # "*" always matches
    if pattern[len(letters) : len(letters) + 1] in ("?", "*", "{"):
        letters = letters[:-1]  # the last letter is optional
    return letters


_PYTHON_RULES = tuple(
    (re.compile(pattern), re.sub(r"\$(\d)", r"\\\1", replacement), _required_letters(pattern))
    for pattern, replacement in FRENCH_PHONETIC_RULES
)


def french_phonetic_key(word: str) -> str:
    """The French phonetic key of one folded word; "" for a word with no sound of its own (de, du).
    Uncached: for words typed at the counter, which no cache may keep (personal data); each rule
    runs only on a word holding the letters its matches begin with (most rules, most words: a third
    of the API's CPU per look-up went to highlighting, half of it here)."""
    key = word
    for pattern, replacement, letters in _PYTHON_RULES:
        if letters in key:
            key = pattern.sub(replacement, key)
    return key


# Cached during an ingest or resolution run, where the same stored names come back again and
# again, and forgotten after it (analyzers.caching: no customer's name kept by a long-lived process).
french_phonetic_word = batch_cached(maxsize=65536)(french_phonetic_key)


def french_phonetic(raw: str) -> list[str]:
    """The French phonetic keys of a name, one per word: "Lefèvre-Dupond" → ["lefevr", "dupon"];
    particles the rules reduce to nothing are left out, as the index's `length` filter does."""
    return [key for key in map(french_phonetic_word, name_tokens(raw)) if key]


def metaphone_keys(raw: str) -> list[str]:
    """jellyfish's metaphone per word, a second opinion for candidate retrieval."""
    return [jellyfish.metaphone(token) for token in name_tokens(raw)]
