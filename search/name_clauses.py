"""The clauses finding customers by the words typed as names (search.customer_query asks them):
every word whole, begun, with a typo (after its first letter, or in its first letters through the
reversed words), an initial, or a word of the customer's town, in the first tier; all words but one
in the second. The bonuses on top of the first tier are search.name_bonuses'."""

from __future__ import annotations

from typing import Any

from analyzers.names import name_tokens
from search.name_bonuses import CURRENT_TOWN_MIN_LENGTH, current_town_bonus, reading_bonuses, town_bonus, whole_name_bonus
from search.name_query import name_query

# How many edits a name word typed may hold (after its first letter), first tier and second.
# The first tier forgives one edit up to 7 letters and two from 8; the second, asked only when the
# first finds no one, two from 6 letters (OpenSearch's AUTO). Two edits on the 6–7-letter words
# typed were about a quarter of the node's CPU per type-ahead search ("dupont", "dupont j"), and
# recall did not move (bench/RESULTS.md, 2026-11-27, session 9: both data sets).
FIRST_TIER_FUZZINESS = "AUTO:4,8"
WIDE_FUZZINESS = "AUTO"


def names_clause(names: str, with_towns: bool, fuzziness: str = FIRST_TIER_FUZZINESS, typo_in_each_word: bool = False) -> dict[str, Any]:
    """The words typed as names; with `with_towns`, a word may also be one of the customer's towns
    ("dupont bordeaux": Dupont living in Bordeaux, as well as anyone called Dupont Bordeaux).

    The first tier: customers matching every word (customer_name_query), scored with the
    whole-name and town bonuses on top of STRICT_TIER; search.customer_query.second_tier() is asked
    when it is thin."""
    strict: dict[str, Any] = {
        "bool": {
            "must": [customer_name_query(names, with_towns, fuzziness, typo_in_each_word)],
            "should": [{"constant_score": {"filter": {"match_all": {}}, "boost": STRICT_TIER}}, *whole_name_bonus(names)],
            "_name": "names",
        }
    }
    if with_towns:
        town = town_bonus(names)
        strict["bool"]["should"].extend(([town] if town else []) + current_town_bonus(names))
    words = name_tokens(names)
    if len(words) >= 2:
        strict["bool"]["should"].extend(reading_bonuses(words))
    return strict


def all_words_but_one_clause(names: str, with_towns: bool) -> dict[str, Any] | None:
    """The second tier, for two words or more: customers matching all words but one (a word
    mistyped beyond what the name views forgive, or a name the customer's records spell otherwise:
    "Guievec Michel" for a record of "Rnichel Guievec"), scored far below the first, rare words
    first. The bonuses stay in the first tier, so nobody matching one common word typed whole
    passes someone matching them all; and this tier is asked only when the first is thin
    (search.lookup): a common name's every bearer is scored here."""
    words = name_tokens(names)
    if len(words) < 2:
        return None
    return {"bool": {"must": [all_words_but_one(words, with_towns)]}}


# The first tier's floor: above anything the second tier scores (whole-word terms, about 1 to 15
# each, times PARTIAL_NAME_BOOST), so every customer matching every word comes first.
STRICT_TIER = 100.0
PARTIAL_NAME_BOOST = 0.1


def all_words_but_one(words: list[str], towns: bool) -> dict[str, Any]:
    """Customers matching all of `words` but one, each word whole — a name word or, with `towns`,
    a word of one of their towns, never only towns —, scored low (PARTIAL_NAME_BOOST), rare words first, and among
    them those whose names look like the other word with a typo on its first letters ("Cophie
    Camanier": Sophie first among the Camaniers). Whole words only decide who matches: this tier
    walks no full term dictionary and brings no look-alikes of a word typed."""
    options = [
        [{"term": {"full_name": word}}, *([{"term": {"towns": {"value": word, "_name": f"city:whole{at}"}}}] if towns else [])]
        for at, word in enumerate(words)
    ]
    matching = {
        "bool": {
            "should": [{"bool": {"should": whole, "minimum_should_match": 1}} for whole in options],
            "minimum_should_match": len(words) - 1,
        }
    }
    look_alikes = [_first_letters_typo(word) for word in words if len(word) >= FIRST_LETTERS_MIN_LENGTH]
    two_edits = [_two_edits(word) for word in words if len(word) >= TWO_EDITS_MIN_LENGTH]
    # Never the town alone: one word at least is one of the customer's names.
    a_name = {"terms": {"full_name": words}}
    return {"bool": {"must": [matching], "filter": [a_name], "should": [*look_alikes, *two_edits], "boost": PARTIAL_NAME_BOOST}}


