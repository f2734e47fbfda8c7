"""What matched, <mark>ed, in the fields a caller may read unmasked.

Computed from the customer's fields as OpenSearch returned them — only what the role may read is
fetched — rather than by the node's highlighter: re-running the type-ahead prefixes and the
typo-tolerant clauses over four name fields for every hit cost the node more than finding the
customers. A name word is marked when a typed word starts it (type-ahead), sounds like it, or is
the typo the search forgives (OpenSearch's AUTO fuzziness, first letter kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import jellyfish

from analyzers.names import fold_name
from analyzers.phonetic import french_phonetic_word
from search.access import CUSTOMER_PATHS

NAME_FIELDS = ("given_name", "family_name", "birth_name", "name_variants")
MAX_FRAGMENTS = 3
PRE, POST = "<mark>", "</mark>"
_WORD = re.compile(r"[^\s\-]+")  # hyphens part compound names: Jean-<mark>Pierre</mark>


def highlight_customer(customer: dict[str, Any], names: str, exact_values: dict[str, str], fields: Iterable[str]) -> dict[str, list[str]]:
    """Fragments per field path, in the field set `fields` (the caller's unmasked ones): the
    name fields' values with the words `names` found marked, and the exact values typed
    (`kind → value` as indexed: ParsedQuery.exact_values) that the customer holds, whole."""
    allowed = set(fields)
    typed = _typed_words(names) if names else ()
    marked: dict[str, list[str]] = {}
    if typed:
        for field in NAME_FIELDS:
            if field in allowed:
                fragments = [fragment for value in _values(customer.get(field)) if (fragment := _mark_value(value, typed))]
                if fragments:
                    marked[field] = fragments[:MAX_FRAGMENTS]
    for kind, value in exact_values.items():
        path = CUSTOMER_PATHS[kind]
        container, _, key = path.partition(".")  # loyalty_cards.card: the card of each loyalty card
        if path in allowed and value in _values(customer.get(container), key):
            marked[path] = [f"{PRE}{value}{POST}"]
    return marked


def _values(stored: Any, key: str = "") -> list[str]:
    items = stored if isinstance(stored, list) else [stored]
    if key:
        items = [item.get(key) for item in items if isinstance(item, dict)]
    return [item for item in items if isinstance(item, str) and item]


# Cached, as _found_by below: a customer's name variants repeat its names, and type-ahead asks
# again about the same names with each keystroke.
@lru_cache(maxsize=1 << 14)
def _mark_value(value: str, typed: tuple[str, ...]) -> str | None:
    pieces: list[str] = []
    last = 0
    for word in _WORD.finditer(value):
        if _word_matches(word.group(0), typed):
            pieces += [value[last : word.start()], PRE, word.group(0), POST]
            last = word.end()
    if not pieces:
        return None
    return "".join(pieces) + value[last:]


def _word_matches(word: str, typed: tuple[str, ...]) -> bool:
    for folded in _folded_words(word):
        for query in typed:
            if _found_by(folded, query):
                return True
    return False


@lru_cache(maxsize=1 << 10)
def _typed_words(names: str) -> tuple[str, ...]:
    """The words typed, folded: asked again for each of a look-up's hits."""
    return tuple(fold_name(names).split())


@lru_cache(maxsize=1 << 16)
def _folded_words(word: str) -> list[str]:
    return fold_name(word).split()


@lru_cache(maxsize=1 << 16)
def _found_by(word: str, query: str) -> bool:
    if word.startswith(query):
        return True
    if len(query) < 3:
        return False
    sound = french_phonetic_word(query)
    if sound and sound == french_phonetic_word(word):
        return True
    return word[0] == query[0] and jellyfish.damerau_levenshtein_distance(word, query) <= (1 if len(query) <= 5 else 2)
