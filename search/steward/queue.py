"""The steward's review queue (GET /v1/review): what needs a person, most useful first.

Two kinds of item, each with everything needed to decide on one screen:
- `possible-match`: two customers that may be one person (search.resolve.possible), with the
  probability, the explanation, the rule that held them apart, and both customers side by side;
  a pair a steward kept apart that a new record links again (`contested`) names that decision;
- `identity-conflict`: one customer whose own records disagree on an identity field
  (search.resolve.identity_conflicts).

Expected value orders them: how likely the item is a mistake to fix, times the records it touches,
times (1 + how often a counter looked either customer up lately). A possible match's likelihood is
its probability; an identity conflict's is the share of such items stewards split or detached so
far, (splits + 1) / (decided + 2) — estimated from the decisions, one half before any.

The queue ranks a window of candidates (`ReviewConfig.window` of each kind, the most probable
first), not the whole index: enough for any page a steward reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from search.access import FieldAccess, shown
from search.indices import IndexNames
from search.resolve.constraints import STEWARD_CONTESTED
from search.resolve.identity_conflicts import IDENTITY_FIELDS
from search.steward.decisions import (
    ACTIVE,
    CUSTOMER,
    DETACH,
    SAME_PERSON,
    SPLIT,
    confirmed_customers,
    customer_version,
    decisions_about,
    item_version,
)

POSSIBLE_MATCH = "possible-match"
IDENTITY_CONFLICT = "identity-conflict"
ITEM_KINDS = (POSSIBLE_MATCH, IDENTITY_CONFLICT)
# Golden fields shown side by side, in this order.
COMPARED = (
    "civility",
    "given_name",
    "family_name",
    "birth_name",
    "birth_date",
    "emails",
    "phones",
    "street",
    "postcode",
    "city",
    "loyalty_cards",
)


@dataclass(frozen=True)
class ReviewFilter:
    kind: str | None = None
    source: str | None = None  # a customer of the item holds a record of this source
    shop: str | None = None  # … of loyalty_<shop>
    since: str | None = None  # item found or updated from this date
    until: str | None = None


@dataclass(frozen=True)
class ReviewConfig:
    window: int = 500  # candidates of each kind ranked per request
    lookup_days: int = 30  # how far back counter look-ups count


def _dates(flt: ReviewFilter) -> list[dict[str, Any]]:
    bounds = {k: v for k, v in (("gte", flt.since), ("lte", flt.until)) if v}
    return [{"range": {"updated_at": bounds}}] if bounds else []


def _wanted_sources(flt: ReviewFilter) -> set[str]:
    wanted = set()
    if flt.source:
        wanted.add(flt.source)
    if flt.shop:
        wanted.add(f"loyalty_{flt.shop}")
    return wanted


def _holds(customers: list[dict[str, Any]], flt: ReviewFilter) -> bool:
    sources = {s for c in customers for s in c.get("sources", [])}
    return all(s in sources for s in _wanted_sources(flt))


def _search(client: OpenSearch, index: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.search(index=index, body=body, ignore_unavailable=True)
    return [hit["_source"] for hit in response.get("hits", {}).get("hits", [])]


def recent_lookups(client: OpenSearch, names: IndexNames, customer_ids: list[str], days: int) -> dict[str, int]:
    """How many audited look-ups showed each customer in the last `days` days."""
    if not customer_ids:
        return {}
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    body = {
        "size": 0,
        "query": {"bool": {"filter": [{"terms": {"customer_ids": customer_ids}}, {"range": {"at": {"gte": since}}}]}},
        "aggs": {"customers": {"terms": {"field": "customer_ids", "include": customer_ids, "size": len(customer_ids)}}},
    }
    response = client.search(index=names.audit, body=body, ignore_unavailable=True)
    buckets = response.get("aggregations", {}).get("customers", {}).get("buckets", [])
    return {bucket["key"]: bucket["doc_count"] for bucket in buckets}


def conflict_split_share(client: OpenSearch, names: IndexNames) -> float:
    """Of the customers stewards decided on one by one, the share they split or detached rather
    than confirmed (Laplace: one half before any decision)."""
    body = {
        "size": 0,
        "query": {"bool": {"filter": [{"term": {"status": ACTIVE}}, {"term": {"item": CUSTOMER}}]}},
        "aggs": {"kinds": {"terms": {"field": "kind", "size": 10}}},
    }
    response = client.search(index=names.decisions, body=body, ignore_unavailable=True)
    counts = {b["key"]: b["doc_count"] for b in response.get("aggregations", {}).get("kinds", {}).get("buckets", [])}
    parted = counts.get(SPLIT, 0) + counts.get(DETACH, 0)
    return (parted + 1) / (parted + counts.get(SAME_PERSON, 0) + 2)


def customer_files(client: OpenSearch, names: IndexNames, customer_ids: list[str], access: FieldAccess) -> dict[str, dict[str, Any]]:
    """Each live customer with its records and version, as the caller may read them."""
    if not customer_ids:
        return {}
    docs = client.mget(index=names.customers, body={"ids": customer_ids}, _source_includes=[*access.customer_source(), "resolved_at"])
    customers = {d["_id"]: d["_source"] for d in docs["docs"] if d.get("found")}
    record_ids = sorted({r for c in customers.values() for r in c.get("records", [])})
    records: dict[str, dict[str, Any]] = {}
    if record_ids:
        found = client.mget(index=names.records, body={"ids": record_ids}, _source_includes=access.record_source())["docs"]
        records = {d["_id"]: d["_source"] for d in found if d.get("found")}
    files = {}
    for customer_id, customer in customers.items():
        version = customer_version(customer)
        customer.pop("resolved_at", None)
        members = [shown(records[r], access, customer) for r in customer.get("records", []) if r in records]
        files[customer_id] = {"customer_id": customer_id, "version": version, "customer": shown(customer, access), "records": members}
    return files


def side_by_side(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """The golden fields of two customers, each with whether they agree."""
    rows = []
    for name in COMPARED:
        a, b = left.get(name), right.get(name)
        if a is None and b is None:
            continue
        rows.append({"field": name, "values": [a, b], "same": a == b})
    return rows


def disagreeing_fields(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The identity fields a customer's records disagree on, with each record's value."""
    rows = []
    for name in IDENTITY_FIELDS:
        values = {r["record_id"]: r.get(name) for r in records if r.get(name)}
        if len(set(values.values())) > 1:
            rows.append({"field": name, "values": values})
    return rows


