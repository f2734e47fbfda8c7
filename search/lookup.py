"""The counter's look-up over golden customers: one box, the kind of query detected, restricted to
what the caller may read and search (search.access.FieldAccess); the query itself is built by
search.customer_query."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import AsyncOpenSearch

from analyzers.names import name_tokens
from search.access import FieldAccess, matched_kind, matched_through_hidden, shown, shown_highlights
from search.customer_query import IgnoredPart, LookupPlan, plan_lookup
from search.highlights import NAME_FIELDS, NAME_WORDS, LookupHighlighter
from search.indices import IndexNames
from search.query_parser import ParsedQuery
from search.resolve.possible_store import relations_query

HIGHLIGHTED_NAMES = frozenset(NAME_FIELDS)


@dataclass
class CustomerHit:
    customer: dict[str, Any]
    score: float
    matched: list[str]
    highlights: dict[str, list[str]]


@dataclass
class LookupResult:
    hits: list[CustomerHit]
    ignored: list[IgnoredPart]


async def search_customers(
    client: AsyncOpenSearch, indices: IndexNames, parsed: ParsedQuery, access: FieldAccess, limit: int = 10, shop: str | None = None
) -> LookupResult:
    """Golden customers matching what the counter typed (parse_query), best first, and the parts
    of the query the caller's role could not use."""
    plan = plan_lookup(parsed, access, shop)
    if plan.query is None:
        return LookupResult([], plan.ignored)
    found = (await client.search(index=indices.customers, body=search_body(plan.query, access, limit, plan.kinds)))["hits"]["hits"]
    if fallback_needed(plan, found, limit):
        assert plan.fallback is not None
        second = (await client.search(index=indices.customers, body=search_body(plan.fallback, access, limit, plan.kinds)))["hits"]["hits"]
        found = after_first_tier(found, second, limit)
    # Only what the role searches is highlighted: a verified value never says it matched.
    typed = {kind: value for kind, value in parsed.exact_values().items() if access.can_search(kind)}
    highlighter = LookupHighlighter(parsed.names, typed, access.highlight_fields)
    hits = [
        CustomerHit(
            # Highlights before masks: they only ever cover fields the caller reads unmasked.
            highlights=shown_highlights(
                highlighter.highlight(hit["_source"], hit["_source"].pop(NAME_WORDS, None)), access, hit["_source"]
            ),
            customer=shown(hit["_source"], access),
            score=hit["_score"] or 0.0,
            matched=sorted({matched_kind(name) for name in hit.get("matched_queries", ())}),
        )
        for hit in found
        if not matched_through_hidden(hit.get("matched_queries", ()), access, hit["_source"])
    ]
    return LookupResult(hits, plan.ignored)


def search_body(query: dict[str, Any], access: FieldAccess, limit: int, kinds: Iterable[str] = ()) -> dict[str, Any]:
    """The search request for a look-up query: the caller's fields of each customer's current
    values (no provenance, no past addresses: the 360 view has them), no total count; for
    marketing, restricted customers and those whose contact point of a kind searched (`kinds`) it
    may not see left out."""
    if access.marketing:
        query = {"bool": {"must": [query], "filter": access.consent_filter(kinds)}}
    source = access.summary_source()
    if not HIGHLIGHTED_NAMES.isdisjoint(access.highlight_fields):
        source = [*source, NAME_WORDS]  # what the highlights read of the names (search.highlights), never shown
    return {"query": query, "size": limit, "_source": {"includes": source}, "track_total_hits": False}


def fallback_needed(plan: LookupPlan, first_tier: list[dict[str, Any]], limit: int = 10) -> bool:
    """Whether the second tier is asked: when the first found no one, or fewer than `limit`
    customers all of them look-alikes — none holding every name word typed, whole or begun ("Jean
    Lararet" finding only Jean Lararot, one typo away, when the person's records spell it with two).
    Half the type-ahead searches find fewer than ten customers (bench.search's queries, 100k demo):
    asking the second tier to fill those cost the node more CPU than one query over both tiers did,
    and it found no one more (bench/RESULTS.md, 2026-11-27, session 9); a type-ahead prefix finds
    customers holding it, so it rarely asks twice."""
    if plan.second_tier is None:
        return False
    if not first_tier:
        return True
    return (
        bool(plan.name_words)
        and len(first_tier) < limit
        and not any(holds_every_word(hit["_source"], plan.name_words) for hit in first_tier)
    )


