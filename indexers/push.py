"""One record pushed by an integrator (POST /v1/records): validated like a file line, indexed with
the same id and external version as `rcu ingest` would write it, and resolved in real time."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.ingest import index_one, indexed_copy, prepare_record
from indexers.normalize import NormalizeOptions
from search.indices import IndexNames
from search.resolve.pipeline import resolve_touched
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import Refresh, ensure_keyed_records_index
from search.rights.suppression import keyed_hash, lookup_refusal

# Requests a pusher's pushes make beside their own thread at once, all pushes together (a push makes
# at most two at a time: search.resolve.pipeline.resolve_touched); past it, they wait their turn.
PUSH_THREADS = 8


@dataclass(frozen=True)
class PushOutcome:
    record_id: str
    outcome: str  # indexed, deleted, unchanged or stale, as in an ingest summary
    customer_id: str | None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Every customer the resolution wrote or removed (merges and splits included).
    customers_changed: list[str] = field(default_factory=list)


class RecordSuppressed(Exception):
    """The record is an erased person's, sent again without a newer consent (the reason says when).
    `stand_in` names it where it is kept (the audit trail) without its id: a keyed hash."""

    def __init__(self, reason: str, stand_in: str) -> None:
        super().__init__(reason)
        self.stand_in = stand_in


class RecordPusher:
    """Indexes and resolves single records for a long-running process, with the resolver's model."""

    # Refreshed at once rather than waiting for the next periodic refresh ("wait_for"): a push took
    # about 1 s waiting, and 2 s with the customer waited for too (bench/push.py, 2026-11-27).
    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        resolver: RealTimeResolver,
        suppression_key: bytes | None = None,
        refresh: Refresh = True,
        on_customers_changed: Callable[[list[str]], object] | None = None,
    ) -> None:
        self.client = client
        self.names = names
        self.resolver = resolver
        self.refresh = refresh
        self._index_ready = False
        self.suppression_key = suppression_key
        # Told which customers a push changed, once they are written (their segments: search.segments).
        self.on_customers_changed = on_customers_changed
        # The threads a push's reads and writes made at once run on, started once for the pusher's
        # life: started anew for each push (five per push), they cost about a sixth of the API's CPU
        # per push, and on a loaded machine each start waited for a core (bench/RESULTS.md, session 18).
        # Only leaf requests run on them (none waits for another), so concurrent pushes queue past
        # PUSH_THREADS at most; idle, they wait, and they end with the pusher.
        self._threads = ThreadPoolExecutor(max_workers=PUSH_THREADS, thread_name_prefix="rcu-push")

    def push(self, record: SourceRecord) -> PushOutcome:
        """Index the record (a newer `updated_at` wins) and name the customer it now belongs to."""
        config = self.resolver.config
        if not self._index_ready:
            # A push before any ingest creates the records index with rcu's mappings, never dynamic ones.
            ensure_keyed_records_index(self.client, self.names)
            self._index_ready = True
        normalized = prepare_record(record, NormalizeOptions(), self.resolver.identifiers())
        # The suppression list and, for an undated record, the indexed copy's version: read at once,
        # not one after the other (each is a round trip an integrator waits for). The candidates are
        # searched after the write, never before: of two records of one person pushed at the same
        # time, the one whose search comes second then always finds the other.
        indexing = self._threads.submit(indexed_copy, self.client, self.names, normalized.record_id) if normalized.version is None else None
        refusal = lookup_refusal(self.client, self.names, self.suppression_key, normalized.document)
        indexed = indexing.result() if indexing else None
        if refusal:
            assert self.suppression_key is not None  # a refusal needs the key to match a hash
            raise RecordSuppressed(refusal, "suppressed-" + keyed_hash(self.suppression_key, "record", normalized.record_id)[:20])
        # Searchable before it is answered for, by every process: the next pushed record of the same
        # person finds it (or finds it gone: a tombstone), whichever API worker or `rcu push` sends it.
        normalized, outcome = index_one(self.client, self.names, record, refresh=self.refresh, normalized=normalized, indexed=indexed)
        customer_id = None
        if outcome in ("indexed", "deleted"):
            documents = None if normalized.deleted else [normalized.document]
            # Read-your-writes: the customer the answer names already holds the record in searches
            # (the 360 view reads records by real-time gets).
            report = resolve_touched(
                self.client,
                self.names,
                config,
                [normalized.record_id],
                self.resolver.model(),
                documents,
                refresh=self.refresh,
                threads=self._threads,
            )
            customer_id = report.customer_ids.get(normalized.record_id)
            changed = sorted(set(report.customer_ids.values()) | set(report.removed_ids))
            if self.on_customers_changed is not None:
                self.on_customers_changed(changed)
            return PushOutcome(normalized.record_id, outcome, customer_id, [w.as_dict() for w in normalized.warnings], changed)
        if outcome == "unchanged":
            customer_id = self.resolver.customer_of(normalized.record_id)
        return PushOutcome(normalized.record_id, outcome, customer_id, [w.as_dict() for w in normalized.warnings])