# The word this tier lets go is most often a name the customer's records spell with two slips
# ("marie" for a record's "Marrei", "Nathalie" for "Nahtalei"): the customers whose names hold a
# word two edits from it (first letter kept; _first_letters_typo covers that one), and not the word
# itself, come before those matching only the other words — a household sharing the family name and
# the town ("marie maronault saint-loches", bench/RESULTS.md session 16: Vincent Maronault before
# Marrei). Scores only; asked only in this tier. Not tuned: from five letters, as two edits on a
# shorter word leave too little of it to point at anyone.
TWO_EDITS_MIN_LENGTH = 5


def _two_edits(word: str) -> dict[str, Any]:
    near = {"fuzzy": {"full_name": {"value": word, "fuzziness": 2, "prefix_length": 1, "transpositions": True}}}
    return {"bool": {"must": [near], "must_not": [{"term": {"full_name": word}}]}}


# A town word typed is forgiven one typo from 4 letters, two from 8 ("Bordeau", "Montpelier"),
# after its first TOWN_PREFIX_LENGTH letters. A town's words are about as many as names' in the
# demo data (its towns are made of names), so this clause on every word typed is likely much of
# what two-word type-ahead searches cost the node more (+40% per search, bench/RESULTS.md,
# 2026-11-27); a longer kept prefix (3) passed the tests but was not measured.
TOWN_FUZZINESS = "AUTO:4,8"
TOWN_PREFIX_LENGTH = 1
TOWN_WORD_SCORE = 0.5


# First-letter typos ("ePrret", "Cabriel"): the typo-tolerant clause keeps the first letter (the
# whole term dictionary would be walked otherwise), so each word is also looked up reversed, with
# all but its first two letters kept: one edit there, transpositions included ("ed" → de, "Kuy" →
# Guy). Every word must still match, so a short word's many neighbours are narrowed by the others.
FIRST_LETTERS_MIN_LENGTH = 2
FIRST_LETTERS_KEPT = 2
WORD_PREFIX_MIN_LENGTH = 3


def customer_name_query(
    names: str, towns: bool = False, fuzziness: str = FIRST_TIER_FUZZINESS, typo_in_each_word: bool = False
) -> dict[str, Any]:
    """The name query over customers: search.name_query's views of a name, and a clause
    taking the words one by one, each a whole name word, one with a typo in its first letters
    (through the reversed words) or, with `towns`, a word of the customer's town — not every word
    the town, or anyone living in Saint-Malo would match "saint malo". A word may be a prefix
    ("Pasca-lRuiz") from WORD_PREFIX_MIN_LENGTH letters: a one-letter prefix matches a tenth of the
    customers, and walking it twice cost the node more than the rest of this clause
    (bench/RESULTS.md, 2026-11-27). With `typo_in_each_word` (the second tier), a word may also
    hold a typo after its first letter while another holds one in its first letters: a letter
    swapped across a hyphen ("PaccotN-guyen" for Paccot-Nguyen) puts one in each part."""
    query = name_query(names, "full_name", fuzziness=fuzziness)
    words = name_tokens(names)
    if len(words) == 1:
        # One word: found whole or by its prefix already, and never the town alone.
        if len(words[0]) >= FIRST_LETTERS_MIN_LENGTH:
            query["bool"]["should"].append(_first_letters_typo(words[0]))
        return query
    if words:
        typo = fuzziness if typo_in_each_word else None
        # Each word's first-letters typo, built once: the word's own clause and the guard ask it both.
        look_alikes = {word: _first_letters_typo(word) for word in words if len(word) >= FIRST_LETTERS_MIN_LENGTH}
        word_by_word: dict[str, Any] = {
            "bool": {
                "must": [
                    _name_or_town_word(word, towns, typo, look_alikes.get(word), _beside(words, at), f"city:word{at}")
                    for at, word in enumerate(words)
                ],
                "filter": [_one_name_spelled_out(words, typo, look_alikes)],
            }
        }
        if towns:
            word_by_word["bool"]["must_not"] = [{"match": {"towns": {"query": names, "operator": "and"}}}]
        query["bool"]["should"].append(word_by_word)
    return query


def _beside(words: list[str], at: int) -> tuple[str, ...]:
    """For a word shorter than CURRENT_TOWN_MIN_LENGTH, the word with the one typed before it and
    with the one after it: the only ways it may be read as part of a town (_name_or_town_word)."""
    if len(words[at]) >= CURRENT_TOWN_MIN_LENGTH:
        return ()
    return tuple(" ".join(words[i : i + 2]) for i in (at - 1, at) if i >= 0 and i + 1 < len(words))


