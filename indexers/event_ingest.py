"""`rcu ingest` of event files: every line validated by the event contract, attached to its record
and stored once per event id (search.events.store), in batches, `threads` batches in flight.

No event can stop a run: every line ends up recorded, unchanged or rejected with a reason in the
rejects file (a conflict under a stored id, an identifier no single customer holds, an erased
person's event, a line breaking the contract).

The customers whose events are new (`touched`, whose segments follow) are read once per record at
the end of the run, not with each batch: a file of millions of events names each record hundreds
of times, and each batch's multi-get of the record links was a real-time get per event."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from opensearchpy import OpenSearch

from analyzers.caching import batch_caches
from indexers.contract import RecordRejected
from indexers.event_contract import EventClock, validate_event
from indexers.readers import SourceLine
from indexers.report import RejectsReport
from search.events.attach import customers_of
from search.events.model import Event, EventOutcome, EventSuppressed
from search.events.store import EventWriter, StoredEvent
from search.indices import IndexNames
from search.rights.suppression import SuppressionList

log = logging.getLogger(__name__)

BATCH = 1000
LINKS_READ = 5000  # record ids per multi-get of the record links at the end of a run
EVENT_OUTCOMES = ("recorded", "unchanged", "rejected")


@dataclass
class EventSummary:
    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return self.outcomes["rejected"]

    def as_dict(self) -> dict[str, int]:
        return {"read": self.read, **{name: self.outcomes[name] for name in EVENT_OUTCOMES}}

    def line(self) -> str:
        return "events: " + " ".join(f"{key}={value}" for key, value in self.as_dict().items())


@dataclass
class _Line:
    line: SourceLine
    event: Event


class EventIngestion:
    """One run over event files: reads, validates, attaches, writes, and accounts for every line."""

    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        report: RejectsReport,
        threads: int = 2,
        clock: EventClock | None = None,
        suppression_key: bytes | None = None,
    ) -> None:
        self.client = client
        self.names = names
        self.report = report
        self.threads = threads
        self.clock = clock or EventClock()
        self.suppression_key = suppression_key
        self.summary = EventSummary()
        self.touched: set[str] = set()  # customers with a new event, as linked when the run ended
        self._recorded_on: set[str] = set()  # records with a new event

    def _reject(self, line: SourceLine, reason: str, copy: bool = True) -> None:
        self.summary.outcomes["rejected"] += 1
        self.report.rejected(line.file, line.line, line.raw if copy else "", reason)

    def _batches(self, lines: Iterator[SourceLine]) -> Iterator[list[_Line]]:
        batch: list[_Line] = []
        for line in lines:
            self.summary.read += 1
            if line.error or line.payload is None:
                self._reject(line, line.error or "no event")
                continue
            try:
                batch.append(_Line(line, validate_event(line.payload, self.clock)))
            except RecordRejected as rejected:
                self._reject(line, rejected.reason)
                continue
            except Exception as error:
                log.exception("event_not_processed file=%s line=%s", line.file, line.line)
                self._reject(line, f"could not be processed ({type(error).__name__}); see the log")
                continue
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _settle(self, batch: list[_Line], stored: list[StoredEvent]) -> None:
        for item, result in zip(batch, stored, strict=True):
            if result.refusal is not None:
                # An erased person's event is not copied into the rejects file.
                self._reject(item.line, result.refusal.reason, copy=not isinstance(result.refusal, EventSuppressed))
            elif result.outcome is not None:
                self.summary.outcomes[result.outcome.outcome] += 1

    def _heard(self, outcomes: list[EventOutcome]) -> None:
        self._recorded_on.update(outcome.record_id for outcome in outcomes)

    @batch_caches()
    def run(self, lines: Iterator[SourceLine], on_batch: Callable[[EventSummary], None] | None = None) -> EventSummary:
        """Store every event of `lines`; `threads` batches are written while the next is read."""
        suppression = SuppressionList.load(self.client, self.names, self.suppression_key)
        writer = EventWriter(self.client, self.names, suppression.refusal, self._heard, customers=False)
        in_flight: list[tuple[list[_Line], Future[list[StoredEvent]]]] = []
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="events") as pool:
            for batch in self._batches(lines):
                in_flight.append((batch, pool.submit(writer.store, [item.event for item in batch])))
                while len(in_flight) >= self.threads:
                    done, future = in_flight.pop(0)
                    self._settle(done, future.result())
                    if on_batch:
                        on_batch(self.summary)
            for done, future in in_flight:
                self._settle(done, future.result())
        if self.client.indices.exists_alias(name=self.names.events):
            self.client.indices.refresh(index=self.names.events)
        records = sorted(self._recorded_on)
        for start in range(0, len(records), LINKS_READ):
            self.touched.update(customers_of(self.client, self.names, records[start : start + LINKS_READ]).values())
        log.info("event_ingest_done %s", self.summary.line())
        return self.summary
