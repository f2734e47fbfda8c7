"""What matched, <mark>ed, in the fields a caller may read unmasked.

Computed from the customer's fields as OpenSearch returned them — only what the role may read is
fetched — rather than by the node's highlighter: re-running the type-ahead prefixes and the
typo-tolerant clauses over four name fields for every hit cost the node more than finding the
customers. A name word is marked when a typed word starts it (type-ahead), sounds like it, or is
the typo the search forgives (OpenSearch's AUTO fuzziness, first letter kept).

What a customer's name words fold to and sound like is computed once, when the customer is written
(`name_word_keys`, stored in the customers index's `name_words`, kept in _source only), and read
back here with the hit: recomputed for every shown customer of every look-up, the French phonetic
keys and foldings were a sixth of the API's CPU per look-up (bench/RESULTS.md, session 17, s17-push).
A customer written before that field existed, or a word it does not hold (a rectified name), has
its words folded and sounded here, per look-up, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jellyfish

from analyzers.caching import batch_cached
from analyzers.names import name_tokens
from analyzers.phones import same_line_forms
from analyzers.phonetic import french_phonetic_key
from search.access import CUSTOMER_PATHS

NAME_FIELDS = ("given_name", "family_name", "birth_name", "name_variants")
NAME_WORDS = "name_words"  # the customers index's stored-only field: "word folded sound[ folded sound…]" per name word
MAX_FRAGMENTS = 3
PRE, POST = "<mark>", "</mark>"
_WORD = re.compile(r"[^\s\-]+")  # hyphens part compound names: Jean-<mark>Pierre</mark>


def highlight_customer(customer: dict[str, Any], names: str, exact_values: dict[str, str], fields: Iterable[str]) -> dict[str, list[str]]:
    """Fragments per field path, in the field set `fields` (the caller's unmasked ones): the
    name fields' values with the words `names` found marked, and the exact values typed
    (`kind → value` as indexed: ParsedQuery.exact_values) that the customer holds, whole."""
    return LookupHighlighter(names, exact_values, fields).highlight(customer, customer.get(NAME_WORDS))


def name_word_keys(customer: dict[str, Any]) -> list[str]:
    """What a customer document stores for its highlights (NAME_WORDS): for each word of its name
    fields (split as the highlighter splits them), one string "word folded sound", a pair for each
    folded token the word holds (its French phonetic key may be empty: "de"). Neither part holds a
    space (words are split on spaces). One flat string per word, not an object keyed by word: the
    node filters and writes an object's keys one by one, which cost it more CPU per look-up than
    the sounds cost the API (bench/RESULTS.md, session 18, s18-apicpu). Written by rcu only
    (search.resolve.store.customer_document, a rectification)."""
    words = dict.fromkeys(word for field in NAME_FIELDS for value in _values(customer.get(field)) for word in _WORD.findall(value))
    return [_word_keys(word) for word in words]


# Cached while a resolution run builds its customers (analyzers.caching: forgotten after the run);
# computed each time in the API (a real-time push's customer).
@batch_cached(maxsize=1 << 16)
def _word_keys(word: str) -> str:
    return " ".join([word, *(part for folded in name_tokens(word) for part in (folded, french_phonetic_key(folded)))])


class LookupHighlighter:
    """highlight_customer() for every customer one look-up found: the typed words' sounds are
    computed once, and each name word's verdict and each value's marks once for all the customers
    (namesakes share their names). Lives as long as the look-up: nothing typed outlives it."""

    def __init__(self, names: str, exact_values: dict[str, str], fields: Iterable[str]) -> None:
        self.allowed = set(fields)
        self.name_fields = [field for field in NAME_FIELDS if field in self.allowed]
        self.typed = _typed_words(names) if names else ()
        self.exact_values = exact_values
        self.seen: dict[str, bool] = {}
        self.values: dict[str, str | None] = {}  # a value's marked form (None: no word found)

    def highlight(self, customer: dict[str, Any], stored: Any = None) -> dict[str, list[str]]:
        """Fragments per field path of one customer (highlight_customer); `stored`: its NAME_WORDS
        as read from the index (None for a customer written before them)."""
        marked: dict[str, list[str]] = {}
        if self.typed:
            keys = stored if isinstance(stored, list) else []
            for field in self.name_fields:
                value = customer.get(field)
                if value and (fragments := self._marked_values([value] if isinstance(value, str) else _values(value), keys)):
                    marked[field] = fragments
        for kind, value in self.exact_values.items():
            path = CUSTOMER_PATHS[kind]
            container, _, key = path.partition(".")  # loyalty_cards.card: the card of each loyalty card
            if path not in self.allowed:
                continue
            # A phone is looked up under every country code of France's numbering plan
            # (search.customer_query._exact): the form the customer holds is the one marked.
            forms = same_line_forms(value) if kind == "phone" else (value,)
            if held := [stored for stored in _values(customer.get(container), key) if stored in forms]:
                marked[path] = [f"{PRE}{held[0]}{POST}"]
        return marked

    def _marked_values(self, values: list[str], keys: list[Any]) -> list[str]:
        """The first MAX_FRAGMENTS values with a word found, marked (the values after them are not read)."""
        fragments: list[str] = []
        for value in values:
            if value not in self.values:
                self.values[value] = _mark_value(value, self.typed, self.seen, keys)
            if fragment := self.values[value]:
                fragments.append(fragment)
                if len(fragments) == MAX_FRAGMENTS:
                    break
        return fragments


def _values(stored: Any, key: str = "") -> list[str]:
    items = stored if isinstance(stored, list) else [stored]
    if key:
        items = [item.get(key) for item in items if isinstance(item, dict)]
    return [item for item in items if isinstance(item, str) and item]


# Nothing here outlives a call: what was typed is personal data, and a cache keyed by it (or by
# the customers' names it found) would keep it in the API's memory after the look-up, and after
# an erasure. Folding and sounds go through the analyzers' uncached functions for the same reason;
# the typed words' sounds are computed once per look-up and a name word's verdict once per look-up
# (LookupHighlighter: namesakes and name variants repeat names) instead.
@dataclass(frozen=True)
class _Typed:
    word: str
    sound: str


def _mark_value(value: str, typed: tuple[_Typed, ...], seen: dict[str, bool], keys: list[Any]) -> str | None:
    pieces: list[str] = []
    last = 0
    for match in _WORD.finditer(value):
        word = match.group(0)
        found = seen.get(word)  # a name word's verdict once per look-up (inlined: the hottest loop of a highlight)
        if found is None:
            found = seen[word] = _word_found(word, typed, keys)
        if found:
            pieces += [value[last : match.start()], PRE, word, POST]
            last = match.end()
    if not pieces:
        return None
    return "".join(pieces) + value[last:]


def _word_found(word: str, typed: tuple[_Typed, ...], keys: list[Any]) -> bool:
    prefix = word + " "
    stored = next((entry for entry in keys if isinstance(entry, str) and entry.startswith(prefix)), None)
    if stored is not None:
        parts = stored.split(" ")
        return any(_found_by(folded, typed, sound) for folded, sound in zip(parts[1::2], parts[2::2], strict=False))
    # Written before NAME_WORDS, or a word it does not hold: folded and sounded now.
    return any(_found_by(folded, typed) for folded in name_tokens(word))


def _typed_words(names: str) -> tuple[_Typed, ...]:
    """The words typed, folded, with their sounds (once per call)."""
    return tuple(_Typed(word, french_phonetic_key(word) if len(word) >= 3 else "") for word in name_tokens(names))


def _found_by(word: str, typed: tuple[_Typed, ...], sound: str | None = None) -> bool:
    """Whether a typed word finds the folded name `word` (its sound when known, else computed if needed)."""
    for query in typed:
        if word.startswith(query.word):
            return True
        if len(query.word) < 3:
            continue
        # The typo first: a distance is far cheaper than a word's sound, computed only when needed.
        distance = 1 if len(query.word) <= 5 else 2
        if word[0] == query.word[0] and jellyfish.damerau_levenshtein_distance(word, query.word) <= distance:
            return True
        if query.sound:
            sound = french_phonetic_key(word) if sound is None else sound
            if sound == query.sound:
                return True
    return False
