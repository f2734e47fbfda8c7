"""The golden record of a customer: per field the value of the most trusted source, then the most
recent; every value keeps its provenance. Contact points are multi-valued, newest first."""

from __future__ import annotations

from fnmatch import fnmatch
from functools import lru_cache
from typing import Any

from search.resolve.config import ResolutionConfig

SINGLE_FIELDS = {"given_name": "names", "family_name": "names", "birth_name": "names", "birth_date": "birth_date", "civility": "civility"}
MULTI_FIELDS = {"phone": "phones", "email": "emails"}


def _rank(source: str, priority: list[str]) -> int:
    return _rank_cached(source, tuple(priority))


@lru_cache(maxsize=4096)
def _rank_cached(source: str, priority: tuple[str, ...]) -> int:
    for position, pattern in enumerate(priority):
        if fnmatch(source, pattern):
            return position
    return len(priority)


def _provenance(record: dict[str, Any], rule: str) -> dict[str, Any]:
    return {"record_id": record["record_id"], "source": record["source"], "updated_at": record.get("updated_at"), "rule": rule}


def _newest_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (r.get("updated_at") or "", r["record_id"]), reverse=True)


def golden_record(records: list[dict[str, Any]], config: ResolutionConfig) -> dict[str, Any]:
    """One customer's golden fields with provenance, from its member records' documents."""
    golden: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    newest = _newest_first(records)
    for field_name, group in SINGLE_FIELDS.items():
        priority = config.source_priority.get(group, [])
        holders = [r for r in newest if r.get(field_name)]
        if not holders:
            continue
        best = min(holders, key=lambda r: _rank(r["source"], priority))  # min is stable: newest wins ties
        rank = _rank(best["source"], priority)
        decided_by_priority = priority and any(_rank(r["source"], priority) > rank for r in holders)
        golden[field_name] = best[field_name]
        provenance[field_name] = _provenance(best, "source_priority" if decided_by_priority else "most_recent")
    for field_name, plural in MULTI_FIELDS.items():
        values: dict[str, dict[str, Any]] = {}
        for record in newest:
            value = record.get(field_name)
            if value and value not in values:
                values[value] = {"value": value, **_provenance(record, "most_recent")}
        if values:
            golden[plural] = list(values)
            provenance[plural] = list(values.values())
    cards: dict[str, dict[str, Any]] = {}
    addresses: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in newest:
        if record.get("loyalty_card") and record["loyalty_card"] not in cards:
            cards[record["loyalty_card"]] = {"card": record["loyalty_card"], "source": record["source"], "record_id": record["record_id"]}
        key = (record.get("street") or "", record.get("postcode") or "", record.get("city") or "")
        if any(key) and key not in addresses:
            addresses[key] = {"street": key[0], "postcode": key[1], "city": key[2], **_provenance(record, "most_recent")}
    if cards:
        golden["loyalty_cards"] = list(cards.values())
    if addresses:
        golden["addresses"] = list(addresses.values())
    golden["provenance"] = provenance
    return golden