def after_first_tier(first_tier: list[dict[str, Any]], second_tier: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first tier's customers, then the second's others, `limit` in all: the second tier forgives
    more typos, so it would rank a look-up's one-typo look-alikes and its two-typo person as equals,
    while the first tier's customers are the closer to what was typed."""
    seen = {hit["_id"] for hit in first_tier}
    return [*first_tier, *(hit for hit in second_tier if hit["_id"] not in seen)][:limit]


# Where a customer holds a word typed: its names, and its town (a town may be typed with the names).
WORD_FIELDS = ("given_name", "family_name", "birth_name", "name_variants", "city")


def holds_every_word(customer: dict[str, Any], words: tuple[str, ...]) -> bool:
    """Whether each of `words` (folded) begins a word of the customer's names or town."""
    held = [token for field in WORD_FIELDS for value in _strings(customer.get(field)) for token in name_tokens(value)]
    return all(any(token.startswith(word) for token in held) for word in words)


def _strings(stored: Any) -> list[str]:
    items = stored if isinstance(stored, list) else [stored]
    return [item for item in items if isinstance(item, str)]


async def customer_by_card(client: AsyncOpenSearch, indices: IndexNames, card: str, access: FieldAccess) -> dict[str, Any] | None:
    """The golden customer holding a loyalty card (already normalized), or None."""
    query = {"bool": {"filter": [{"term": {"loyalty_cards.card": card}}, *access.consent_filter()]}}
    body = {"query": query, "size": 1, "_source": {"includes": access.customer_source()}}
    hits = (await client.search(index=indices.customers, body=body))["hits"]["hits"]
    return shown(hits[0]["_source"], access) if hits else None


@dataclass
class PossiblySame:
    """Another customer that may be the same person (search.resolve.possible), as the caller may see it."""

    customer: dict[str, Any]  # its id, sources and names
    probability: float
    kind: str
    rule: str | None
    reason: str


@dataclass
class Customer360:
    customer: dict[str, Any]
    records: list[dict[str, Any]]
    household: list[dict[str, Any]]
    possibly_same: list[PossiblySame] = field(default_factory=list)
    beside: Any = None  # what customer_360's `beside` read


async def customer_360(
    client: AsyncOpenSearch,
    indices: IndexNames,
    customer_id: str,
    access: FieldAccess,
    beside: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
) -> Customer360 | None:
    """A golden customer with its source records and the other customers of its household;
    `beside`, given the customer as stored, reads more at the same time (its interactions)."""
    response = await client.get(
        index=indices.customers, id=customer_id, _source_includes=",".join([*access.customer_source(), "household_key"]), ignore=[404]
    )
    if not response.get("found") or (access.marketing and response["_source"].get("restricted")):
        return None
    customer = response["_source"]
    household_key = customer.pop("household_key", None)
    # The records, the household and the possible matches only need the customer: read at once.
    records, household, possibly_same, more = await asyncio.gather(
        _records_of(client, indices, customer, access),
        _household_of(client, indices, customer_id, household_key, access),
        possibly_same_customers(client, indices, customer_id, access),
        beside(customer) if beside else asyncio.sleep(0),
    )
    return Customer360(shown(customer, access), records, household, possibly_same, more)


async def _records_of(client: AsyncOpenSearch, indices: IndexNames, customer: dict[str, Any], access: FieldAccess) -> list[dict[str, Any]]:
    # One search of their ids, not a multi-get: OpenSearch compiles a multi-get's source filter
    # again for every document (≈ 1.5 ms of the node's CPU per record for the counter's fields on
    # the resolved demo set, bench/RESULTS.md session 14), a search once; and the search goes in
    # the view's msearch. Records are written refreshed (push, ingest), so a search sees them.
    ids = list(customer.get("records") or [])
    if not ids:
        return []
    body = {
        "query": {"ids": {"values": ids}},
        "size": len(ids),
        "_source": {"includes": list(access.record_source())},
        "track_total_hits": False,
    }
    records_response = await client.search(index=indices.records, body=body)
    records = [shown(hit["_source"], access, customer) for hit in records_response["hits"]["hits"]]
    records.sort(key=lambda r: r.get("updated_at") or "", reverse=True)
    return records


async def _household_of(
    client: AsyncOpenSearch, indices: IndexNames, customer_id: str, household_key: str | None, access: FieldAccess
) -> list[dict[str, Any]]:
    if not household_key:
        return []
    others = await client.search(
        index=indices.customers,
        body={
            "query": {
                "bool": {
                    "filter": [{"term": {"household_key": household_key}}, *access.consent_filter()],
                    "must_not": [{"ids": {"values": [customer_id]}}],
                }
            },
            "size": 20,
            "_source": {"includes": access.summary_source()},
        },
    )
    return [shown(hit["_source"], access) for hit in others["hits"]["hits"]]


# Names are what a possible match is judged on: a role that does not read them is not shown any.
POSSIBLY_SAME_NAMES = ("given_name", "family_name")
POSSIBLY_SAME_SHOWN = 20


async def possibly_same_customers(
    client: AsyncOpenSearch, indices: IndexNames, customer_id: str, access: FieldAccess
) -> list[PossiblySame]:
    """The customers stored as possibly the same person as this one, most probable first, for a
    caller reading names unmasked; nobody otherwise."""
    if not all(access.reads_unmasked(path) for path in POSSIBLY_SAME_NAMES):
        return []
    body = relations_query(customer_id, POSSIBLY_SAME_SHOWN)
    response = await client.search(index=indices.possible_matches, body=body, ignore_unavailable=True)
    relations = [hit["_source"] for hit in response["hits"]["hits"]]
    others = [next((c for c in r["customer_ids"] if c != customer_id), customer_id) for r in relations]
    if not others:
        return []
    response = await client.mget(
        index=indices.customers,
        body={"ids": others},
        _source_includes=",".join(["customer_id", "sources", "restricted", *POSSIBLY_SAME_NAMES]),
    )
    # A customer who asked for restriction is on no marketing route, beside another one included.
    found = {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}
    hidden = {other for other, customer in found.items() if customer.pop("restricted", False) and access.marketing}
    return [
        PossiblySame(found[other], relation["probability"], relation["kind"], relation.get("rule"), relation["reason"])
        for relation, other in zip(relations, others, strict=True)
        if other in found and other not in hidden
    ]
