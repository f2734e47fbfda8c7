"""The query over golden customers for what the counter typed, restricted to what the caller may
search and verify (search.access.FieldAccess): the look-up plan — names (search.name_clauses) in two
tiers (every word, then all words but one), exact values searched or only verified, an e-mail with a
typo, and what search.ranking adds (a birth date, the agent's shop).

Nothing the user typed reaches a query-string parser: every value goes into a term, prefix, fuzzy
or match clause."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from analyzers.names import name_tokens
from analyzers.phones import same_line_forms
from search.access import ACCESS_KIND, CUSTOMER_PATHS, FieldAccess
from search.name_clauses import WIDE_FUZZINESS, all_words_but_one_clause, names_clause
from search.query_parser import ParsedQuery
from search.ranking import birth_date_check, birth_date_ranking, shop_preference


@dataclass(frozen=True)
class IgnoredPart:
    """A part of the query left out, with why: the caller's role may neither search nor verify
    it ("not_allowed"), or may only verify it and nothing else typed is searched ("verify_only")."""

    kind: str
    code: Literal["not_allowed", "verify_only"]
    reason: str

    @classmethod
    def not_allowed(cls, kind: str) -> IgnoredPart:
        return cls(kind, "not_allowed", f"your role may neither search nor verify {KIND_NAMES[kind]}")

    @classmethod
    def verify_only(cls, kind: str) -> IgnoredPart:
        return cls(kind, "verify_only", f"{KIND_NAMES[kind]} only confirm a customer found by what your role searches (a name)")


@dataclass
class LookupPlan:
    """The query over customers (None when nothing typed may be searched), what was left out, and
    the second tier's query (`fallback`: names with more typos forgiven, or matching all words
    typed but one; an e-mail with a typo), asked only when the first query finds no one or only
    look-alikes (search.lookup.fallback_needed)."""

    query: dict[str, Any] | None
    ignored: list[IgnoredPart] = field(default_factory=list)
    # Builds `fallback`: most look-ups never ask the second tier, and building it cost CPU per look-up.
    second_tier: Callable[[], dict[str, Any]] | None = None
    # The name words typed, folded, when the caller reads the customers' names: the second tier is
    # also asked when no customer the first found holds them all (search.lookup.fallback_needed).
    name_words: tuple[str, ...] = ()
    # The exact kinds the query searches or verifies: a marketing caller finds only customers whose
    # contact point of those kinds it may see (FieldAccess.consent_filter; a town typed among the
    # names is a named match, search.access.matched_through_hidden).
    kinds: frozenset[str] = frozenset()

    @cached_property
    def fallback(self) -> dict[str, Any] | None:
        return self.second_tier() if self.second_tier else None


# What each kind is called in a reason (the API speaks English; the counter page says it in French).
KIND_NAMES = {
    "names": "names",
    "phone": "phone numbers",
    "email": "e-mail addresses",
    "card": "loyalty cards",
    "postcode": "postcodes",
    "departement": "départements",
    "birth_date": "birth dates",
}
IDENTIFIERS = ("email", "phone", "card")


def plan_lookup(parsed: ParsedQuery, access: FieldAccess, shop: str | None = None) -> LookupPlan:
    """The query over customers for what the counter typed, restricted to the caller's access:
    parts the role searches score, parts it may only verify filter (no name, so nothing says
    which part matched), and the other parts are left out and named in `ignored`. A birth date
    typed beside names ranks for a role that searches birth dates. With `shop`, that shop's
    cardholders, and most its recent visitors, rank first among namesakes."""
    typed = _typed_values(parsed)
    ignored: list[IgnoredPart] = []
    searched: list[dict[str, Any]] = []
    verified: list[dict[str, Any]] = []
    ranked: list[dict[str, Any]] = []
    alone = not parsed.names and any(kind in typed for kind in IDENTIFIERS)
    names_searched = bool(parsed.names) and access.can_search("names")
    towns = access.can_search("city")
    used = {kind for kind in typed if access.can_search(kind) or access.can_verify(kind)}
    for kind, value in typed.items():
        if access.can_search(kind) and kind == "birth_date" and names_searched:
            ranked.extend(birth_date_ranking(value))
        elif access.can_search(kind):
            searched.append(_exact(kind, value, named=True))
        elif access.can_verify(kind):
            verified.append(birth_date_check(value) if kind == "birth_date" else _exact(kind, value, named=False))
        else:
            ignored.append(IgnoredPart.not_allowed(kind))
    if alone:
        # A bare number may be a phone or a card: either one found is the customer.
        must = [{"bool": {"should": searched, "minimum_should_match": 1}}] if searched else []
    else:
        must = searched
        if names_searched:
            must.insert(0, names_clause(parsed.names, with_towns=towns))
        elif parsed.names:
            ignored.insert(0, IgnoredPart.not_allowed("names"))
    if not must:
        ignored.extend(IgnoredPart.verify_only(kind) for kind in typed if access.can_verify(kind) and not access.can_search(kind))
        return LookupPlan(None, ignored)
    should = [*ranked, *(shop_preference(shop) if shop else [])]
    if alone and "email" in typed and access.can_search("email"):
        mistyped = {"bool": {"should": [*searched, email_typo(typed["email"])], "minimum_should_match": 1}}
        return LookupPlan(
            _customers_query(must, verified, should), ignored, lambda: _customers_query([mistyped], verified, should), kinds=frozenset(used)
        )
    fallback = (lambda: _customers_query([second_tier(parsed.names, towns), *must[1:]], verified, should)) if names_searched else None
    words = tuple(name_tokens(parsed.names)) if fallback and all(access.reads_unmasked(path) for path in LOOK_ALIKE_NAMES) else ()
    return LookupPlan(_customers_query(must, verified, should), ignored, fallback, words, frozenset(used))


# The names a customer found must hold every word typed in (whole or begun) for the first tier to
# count as having found the name typed; a role reading neither never triggers the second tier that way.
LOOK_ALIKE_NAMES = ("given_name", "family_name")


def second_tier(names: str, with_towns: bool) -> dict[str, Any]:
    """What is asked when the first tier finds no one or only look-alikes: every word again with
    the wider typo allowance (WIDE_FUZZINESS, with the first tier's bonuses; each word may hold its
    own typo), and, for two words or more, the customers matching all words but one, scored far below."""
    wide = names_clause(names, with_towns, fuzziness=WIDE_FUZZINESS, typo_in_each_word=True)
    partial = all_words_but_one_clause(names, with_towns)
    # One name for the tier, not one per clause: OpenSearch keeps a single query per name, the
    # last one, so a customer found by the wide clause alone ("T. Guillerm" for "Thérèse
    # Guillerrm": her initial and the family name's typos) was answered with `matched: []`.
    del wide["bool"]["_name"]
    return {"bool": {"should": [wide, *([partial] if partial else [])], "minimum_should_match": 1, "_name": "names"}}


# An e-mail typed alone that no customer holds is looked up again with one edit (a letter missed,
# doubled, changed, or two swapped: "celineb.esoneau@", "gmial.com", "cleine_…"), anywhere in it:
# with its first two letters kept, 85% of the misses on the corruption model were typos there
# (bench/search_quality, "e-mail with a typo", 2026-11-27). Walking every e-mail's first letters
# costs more, but this query is asked only when the exact e-mail found no one. Searching roles
# only: a role that may only verify an e-mail gets the exact check, never a neighbourhood.
EMAIL_TYPO_PREFIX = 0


def email_typo(email: str) -> dict[str, Any]:
    """The e-mails one edit away from the one typed, named as an e-mail match."""
    body = {"value": email, "fuzziness": 1, "prefix_length": EMAIL_TYPO_PREFIX, "transpositions": True, "_name": "email"}
    return {"fuzzy": {SEARCH_PATHS["email"]: body}}


def _customers_query(must: list[dict[str, Any]], verified: list[dict[str, Any]], should: list[dict[str, Any]]) -> dict[str, Any]:
    query: dict[str, Any] = {"bool": {"must": must}}
    if verified:
        query["bool"]["filter"] = verified
    if should:
        query["bool"]["should"] = should
    return query


def customer_query(parsed: ParsedQuery, access: FieldAccess, shop: str | None = None) -> dict[str, Any] | None:
    """plan_lookup()'s query alone: None when the caller may not search through what was typed."""
    return plan_lookup(parsed, access, shop).query


def _typed_values(parsed: ParsedQuery) -> dict[str, str]:
    """Every exact-valued part typed, kind → value, départements included."""
    typed = parsed.exact_values()
    if parsed.departement:
        typed["departement"] = parsed.departement
    return typed


# Where a kind typed alone is looked up when not in its golden field: a birth date in every date
# the customer's records hold.
SEARCH_PATHS = {**CUSTOMER_PATHS, "birth_date": "birth_dates"}


def _exact(kind: str, value: str, named: bool) -> dict[str, Any]:
    """A term (a prefix for a département, the same line's forms for a phone) on the kind's field;
    named clauses say they matched."""
    body: dict[str, Any] = {"value": value}
    if named:
        body["_name"] = ACCESS_KIND.get(kind, kind)
    if kind == "departement":
        return {"prefix": {SEARCH_PATHS["postcode"]: body}}
    if kind == "phone":
        # Exact still (a verifying role's check too): one line, every country code France's plan writes it under.
        forms: dict[str, Any] = {SEARCH_PATHS["phone"]: same_line_forms(value)}
        if named:
            forms["_name"] = body["_name"]
        return {"terms": forms}
    return {"term": {SEARCH_PATHS[kind]: body}}
