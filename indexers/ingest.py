"""`rcu ingest`: source files → validated, normalized records in the `records` index.

Idempotent by construction: the document id is `source:source_id` and the external version is
`updated_at` in milliseconds, so OpenSearch itself refuses an older or equal version — under any
number of concurrent writers — and a re-ingest writes nothing. Memory stays bounded: files are
streamed and at most one bulk chunk is in flight.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opensearchpy import ConflictError, OpenSearch
from opensearchpy.helpers import parallel_bulk, streaming_bulk
from pydantic import ValidationError

from analyzers.index_settings import records_index_body
from indexers.contract import SourceRecord
from indexers.normalize import NormalizedRecord, NormalizeOptions, normalize_record
from indexers.readers import SourceFiles, SourceLine
from indexers.report import IngestSummary, RejectsReport
from search.indices import IndexNames, ensure_records_index
from search.resolve.blocking import blocking_keys
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.store import identifiers_in_use
from settings import get_settings

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
MAX_CHUNK_BYTES = 20 * 1024 * 1024
BUSY = 429
_CONFLICT = re.compile(r"current version \[(\d+)\] is higher or equal to the one provided \[(\d+)\]")


@dataclass(frozen=True)
class _InFlight:
    file: str
    line: int
    raw: str
    deleted: bool
    action: dict[str, Any]


def validation_reason(error: ValidationError) -> str:
    """ "given_name: Input should be a valid string; source: Field required"."""
    parts = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "record"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def _outcome(result: dict[str, Any], in_flight: _InFlight) -> tuple[str, str | None]:
    status = result.get("status", 0)
    if status in (200, 201):
        return ("deleted" if in_flight.deleted else "indexed"), None
    error = result.get("error") or {}
    reason = error.get("reason", "") if isinstance(error, dict) else str(error)
    if status == 409:
        match = _CONFLICT.search(reason)
        if match and match.group(1) == match.group(2):
            return "unchanged", None
        return "stale", None
    kind = error.get("type", "error") if isinstance(error, dict) else "error"
    return "rejected", f"OpenSearch refused the record ({status} {kind}): {reason}"


def prepare_record(record: SourceRecord, options: NormalizeOptions, identifiers: tuple[str, ...] = ()) -> NormalizedRecord:
    """Normalized, with the blocking keys resolution will look its candidates up by (`identifiers`:
    the attributes in use as identifiers, search.resolve.store.identifiers_in_use)."""
    normalized = normalize_record(record, options)
    if isinstance(normalized.document.get("updated_at"), datetime):
        normalized.document["updated_at"] = normalized.document["updated_at"].isoformat()  # as indexed and read back
    if not normalized.deleted:
        normalized.document["blocking_keys"] = blocking_keys(features_from_document(normalized.document, identifiers))
    return normalized


def index_one(
    client: OpenSearch,
    names: IndexNames,
    record: SourceRecord,
    identifiers: tuple[str, ...] = (),
    refresh: str | bool = False,
) -> tuple[NormalizedRecord, str]:
    """One record written as a bulk line would be (same id, same external version): returns it
    with its outcome, "indexed", "deleted", "unchanged" or "stale" (a newer version is indexed).
    `refresh="wait_for"` returns once searches see it, so the next record resolved finds it."""
    normalized = prepare_record(record, NormalizeOptions(), identifiers)
    try:
        client.index(
            index=names.records,
            id=normalized.record_id,
            body=normalized.document,
            version=normalized.version,
            version_type="external",
            refresh=refresh,
        )
    except ConflictError as error:
        match = _CONFLICT.search(str(error.info))
        return normalized, "unchanged" if match and match.group(1) == match.group(2) else "stale"
    return normalized, "deleted" if normalized.deleted else "indexed"


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
    ) -> None:
        self.client = client
        self.config = config or ResolutionConfig.load(get_settings().resolution_config)
        self.identifiers: tuple[str, ...] = ()
        self.names = names
        self.report = report
        self.shards = shards
        self.threads = threads
        self.summary = IngestSummary()
        self._in_flight: dict[str, deque[_InFlight]] = {}
        self._busy: list[dict[str, Any]] = []

    def _actions(self, lines: Iterator[SourceLine]) -> Iterator[dict[str, Any]]:
        for line in lines:
            self.summary.read += 1
            if line.error:
                self._reject(line.file, line.line, line.raw, line.error)
                continue
            try:
                record = SourceRecord.model_validate(line.payload)
            except ValidationError as error:
                self._reject(line.file, line.line, line.raw, validation_reason(error))
                continue
            normalized = prepare_record(record, NormalizeOptions(birth_date_format=line.birth_date_format), self.identifiers)
            if normalized.warnings:
                self.summary.records_with_warnings += 1
            for warning in normalized.warnings:
                self.summary.warnings += 1
                self.report.warning(line.file, line.line, warning.field, warning.raw, warning.reason, normalized.record_id)
            action = {
                "_op_type": "index",
                "_index": self.names.records,
                "_id": normalized.record_id,
                "version": normalized.version,
                "version_type": "external",
                "_source": normalized.document,
            }
            self._in_flight.setdefault(normalized.record_id, deque()).append(
                _InFlight(line.file, line.line, line.raw, normalized.deleted, action)
            )
            yield action

    def _reject(self, file: str, line: int, raw: str, reason: str) -> None:
        self.summary.count("rejected")
        self.report.rejected(file, line, raw, reason)

    def _settle(self, item: dict[str, Any], retry_when_busy: bool) -> None:
        result = item.get("index", {})
        record_id = result.get("_id", "")
        waiting = self._in_flight.get(record_id)
        in_flight = waiting.popleft() if waiting else _InFlight("?", 0, "", False, {})
        if waiting is not None and not waiting:
            del self._in_flight[record_id]
        if retry_when_busy and result.get("status") == BUSY:
            # The node's write queue was full: sent again at the end, with back-off.
            self._busy.append(in_flight.action)
            self._in_flight.setdefault(record_id, deque()).append(in_flight)
            return
        outcome, reason = _outcome(result, in_flight)
        if reason:
            self._reject(in_flight.file, in_flight.line, in_flight.raw, reason)
        else:
            self.summary.count(outcome)

    def run(self, files: SourceFiles, on_record: Callable[[IngestSummary], None] | None = None) -> IngestSummary:
        """Stream every line of `files` into the index; `threads` bulk requests in flight at once,
        so normalizing the next chunk overlaps with OpenSearch indexing the previous ones."""
        layout = self.names.layout
        ensure_records_index(self.client, self.names, records_index_body(self.shards or layout.records_shards, layout.replicas))
        self.identifiers = identifiers_in_use(self.client, self.names, self.config)
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
        ):
            self._settle(item, retry_when_busy=True)
            if on_record:
                on_record(self.summary)
        busy, self._busy = self._busy, []
        for _ok, item in streaming_bulk(
            self.client,
            iter(busy),
            chunk_size=CHUNK_SIZE,
            max_retries=8,
            initial_backoff=1,
            max_backoff=30,
            raise_on_error=False,
            raise_on_exception=True,
            yield_ok=True,
        ):
            self._settle(item, retry_when_busy=False)
