"""Detecting misuse: a key that reads far more distinct customers than its role's configured rate
per hour (`max_customers_per_hour` in the policy) is slowed down and reported — in the audit trail
(an admin sees the `misuse_suspected` entry) and by `rcu audit report` — so a leaked key or a mass
extraction is noticed within the hour. A busy counter opening the same customers again and again
reads few distinct ones and is never slowed.

Each API process counts what it shows in memory (nothing is written nor read per look-up), and
knows what the others showed from the audit trail: it seeds from the trail's last hour on start,
and every `misuse_refresh_s` (60 s), in the background, reads per key the distinct customers of the
last hour (their tokens, search.audit_seal: one customer, one token). The limit is judged on the
larger of its own count and the trail's count plus the customers new to this process since that
read (counted twice only when another process read the same customer within those seconds: a
busy counter opening the same customers stays at their number). What the shared count misses: the
entries not yet in the audit index (shipped about a second after the look-up, later while the
node is away: the journal keeps them) and what other processes read since the last refresh — a key
spread over several processes is noticed at most one refresh (plus the shipping lag) after it
crossed the limit; each process's own count applies at once. The `misuse_suspected` entry is
written under an id of its key and clock hour, so processes crossing the limit together leave one
entry (across processes one per clock hour: two processes crossing at 10:59 and 11:01 leave two).
The one journal id makes the audit index keep one (the shipper's second create is a 409)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch

from search.audit import AuditEntry, AuditWriter, entry_document
from search.audit_journal import AuditJournal
from search.indices import IndexNames

log = logging.getLogger(__name__)

WINDOW_S = 3600.0


class DistinctReads:
    """Distinct customers one key read in the last hour in this process (last time each was seen,
    oldest first), and those of them new to it since the shared count was last read (`fresh`)."""

    def __init__(self) -> None:
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.fresh: set[str] = set()
        self.reported_at = -WINDOW_S

    def add(self, customer_ids: list[str], now: float) -> int:
        for customer_id in customer_ids:
            if self.seen.pop(customer_id, None) is None:
                self.fresh.add(customer_id)
            self.seen[customer_id] = now
        while self.seen and next(iter(self.seen.values())) < now - WINDOW_S:
            self.fresh.discard(self.seen.popitem(last=False)[0])
        return len(self.seen)


class WatchedAuditWriter(AuditWriter):
    """The audit writer, counting per key the distinct customers it shows (and, from the audit
    trail, those every process showed): past the role's limit, each answer waits `delay_s` and one
    `misuse_suspected` entry per key and hour is written."""

    def __init__(self, journal: AuditJournal, limits: dict[str, int], delay_s: float, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(journal, clock)
        self.limits = limits
        self.delay_s = delay_s
        self.readers: dict[str, DistinctReads] = {}
        self.shared: dict[str, int] = {}  # per key, distinct customers in the trail's last hour (every process)
        self.shared_at = -WINDOW_S  # when it was read (time.monotonic)
        self._refresher: asyncio.Task[None] | None = None

    async def record(self, entry: AuditEntry) -> None:
        await super().record(entry)
        limit = self.limits.get(entry.role)
        if limit is None or not entry.customer_ids:
            return
        now = time.monotonic()
        reads = self.readers.setdefault(entry.caller, DistinctReads())
        distinct = reads.add(entry.customer_ids, now)
        if now - self.shared_at < WINDOW_S:
            # The trail's count when last read, plus what this process read new since (over-counted
            # only by customers another process also read within those seconds).
            distinct = max(distinct, self.shared.get(entry.caller, 0) + len(reads.fresh))
        if distinct <= limit:
            return
        if now - reads.reported_at >= WINDOW_S:
            reads.reported_at = now
            document = entry_document(
                AuditEntry(entry.caller, entry.role, "misuse_suspected", [], f"distinct_customers_last_hour={distinct} limit={limit}"),
                self.clock(),
            )
            await self.journal.append(document, suspicion_id(entry.caller, document["at"]))
        await asyncio.sleep(self.delay_s)

    async def refresh_shared(self, client: AsyncOpenSearch, names: IndexNames) -> None:
        """Reads from the audit trail, per limited key, the distinct customers of the last hour."""
        if not self.limits:
            return
        started = time.monotonic()
        fresh = {caller: set(reads.fresh) for caller, reads in self.readers.items()}
        shared = await shared_reads(client, names, sorted(self.limits), self.clock() - timedelta(seconds=WINDOW_S))
        for caller, reads in self.readers.items():  # what was read before the count is in it (shipped within a second)
            reads.fresh -= fresh.get(caller, set())
        self.shared, self.shared_at = shared, started

    def start(self, client: AsyncOpenSearch, names: IndexNames, interval_s: float) -> None:
        """Refreshes the shared count every `interval_s` in the background (seeded by the caller first)."""
        self._refresher = asyncio.create_task(self._refresh_every(client, names, interval_s), name="misuse_refresh")

    async def _refresh_every(self, client: AsyncOpenSearch, names: IndexNames, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.refresh_shared(client, names)
            except Exception as error:  # noqa: BLE001 - the node is away: the local counts still apply
                log.warning("misuse_refresh_failed error=%s", type(error).__name__)

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher


def suspicion_id(caller: str, at: str) -> str:
    """The journal (and audit index) id of a key's `misuse_suspected` entry for the clock hour of `at`:
    the same in every process, so the index keeps one."""
    return hashlib.sha256(f"misuse_suspected\n{caller}\n{at[:13]}".encode()).hexdigest()[:32]


async def shared_reads(client: AsyncOpenSearch, names: IndexNames, roles: list[str], since: datetime) -> dict[str, int]:
    """Per key of `roles`, the distinct customers the audit trail shows it read since `since`
    (every process's entries once shipped; OpenSearch's cardinality, exact to a few thousand)."""
    if not await client.indices.exists(index=names.audit):
        return {}
    await client.indices.refresh(index=names.audit)  # its own refresh is 60 s
    body: dict[str, Any] = {
        "size": 0,
        "query": {"bool": {"filter": [{"range": {"at": {"gte": since.isoformat()}}}, {"terms": {"role": roles}}]}},
        "aggs": {
            "callers": {
                "terms": {"field": "caller", "size": 1000},
                "aggs": {
                    "tokens": {"cardinality": {"field": "customer_tokens", "precision_threshold": 4000}},
                    "customers": {"cardinality": {"field": "customer_ids", "precision_threshold": 4000}},
                },
            }
        },
    }
    response = await client.search(index=names.audit, body=body)
    return {b["key"]: b["tokens"]["value"] + b["customers"]["value"] for b in response["aggregations"]["callers"]["buckets"]}


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
