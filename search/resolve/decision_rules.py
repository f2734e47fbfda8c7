"""Reading the stewards' decisions as rules for a resolution run (search.resolve.constraints).

The decisions index is written by search.steward; resolution only reads it: every active decision
for a full run, the decisions naming any record of the neighbourhood for an incremental or
real-time one. Decisions are written with a refresh, so a search sees each one as soon as it is
answered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
from search.resolve.constraints import CompiledRules, DecisionRule, compile_rules

ACTIVE = {"term": {"status": "active"}}
RULE_FIELDS = ["decision_id", "at", "together", "apart"]
# Decisions naming a neighbourhood's records: a handful; past this, a scroll.
NEIGHBOURHOOD_DECISIONS = 1000


def rule_of(document: dict[str, Any]) -> DecisionRule:
    return DecisionRule(
        document["decision_id"],
        document["at"],
        tuple(tuple(group) for group in document.get("together") or ()),
        tuple((tuple(left), tuple(right)) for left, right in document.get("apart") or ()),
    )


def all_rules(client: OpenSearch, names: IndexNames) -> CompiledRules:
    """Every active decision, compiled (a full run)."""
    query = {"query": {"bool": {"filter": [ACTIVE]}}, "_source": RULE_FIELDS}
    hits = scan(client, index=names.decisions, query=query, size=2000, ignore_unavailable=True)
    return compile_rules(rule_of(hit["_source"]) for hit in hits)


def rules_touching(
    client: OpenSearch,
    names: IndexNames,
    record_ids: Iterable[str],
    added: Iterable[DecisionRule] = (),
    dropped: frozenset[str] = frozenset(),
) -> CompiledRules:
    """The active decisions naming any of `record_ids`, compiled (a neighbourhood); with `added`,
    the decision being taken (not stored yet), and without `dropped`, the one being undone (still
    stored as active)."""
    ids = sorted(set(record_ids))
    if not ids:
        return compile_rules(added)
    body = touching_query(ids)
    response = client.search(index=names.decisions, body=body, ignore_unavailable=True)
    return rules_in(client, names, body, response.get("hits", {}).get("hits", []), added, dropped)


def touching_query(record_ids: list[str]) -> dict[str, Any]:
    """The search for the active decisions naming any of `record_ids` (a neighbourhood's)."""
    return {
        "query": {"bool": {"filter": [ACTIVE, {"terms": {"records": record_ids}}]}},
        "_source": RULE_FIELDS,
        "size": NEIGHBOURHOOD_DECISIONS,
    }


def rules_in(
    client: OpenSearch,
    names: IndexNames,
    body: dict[str, Any],
    hits: list[dict[str, Any]],
    added: Iterable[DecisionRule] = (),
    dropped: frozenset[str] = frozenset(),
) -> CompiledRules:
    """rules_touching's answer from the hits of its `body` (touching_query; a caller's own msearch):
    a full page of hits is read again by a scroll, every one of them."""
    if len(hits) >= NEIGHBOURHOOD_DECISIONS:
        hits = list(scan(client, index=names.decisions, query={k: v for k, v in body.items() if k != "size"}, size=2000))
    stored = (rule_of(hit["_source"]) for hit in hits if hit["_source"]["decision_id"] not in dropped)
    return compile_rules([*stored, *added])


def together_records(rules: CompiledRules) -> set[str]:
    """Every record a decision put together with another (a neighbourhood must hold them all)."""
    groups = rules.groups
    roots: dict[str, int] = {}
    for record in groups.parent:
        root = groups.find(record)
        roots[root] = roots.get(root, 0) + 1
    return {record for record in groups.parent if roots[groups.find(record)] > 1}


def decisions_query(customer_ids: list[str], record_ids: list[str]) -> dict[str, Any]:
    """The decisions (claims aside) naming any of these customers or records."""
    should: list[dict[str, Any]] = [{"terms": {"customer_ids": customer_ids}}]
    if record_ids:
        should.append({"terms": {"records": record_ids}})
    return {"bool": {"should": should, "minimum_should_match": 1, "must_not": [{"term": {"kind": "claim"}}]}}
