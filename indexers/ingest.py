"""`rcu ingest`: source files → validated, normalized records in the `records` index.

Idempotent by construction: the document id is `source:source_id` and the external version is
derived from `updated_at` (indexers.versions), so OpenSearch itself refuses an older or equal
version — under any number of concurrent writers — and a re-ingest writes nothing. Memory stays
bounded: files are streamed and at most `threads` bulk chunks are in flight.

No record can stop a run: every line ends up indexed, unchanged, stale, deleted or rejected with a
reason. A value OpenSearch would refuse is refused by the contract first; should the node still
refuse a whole bulk request, the request is split in halves until the culprit stands alone.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import ConflictError, OpenSearch
from opensearchpy.helpers import parallel_bulk, streaming_bulk

from analyzers.caching import batch_caches
from analyzers.index_settings import records_index_body
from indexers.contract import ContractClock, RecordRejected, SourceRecord, validate_record
from indexers.normalize import NormalizedRecord, NormalizeOptions, normalize_record
from indexers.readers import SourceFiles, SourceLine
from indexers.report import IngestSummary, RejectsReport
from indexers.versions import TIE_REASON, parse_conflict, undated_version
from search.indices import IndexNames
from search.resolve.blocking import blocking_keys
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.store import ensure_keyed_records_index, identifiers_in_use
from search.rights.suppression import SuppressionList
from settings import get_settings

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
MAX_CHUNK_BYTES = 20 * 1024 * 1024
BUSY = 429
REFUSED_AS_A_WHOLE = (400, 413)  # a bulk request the node refuses entirely: split to find the culprit
UNDATED_BATCH = 500


@dataclass
class _InFlight:
    file: str
    line: int
    raw: str
    record_id: str
    deleted: bool
    action: dict[str, Any] = field(default_factory=dict)
    refusal: str = ""  # why the node refused the whole request this record was in


def prepare_record(record: SourceRecord, options: NormalizeOptions, identifiers: tuple[str, ...] = ()) -> NormalizedRecord:
    """Normalized, with the blocking keys resolution will look its candidates up by (`identifiers`:
    the attributes in use as identifiers, search.resolve.store.identifiers_in_use)."""
    normalized = normalize_record(record, options)
    if not normalized.deleted:
        normalized.document["blocking_keys"] = blocking_keys(features_from_document(normalized.document, identifiers))
    return normalized


def index_one(
    client: OpenSearch,
    names: IndexNames,
    record: SourceRecord,
    identifiers: tuple[str, ...] = (),
    refresh: str | bool = False,
    normalized: NormalizedRecord | None = None,
    indexed: dict[str, Any] | None = None,
) -> tuple[NormalizedRecord, str]:
    """One record written as a bulk line would be (same id, same external version): returns it
    with its outcome, "indexed", "deleted", "unchanged" or "stale" (a newer version is indexed).
    `refresh="wait_for"` returns once searches see it, so the next record resolved finds it.
    `normalized`: the record already prepared by the caller; `indexed`: for an undated record, the
    indexed copy's version as the caller read it (indexed_copy), else read here."""
    normalized = normalized or prepare_record(record, NormalizeOptions(), identifiers)
    version = normalized.version
    if version is None:
        indexed = indexed or indexed_copy(client, names, normalized.record_id)
        version = undated_version(indexed["_version"] if indexed.get("found") else None, normalized.tie)
        if version is None:
            return normalized, "unchanged"
    try:
        client.index(
            index=names.records,
            id=normalized.record_id,
            body=normalized.document,
            version=version,
            version_type="external",
            refresh=refresh,
        )
    except ConflictError as error:
        conflict = parse_conflict(str(error.info))
        return normalized, conflict.outcome if conflict else "stale"
    return normalized, "deleted" if normalized.deleted else "indexed"


def indexed_copy(client: OpenSearch, names: IndexNames, record_id: str) -> dict[str, Any]:
    """The indexed copy's version of a record (a real-time get, `found` false when there is none)."""
    return client.get(index=names.records, id=record_id, _source=False, ignore=[404])


def _refusal_reason(error: Exception) -> str:
    """The node's reason for refusing a whole request, without the long values it quotes (ids)."""
    info = getattr(error, "info", None)
    reason = info.get("error", {}).get("reason") if isinstance(info, dict) and isinstance(info.get("error"), dict) else None
    return re.sub(r"\[[^\]]{40,}\]", "[…]", str(reason or error))[:300]