def _name_or_town_word(
    word: str,
    towns: bool,
    typo: str | None = None,
    look_alike: dict[str, Any] | None = None,
    beside: tuple[str, ...] = (),
    town_name: str = "city",
) -> dict[str, Any]:
    """One word typed: whole, begun, with a typo (`look_alike`: in its first letters, of
    FIRST_LETTERS_MIN_LENGTH letters or more; `typo`: after them), its initial, or a town's word —
    for a word shorter than CURRENT_TOWN_MIN_LENGTH, only typed beside the town word it stands
    with in the town (`beside`: "la rochelle", "de re"), never alone: a town's article or particle
    (La, Le, de, en) typed alone is a given name begun ("vaua la": Laura Vauain), and read as a town
    word it found Rémi Vaua of La Pont-d'Arc, every Moal of La Forêt-Fouesnant for "la moal".
    The town clause is named `town_name` (a "city" kind, search.access.matched_kind): a town read
    with a typo confirms it as much as one typed right (search.access.matched_through_hidden)."""
    options: list[dict[str, Any]] = [{"term": {"full_name": word}}]
    if len(word) >= WORD_PREFIX_MIN_LENGTH:
        options.append({"term": {"full_name.prefix": word}})
    if typo:
        options.append({"fuzzy": {"full_name": {"value": word, "fuzziness": typo, "prefix_length": 1}}})
    if look_alike:
        options.extend((look_alike, _initial_of(word)))
    if towns:
        # Constant and low: a town word decides who matches, town_bonus how much it counts (a rare
        # town's weight would otherwise pass the name a typo was meant for).
        town: dict[str, Any] | None = {
            "fuzzy": {"towns": {"value": word, "fuzziness": TOWN_FUZZINESS, "prefix_length": TOWN_PREFIX_LENGTH}}
        }
        if len(word) < CURRENT_TOWN_MIN_LENGTH:
            phrases = [{"match_phrase": {"towns": phrase}} for phrase in beside]
            town = {"bool": {"should": phrases, "minimum_should_match": 1}} if phrases else None
        if town:
            options.append({"constant_score": {"filter": town, "boost": TOWN_WORD_SCORE, "_name": town_name}})
    # The best reading of the word counts, not their sum: a word matching whole, as a prefix and
    # reversed would otherwise outweigh the name a typo was meant for (bench/RESULTS.md, 2026-11-27).
    return {"dis_max": {"queries": options}}


# A name typed whole ("Julien Garouès") where the customer's records hold only its initial ("J.
# Garouès"): loyalty forms with an initial field, legacy files and call-center notes write given
# names that way, and every other word typed must still match. Without this, the first tier found
# the namesakes spelled out and never the initial's bearer (the second tier is asked only when no
# customer found holds every word): on the independent corruption model, 3 of the 13 "sounds alike"
# look-ups not finding their person in the first ten, and 2 of the shop's namesakes (bench/RESULTS.md,
# 2026-11-27, session 14). Constant and low, the town word's (TOWN_WORD_SCORE), not tuned: an
# initial fits many names, and any score below a name word's keeps the customers holding the name
# spelled out first; the benchmark was not run with another value.
INITIAL_WORD_SCORE = 0.5


def _one_name_spelled_out(words: list[str], typo: str | None, look_alikes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One word typed at least is a name word of the customer's, whole, begun, with a typo in its
    first letters or (`typo`, the second tier) after them — as _name_or_town_word reads it, but
    for its initial and its town: never every word an initial or a town word ("Laurence Mercier" is
    not "M.-L. Taronier", "julien paris" not every J. living in Paris)."""
    options: list[dict[str, Any]] = [{"terms": {"full_name": words}}]
    if begun := [word for word in words if len(word) >= WORD_PREFIX_MIN_LENGTH]:
        options.append({"terms": {"full_name.prefix": begun}})
    options.extend(look_alikes[word] for word in words if word in look_alikes)
    if typo:
        options.extend({"fuzzy": {"full_name": {"value": word, "fuzziness": typo, "prefix_length": 1}}} for word in words)
    return {"bool": {"should": options, "minimum_should_match": 1}}


def _initial_of(word: str) -> dict[str, Any]:
    """A name word that is the typed word's initial (a one-letter word of the customer's names)."""
    return {"constant_score": {"filter": {"term": {"full_name": word[0]}}, "boost": INITIAL_WORD_SCORE}}


def _first_letters_typo(word: str) -> dict[str, Any]:
    """The word with one edit in its first two letters: its reversed form, all but those kept."""
    reversed_word = {"value": word[::-1], "fuzziness": 1, "prefix_length": max(0, len(word) - FIRST_LETTERS_KEPT), "transpositions": True}
    return {"fuzzy": {"full_name.reversed": reversed_word}}
