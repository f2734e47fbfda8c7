"""The events mapping indexes what a query over events filters on, keeps doc values for what one
sorts or aggregates on, and nothing else: every other field is only kept in `_source`. Ten million
events are indexed field by field; a field indexed for no query costs every one of them (and every
merge) for nothing, and a field a query needs but the mapping left out would be a slow or failing
query. Pure: the queries are captured from the code that builds them, no node."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from analyzers.index_settings import events_index_body
from search.actions.outcomes import acceptance_rates, last_refusals
from search.events.bulk import page_body
from search.events.figures import figures_body
from search.events.rights import active_records, expire_events
from search.events.store import stored_versions
from search.events.timeline import timeline_body
from search.indices import IndexNames
from search.rights.erasure_plan import _queries
from search.rights.retention import contract_records

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
RECORDS = ["crm:1", "caisse:2"]
_EMPTY = {"buckets": []}


class _Recording:
    """Answers every search over events with nothing, keeping each request's body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.indices = SimpleNamespace(exists_alias=lambda **_: True, exists=lambda **_: True, delete=lambda **_: None)

    def search(self, index: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.bodies.append(body)
        return {"hits": {"hits": [], "total": {"value": 0}}, "aggregations": {"groups": _EMPTY, "records": _EMPTY, "actions": _EMPTY}}

    def delete_by_query(self, index: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.bodies.append(body)
        return {"deleted": 0}


def _event_queries() -> list[dict[str, Any]]:
    names = IndexNames("t")
    client = _Recording()
    for by in ("action", "shop", "month"):
        acceptance_rates(client, names, by)  # type: ignore[arg-type]
    last_refusals(client, names, RECORDS)  # type: ignore[arg-type]
    active_records(client, names, RECORDS, NOW)  # type: ignore[arg-type]
    contract_records(client, names, RECORDS, ["purchase"])  # type: ignore[arg-type]
    expire_events(client, names, [], NOW, ["subscription"], datetime(2020, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    stored_versions(client, names, ["bench:E1"])  # type: ignore[arg-type]
    events_query = _queries(names, ["C1"], RECORDS)["events"][1]
    return [
        *client.bodies,
        figures_body(RECORDS, NOW),
        page_body(RECORDS, NOW),
        timeline_body(RECORDS, 10, None, True),
        {"query": events_query},
    ]


def _uses(node: Any, in_query: bool = False) -> Iterator[tuple[str, str]]:
    """(how, field) of every field a request body names: `filter` (a term, terms, range or exists
    query, a filter aggregation's), `values` (an aggregation's field, a sort)."""
    if isinstance(node, list):
        for item in node:
            yield from _uses(item, in_query)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("term", "terms", "range") and isinstance(value, dict) and "field" not in value:
            yield from (("filter", name) for name in value if name != "boost")
        elif key == "exists" and isinstance(value, dict):
            yield "filter", value["field"]
        elif key == "field" and isinstance(value, str):
            yield "values", value
        elif key == "sort" and isinstance(value, list):
            for item in value:
                for name in [item] if isinstance(item, str) else item:
                    if name not in ("_doc", "_score"):
                        yield "values", name
        else:
            yield from _uses(value, in_query)


def test_the_events_mapping_indexes_only_what_a_query_filters_sorts_or_aggregates_on() -> None:
    properties = events_index_body()["mappings"]["properties"]
    uses = {use for body in _event_queries() for use in _uses(body)}
    filtered = {name for how, name in uses if how == "filter"}
    valued = {name for how, name in uses if how == "values"}
    assert {"record_id", "type", "at", "outcome"} <= filtered and {"at", "event_key", "visit_day", "shop"} <= valued
    assert (filtered | valued) <= set(properties), "a query names a field the events mapping does not have"
    for name, field in properties.items():
        if field.get("type") == "object":
            continue
        indexed, doc_values = field.get("index", True), field.get("doc_values", True)
        assert indexed == (name in filtered), f"{name}: indexed={indexed}, filtered by a query: {name in filtered}"
        assert doc_values == (name in valued), f"{name}: doc_values={doc_values}, sorted or aggregated on: {name in valued}"