class Ingestion:
    """One ingest run: reads, validates, normalizes, writes, and accounts for every line."""

    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        report: RejectsReport,
        shards: int | None = None,
        threads: int = 2,
        config: ResolutionConfig | None = None,
        clock: ContractClock | None = None,
        suppression_key: bytes | None = None,
    ) -> None:
        self.client = client
        self.config = config or ResolutionConfig.load(get_settings().resolution_config)
        self.identifiers: tuple[str, ...] = ()
        self.names = names
        self.report = report
        self.shards = shards
        self.threads = threads
        self.clock = clock or ContractClock()
        self.suppression_key = suppression_key
        self.suppression = SuppressionList(suppression_key, {})
        self.summary = IngestSummary()
        self._in_flight: dict[str, deque[_InFlight]] = {}
        self._busy: list[_InFlight] = []
        self._refused: list[_InFlight] = []
        self._lock = threading.Lock()  # actions are made in a bulk thread, settled in this one

    # -- reading ----------------------------------------------------------------------------

    def _normalized(self, line: SourceLine) -> NormalizedRecord | None:
        """The line's record ready to write, or None once it is rejected (with its reason)."""
        self.summary.read += 1
        if line.error or line.payload is None:
            self._reject(line.file, line.line, line.raw, line.error or "no record")
            return None
        try:
            record = validate_record(line.payload, self.clock)
            normalized = prepare_record(record, NormalizeOptions(birth_date_format=line.birth_date_format), self.identifiers)
        except RecordRejected as rejected:
            self._reject(line.file, line.line, line.raw, rejected.reason)
            return None
        except Exception as error:
            log.exception("record_not_processed file=%s line=%s", line.file, line.line)
            self._reject(line.file, line.line, line.raw, f"could not be processed ({type(error).__name__}); see the log")
            return None
        refusal = self.suppression.refusal(normalized.document)
        if refusal:  # an erased person (search.rights.suppression): the line is not copied to the rejects file
            self._reject(line.file, line.line, "", refusal)
            return None
        if normalized.warnings:
            self.summary.records_with_warnings += 1
        for warning in normalized.warnings:
            self.summary.warnings += 1
            self.report.warning(line.file, line.line, warning.field, warning.raw, warning.reason, normalized.record_id)
        return normalized

    def _action(self, line: SourceLine, normalized: NormalizedRecord, version: int) -> dict[str, Any]:
        action = {
            "_op_type": "index",
            "_index": self.names.records,
            "_id": normalized.record_id,
            "version": version,
            "version_type": "external",
            "_source": normalized.document,
        }
        self._track(_InFlight(line.file, line.line, line.raw, normalized.record_id, normalized.deleted, action))
        return action

    def _track(self, entry: _InFlight) -> None:
        with self._lock:
            self._in_flight.setdefault(entry.record_id, deque()).append(entry)

    def _actions(self, lines: Iterator[SourceLine]) -> Iterator[dict[str, Any]]:
        undated: list[tuple[SourceLine, NormalizedRecord]] = []
        for line in lines:
            normalized = self._normalized(line)
            if normalized is None:
                continue
            if normalized.version is None:
                undated.append((line, normalized))
                if len(undated) >= UNDATED_BATCH:
                    yield from self._undated_actions(undated)
                    undated = []
                continue
            yield self._action(line, normalized, normalized.version)
        yield from self._undated_actions(undated)

    def _undated_actions(self, batch: list[tuple[SourceLine, NormalizedRecord]]) -> Iterator[dict[str, Any]]:
        """Undated records: the indexed copies' versions are read first, so the same content is
        `unchanged` and other content replaces them (indexers.versions)."""
        if not batch:
            return
        ids = sorted({normalized.record_id for _, normalized in batch})
        docs = self.client.mget(index=self.names.records, body={"ids": ids}, _source=False)["docs"]
        indexed: dict[str, int] = {doc["_id"]: doc["_version"] for doc in docs if doc.get("found")}
        for line, normalized in batch:
            version = undated_version(indexed.get(normalized.record_id), normalized.tie)
            if version is None:
                self.summary.count("unchanged")
                continue
            indexed[normalized.record_id] = version  # a later line of the same record wins over this one
            yield self._action(line, normalized, version)

    # -- accounting ---------------------------------------------------------------------------

    def _reject(self, file: str, line: int, raw: str, reason: str) -> None:
        self.summary.count("rejected")
        self.report.rejected(file, line, raw, reason)

    def _take(self, record_id: str) -> _InFlight:
        with self._lock:
            waiting = self._in_flight.get(record_id)
            entry = waiting.popleft() if waiting else _InFlight("?", 0, "", record_id, False)
            if waiting is not None and not waiting:
                del self._in_flight[record_id]
        return entry

    def _settle(self, item: dict[str, Any], retry_when_busy: bool) -> None:
        result = item.get("index", {})
        entry = self._take(result.get("_id", ""))
        status = result.get("status", 0)
        if "exception" in result and status in REFUSED_AS_A_WHOLE:
            entry.refusal = _refusal_reason(result["exception"])
            self._refused.append(entry)  # the whole request was refused: this record may be innocent
            return
        if retry_when_busy and status == BUSY:
            self._busy.append(entry)  # the node's write queue was full: sent again at the end, with back-off
            return
        if status in (200, 201):
            self.summary.count("deleted" if entry.deleted else "indexed")
            return
        error = result.get("error") or {}
        reason = error.get("reason", "") if isinstance(error, dict) else str(error)
        if status == 409:
            conflict = parse_conflict(reason)
            self.summary.count(conflict.outcome if conflict else "stale")
            if conflict and conflict.lost_a_tie:
                self.summary.ties += 1
                self.report.tie(entry.file, entry.line, entry.record_id, TIE_REASON)
            return
        kind = error.get("type", "error") if isinstance(error, dict) else "error"
        self._reject(entry.file, entry.line, entry.raw, f"OpenSearch refused the record ({status} {kind}): {reason}")

    # -- writing ----------------------------------------------------------------------------

    @batch_caches()
    def run(self, files: SourceFiles, on_record: Callable[[IngestSummary], None] | None = None) -> IngestSummary:
        """Stream every line of `files` into the index; `threads` bulk requests in flight at once,
        so normalizing the next chunk overlaps with OpenSearch indexing the previous ones."""
        layout = self.names.layout
        ensure_keyed_records_index(self.client, self.names, records_index_body(self.shards or layout.records_shards, layout.replicas))
        self.identifiers = identifiers_in_use(self.client, self.names, self.config)
        self.suppression = SuppressionList.load(self.client, self.names, self.suppression_key)
        self._write(files, on_record)
        self.client.indices.refresh(index=self.names.records)
        log.info("ingest_done %s", self.summary.line())
        return self.summary

    def _write(self, files: SourceFiles, on_record: Callable[[IngestSummary], None] | None) -> None:
        for _ok, item in parallel_bulk(
            self.client,
            self._actions(files.lines()),
            thread_count=self.threads,
            queue_size=self.threads,
            chunk_size=CHUNK_SIZE,
            max_chunk_bytes=MAX_CHUNK_BYTES,
            raise_on_error=False,
            raise_on_exception=True,
            ignore_status=REFUSED_AS_A_WHOLE,
        ):
            self._settle(item, retry_when_busy=True)
            if on_record:
                on_record(self.summary)
        busy, self._busy = self._busy, []
        refused, self._refused = self._refused, []
        refused += self._send(busy, max_retries=8)
        self._isolate(refused)

    def _send(self, entries: list[_InFlight], max_retries: int = 0) -> list[_InFlight]:
        """Writes `entries` as one bulk stream; returns those refused together with their request."""
        for entry in entries:
            self._track(entry)
        for _ok, item in streaming_bulk(
            self.client,
            (entry.action for entry in entries),
            chunk_size=CHUNK_SIZE,
            max_chunk_bytes=MAX_CHUNK_BYTES,
            max_retries=max_retries,
            initial_backoff=1,
            max_backoff=30,
            raise_on_error=False,
            raise_on_exception=True,
            ignore_status=REFUSED_AS_A_WHOLE,
            yield_ok=True,
        ):
            self._settle(item, retry_when_busy=False)
        refused, self._refused = self._refused, []
        return refused

    def _isolate(self, refused: list[_InFlight]) -> None:
        """Halves of a refused request are sent again until each refusal has its one culprit."""
        groups = [refused] if refused else []
        while groups:
            group = groups.pop()
            if len(group) == 1:
                (entry,) = group
                self._reject(entry.file, entry.line, entry.raw, f"OpenSearch refused the record: {entry.refusal}")
                continue
            middle = len(group) // 2
            for half in (group[:middle], group[middle:]):
                again = self._send(half)
                if again:
                    groups.append(again)