def review_queue(
    client: OpenSearch,
    names: IndexNames,
    access: FieldAccess,
    flt: ReviewFilter,
    limit: int,
    offset: int = 0,
    config: ReviewConfig = ReviewConfig(),
) -> dict[str, Any]:
    """A page of the queue, by expected value, and how many candidates were ranked."""
    matches: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    # Real-time resolution writes without a refresh: a steward reads everything written so far.
    client.indices.refresh(index=[names.possible_matches, names.identity_conflicts], ignore_unavailable=True)
    if flt.kind in (None, POSSIBLE_MATCH):
        body = {"query": {"bool": {"filter": _dates(flt)}}, "sort": [{"probability": "desc"}], "size": config.window}
        matches = _search(client, names.possible_matches, body)
    if flt.kind in (None, IDENTITY_CONFLICT):
        wanted = _wanted_sources(flt)
        filters = _dates(flt) + [{"term": {"sources": s}} for s in sorted(wanted)]
        body = {"query": {"bool": {"filter": filters}}, "sort": [{"values": "desc"}, {"updated_at": "desc"}], "size": config.window}
        conflicts = _search(client, names.identity_conflicts, body)
    confirmed = confirmed_customers(client, names, [c["customer_id"] for c in conflicts])
    conflicts = [c for c in conflicts if frozenset(c["records"]) not in confirmed.get(c["customer_id"], set())]
    customer_ids = sorted({c for m in matches for c in m["customer_ids"]} | {c["customer_id"] for c in conflicts})
    summaries = _summaries(client, names, customer_ids)
    lookups = recent_lookups(client, names, customer_ids, config.lookup_days)
    conflict_prior = conflict_split_share(client, names) if conflicts else 0.5
    ranked: list[tuple[float, str, dict[str, Any]]] = []
    for match in matches:
        pair = [summaries.get(c) for c in match["customer_ids"]]
        if None in pair or not _holds(pair, flt):  # type: ignore[arg-type]
            continue
        touched = sum(c["record_count"] for c in pair)  # type: ignore[index]
        seen = sum(lookups.get(c, 0) for c in match["customer_ids"])
        ranked.append((match["probability"] * touched * (1 + seen), POSSIBLE_MATCH, {**match, "lookups": seen}))
    for conflict in conflicts:
        summary = summaries.get(conflict["customer_id"])
        if summary is None:
            continue
        seen = lookups.get(conflict["customer_id"], 0)
        ranked.append((conflict_prior * summary["record_count"] * (1 + seen), IDENTITY_CONFLICT, {**conflict, "lookups": seen}))
    ranked.sort(key=lambda item: -item[0])
    page = ranked[offset : offset + limit]
    files = customer_files(client, names, sorted({c for _, kind, it in page for c in _item_customers(kind, it)}), access)
    items = [_item(client, names, kind, found, value, files) for value, kind, found in page]
    return {"items": [item for item in items if item is not None], "ranked": len(ranked), "offset": offset}


def _summaries(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not customer_ids:
        return {}
    docs = client.mget(index=names.customers, body={"ids": customer_ids}, _source_includes=["customer_id", "sources", "record_count"])
    return {d["_id"]: d["_source"] for d in docs["docs"] if d.get("found")}


def _item_customers(kind: str, found: dict[str, Any]) -> list[str]:
    return list(found["customer_ids"]) if kind == POSSIBLE_MATCH else [found["customer_id"]]


def _item(
    client: OpenSearch, names: IndexNames, kind: str, found: dict[str, Any], value: float, files: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    ids = _item_customers(kind, found)
    if any(c not in files for c in ids):
        return None  # changed between the ranking and the read: the next page load shows it as it is
    customers = [files[c] for c in ids]
    item: dict[str, Any] = {
        "item_id": f"pair:{found['pair_id']}" if kind == POSSIBLE_MATCH else f"customer:{ids[0]}",
        "kind": kind,
        "version": item_version({c: files[c]["version"] for c in ids}),
        "expected_value": round(value, 4),
        "lookups": found["lookups"],
        "updated_at": found.get("updated_at"),
        "customers": customers,
    }
    if kind == POSSIBLE_MATCH:
        item.update(
            probability=found["probability"],
            match_kind=found["kind"],
            rule=found.get("rule"),
            reason=found.get("reason"),
            explanation=found.get("explanation"),
            comparison=side_by_side(customers[0]["customer"], customers[1]["customer"]),
            contested=found.get("rule") == STEWARD_CONTESTED,
        )
        if item["contested"]:
            records = [r for c in customers for r in c["customer"].get("records", [])]
            item["decisions"] = decisions_about(client, names, ids, records, limit=5)
    else:
        item.update(fields=found["fields"], disagreements=disagreeing_fields(customers[0]["records"]))
    return item
