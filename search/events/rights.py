"""The customer's rights over their interactions: events in the export, gone with an erasure, and
counted as activity by retention; events past their retention period deleted (whole indices, then
the older events of the period straddling the cutoff)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.events.figures import record_filter
from search.indices import IndexNames

BATCH = 1000


def events_of_records(client: OpenSearch, names: IndexNames, record_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every stored event of these records, oldest first (the access and portability export)."""
    if not record_ids or not client.indices.exists_alias(name=names.events):
        return []
    query = {"query": {"bool": {"filter": [record_filter(record_ids)]}}}
    events = [hit["_source"] for hit in scan(client, index=names.events, query=query, size=1000)]
    return sorted(events, key=lambda event: (event["at"], event["event_key"]))


def active_records(client: OpenSearch, names: IndexNames, record_ids: Sequence[str], since: datetime) -> set[str]:
    """Those of `record_ids` with an event at or after `since`: activity, for retention."""
    if not record_ids or not client.indices.exists_alias(name=names.events):
        return set()
    active: set[str] = set()
    for start in range(0, len(record_ids), BATCH):
        batch = list(record_ids[start : start + BATCH])
        body = {
            "query": {"bool": {"filter": [record_filter(batch), {"range": {"at": {"gte": since.isoformat()}}}]}},
            "size": 0,
            "aggs": {"records": {"terms": {"field": "record_id", "size": len(batch)}}},
        }
        buckets = client.search(index=names.events, body=body)["aggregations"]["records"]["buckets"]
        active.update(bucket["key"] for bucket in buckets)
    return active


def _period_end(index: str, events: str) -> datetime | None:
    """When the period an events index holds ends (`<events>-YYYY` or `<events>-YYYY.MM`)."""
    match = re.fullmatch(rf"{re.escape(events)}-(\d{{4}})(?:\.(\d{{2}}))?", index)
    if not match:
        return None
    year = int(match.group(1))
    if match.group(2) is None:
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    month = int(match.group(2))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def retention_cutoff(now: datetime, months: int) -> datetime:
    """Events before this are past the retention period (a month counted as 31 days, as at ingest)."""
    return now.astimezone(UTC) - timedelta(days=31 * months)


def expired_indices(client: OpenSearch, names: IndexNames, cutoff: datetime) -> list[str]:
    """The events indices whose whole period ended before `cutoff`."""
    if not client.indices.exists_alias(name=names.events):
        return []
    ends = {index: _period_end(index, names.events) for index in client.indices.get_alias(name=names.events)}
    return sorted(index for index, end in ends.items() if end is not None and end <= cutoff)


def expire_events(
    client: OpenSearch,
    names: IndexNames,
    indices: Sequence[str],
    cutoff: datetime,
    kept_types: Sequence[str] = (),
    kept_cutoff: datetime | None = None,
) -> int:
    """Delete the expired indices whole, then the older events of the periods straddling `cutoff`
    (a retention policy without the index state management plugin); returns the events deleted
    one by one. Events of `kept_types` (the contracts that make a customer) are deleted only before
    `kept_cutoff`: the indices passed must hold nothing newer."""
    if indices:
        client.indices.delete(index=",".join(indices))
    if not client.indices.exists_alias(name=names.events):
        return 0
    older: dict[str, Any] = {"range": {"at": {"lt": cutoff.isoformat()}}}
    if kept_types and kept_cutoff is not None and kept_cutoff < cutoff:
        kept = {"bool": {"filter": [{"terms": {"type": list(kept_types)}}, {"range": {"at": {"gte": kept_cutoff.isoformat()}}}]}}
        older = {"bool": {"filter": [older], "must_not": [kept]}}
    body = {"query": older}
    return int(client.delete_by_query(index=names.events, body=body, refresh=True, conflicts="proceed").get("deleted", 0))
