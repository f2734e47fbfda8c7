"""Detecting misuse: a key that reads far more distinct customers than its role's configured rate
per hour (`max_customers_per_hour` in the policy) is slowed down and reported — in the audit trail
(an admin sees the `misuse_suspected` entry) and by `rcu audit report` — so a leaked key or a mass
extraction is noticed within the hour. A busy counter opening the same customers again and again
reads few distinct ones and is never slowed."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from search.audit import AuditEntry, AuditWriter
from search.audit_journal import AuditJournal
from search.indices import IndexNames

WINDOW_S = 3600.0


class DistinctReads:
    """Distinct customers one key read in the last hour (last time each was seen, oldest first)."""

    def __init__(self) -> None:
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.reported_at = -WINDOW_S

    def add(self, customer_ids: list[str], now: float) -> int:
        for customer_id in customer_ids:
            self.seen.pop(customer_id, None)
            self.seen[customer_id] = now
        while self.seen and next(iter(self.seen.values())) < now - WINDOW_S:
            self.seen.popitem(last=False)
        return len(self.seen)


class WatchedAuditWriter(AuditWriter):
    """The audit writer, counting per key the distinct customers it shows: past the role's limit,
    each answer waits `delay_s` and one `misuse_suspected` entry per key and hour is written."""

    def __init__(self, journal: AuditJournal, limits: dict[str, int], delay_s: float) -> None:
        super().__init__(journal)
        self.limits = limits
        self.delay_s = delay_s
        self.readers: dict[str, DistinctReads] = {}

    async def record(self, entry: AuditEntry) -> None:
        await super().record(entry)
        limit = self.limits.get(entry.role)
        if limit is None or not entry.customer_ids:
            return
        now = time.monotonic()
        reads = self.readers.setdefault(entry.caller, DistinctReads())
        distinct = reads.add(entry.customer_ids, now)
        if distinct <= limit:
            return
        if now - reads.reported_at >= WINDOW_S:
            reads.reported_at = now
            await super().record(
                AuditEntry(entry.caller, entry.role, "misuse_suspected", [], f"distinct_customers_last_hour={distinct} limit={limit}")
            )
        await asyncio.sleep(self.delay_s)


@dataclass(frozen=True)
class HourlyReads:
    caller: str
    role: str
    hour: str
    distinct_customers: int
    limit: int | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.distinct_customers > self.limit


def hourly_reads(client: OpenSearch, names: IndexNames, since: datetime, limits: dict[str, int]) -> list[HourlyReads]:
    """Distinct customers read per key and hour since `since`, from the audit trail (approximate
    counts above a few thousand: OpenSearch's cardinality), busiest first."""
    if not client.indices.exists(index=names.audit):
        return []
    client.indices.refresh(index=names.audit)
    body: dict[str, Any] = {
        "size": 0,
        "query": {"range": {"at": {"gte": since.isoformat()}}},
        "aggs": {
            "callers": {
                "terms": {"field": "caller", "size": 1000},
                "aggs": {
                    "role": {"terms": {"field": "role", "size": 1}},
                    "hours": {
                        "date_histogram": {"field": "at", "fixed_interval": "1h", "min_doc_count": 1},
                        # A customer is a token (search.audit_seal); entries from before the seal name ids.
                        "aggs": {
                            "tokens": {"cardinality": {"field": "customer_tokens", "precision_threshold": 4000}},
                            "customers": {"cardinality": {"field": "customer_ids", "precision_threshold": 4000}},
                        },
                    },
                },
            }
        },
    }
    rows = []
    for caller in client.search(index=names.audit, body=body)["aggregations"]["callers"]["buckets"]:
        role = caller["role"]["buckets"][0]["key"] if caller["role"]["buckets"] else ""
        for hour in caller["hours"]["buckets"]:
            rows.append(
                HourlyReads(
                    caller["key"], role, hour["key_as_string"], hour["tokens"]["value"] + hour["customers"]["value"], limits.get(role)
                )
            )
    return sorted(rows, key=lambda r: (not r.over, -r.distinct_customers))


def suspected(client: OpenSearch, names: IndexNames, since: datetime) -> list[dict[str, Any]]:
    """The `misuse_suspected` entries written since `since`, newest first."""
    if not client.indices.exists(index=names.audit):
        return []
    # Like every reader of the audit trail (its own refresh is 60 s, an erasure's rewrites none).
    client.indices.refresh(index=names.audit)
    query = {"bool": {"filter": [{"term": {"action": "misuse_suspected"}}, {"range": {"at": {"gte": since.isoformat()}}}]}}
    return [
        h["_source"] for h in client.search(index=names.audit, body={"query": query, "sort": [{"at": "desc"}], "size": 500})["hits"]["hits"]
    ]


def report_window(hours: int, now: datetime) -> datetime:
    return now - timedelta(hours=hours)
