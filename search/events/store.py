"""Writing events into their time-based index family, exactly once per event id.

Each event goes to the index of its period — its year by default (`<prefix>-events-YYYY`), or its
month (`-YYYY.MM`, RCU_EVENTS_INDEX_PERIOD) — created on first use with the events mapping behind
the `<prefix>-events` alias, so whole periods age out by deleting an index (search.events.rights).
Every read of a customer's events searches every index of the family: years keep them few (a
360 view over 36 monthly indices took 5 to 10 times as long as over one, bench/RESULTS.md). The
managed node has no index state management plugin, hence periods by time rather than rollover
by size.

Idempotent by event id: the document id is `source:event_id`. Before a batch is written, the ids
already stored in any month are looked up (an event sent again with another time must not land in
a second month); then each new event is written with `op_type=create`, so a concurrent writer of
the same event cannot overwrite it either. The same content again is `unchanged`; other content
under a stored id is refused as a conflict, never silently replaced or dropped."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch, RequestError, TransportError
from opensearchpy.helpers import streaming_bulk

from analyzers.index_settings import events_index_body
from search.events.attach import Attachment, Refusal, Sources, attach_events
from search.events.model import Event, EventConflict, EventOutcome, EventRejected
from search.indices import IndexNames

log = logging.getLogger(__name__)

CONFLICT_REASON = "event id already recorded with other content (an event is a fact: send a correction as a new event id)"
REFUSED_AS_A_WHOLE = (400, 413)
BULK_RETRIES = 8  # a busy node (429) is waited for, with back-off, as an ingest does


def ensure_period(client: OpenSearch, names: IndexNames, year: int, month: int, known: set[str] | None = None) -> str:
    """The index of the period holding (year, month), created with the events mapping behind the
    events alias if missing; `known`: indices this writer already saw."""
    index = names.events_index(year, month)
    if known is not None and index in known:
        return index
    if not client.indices.exists(index=index):
        body = {**events_index_body(1, names.layout.replicas), "aliases": {names.events: {}}}
        try:
            client.indices.create(index=index, body=body)
            log.info("events_index_created index=%s", index)
        except RequestError as error:
            if error.error != "resource_already_exists_exception":  # another writer made it meanwhile
                raise
    if known is not None:
        known.add(index)
    return index


@dataclass
class StoredEvent:
    """What became of one event of a batch: an outcome, or the reason it was refused."""

    event: Event
    outcome: EventOutcome | None = None
    refusal: EventRejected | None = None


def stored_versions(client: OpenSearch, names: IndexNames, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """event key → (index, content hash) of those already stored, in any month."""
    if not keys or not client.indices.exists_alias(name=names.events):
        return {}
    response = client.search(
        index=names.events,
        body={"query": {"ids": {"values": list(keys)}}, "size": len(keys), "_source": ["content_hash"]},
    )
    return {hit["_id"]: (hit["_index"], hit["_source"].get("content_hash", "")) for hit in response["hits"]["hits"]}


OnRecorded = Callable[[list[EventOutcome]], None]
"""Told, after each batch, of the events it recorded (new ones only): what must follow them —
a customer's live segments — hears of it here, in the thread that wrote the batch."""


class EventWriter:
    """Stores batches of events for one process (an ingest, the API): knows which indices exist."""

    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        refusal: Refusal | None = None,
        on_recorded: OnRecorded | None = None,
        sources: Sources | None = None,
        customers: bool = True,
    ) -> None:
        self.client = client
        self.names = names
        self.refusal = refusal  # why an erased person's event is refused (search.rights.suppression)
        self.on_recorded = on_recorded
        self.sources = sources  # whose records the sender may attach to (search.events.attach); None: all
        # Whether each outcome names the customer of an event sent with its record (a get per event
        # of the record links); a file's ingest learns them once per record at its end.
        self.customers = customers
        self._indices: set[str] = set()

    def store(self, events: Sequence[Event], refresh: bool | str = False, now: datetime | None = None) -> list[StoredEvent]:
        """Attach, check and write `events`; one result per event, in order. Never raises for one
        bad event: its neighbours are stored and it carries its reason."""
        now = now or datetime.now(UTC)
        results = [StoredEvent(event) for event in events]
        attachments = attach_events(self.client, self.names, events, self.refusal, self.sources, self.customers)
        pending: dict[str, tuple[StoredEvent, Attachment, dict[str, Any]]] = {}
        for result in results:
            attachment = attachments[id(result.event)]
            if attachment.refusal:
                result.refusal = attachment.refusal
                continue
            document = result.event.document(attachment.record_id or "", now)
            earlier = pending.get(result.event.key)
            if earlier:  # the same id twice in one batch: the first copy stands
                self._same_or_conflict(result, attachment, earlier[2]["content_hash"], document["content_hash"])
                continue
            pending[result.event.key] = (result, attachment, document)
        existing = stored_versions(self.client, self.names, list(pending))
        to_write: list[tuple[StoredEvent, Attachment, dict[str, Any]]] = []
        for key, (result, attachment, document) in pending.items():
            if key in existing:
                self._same_or_conflict(result, attachment, existing[key][1], document["content_hash"])
            else:
                to_write.append((result, attachment, document))
        self._write(to_write, refresh)
        recorded = [result.outcome for result in results if result.outcome and result.outcome.outcome == "recorded"]
        if recorded and self.on_recorded:
            self.on_recorded(recorded)
        return results

    @staticmethod
    def _same_or_conflict(result: StoredEvent, attachment: Attachment, stored_hash: str, new_hash: str) -> None:
        if stored_hash == new_hash:
            result.outcome = EventOutcome(result.event.key, "unchanged", attachment.record_id or "", attachment.customer_id)
        else:
            result.refusal = EventConflict(CONFLICT_REASON)

    def _write(self, batch: list[tuple[StoredEvent, Attachment, dict[str, Any]]], refresh: bool | str) -> None:
        if not batch:
            return
        actions = []
        for _result, _attachment, document in batch:
            index = ensure_period(self.client, self.names, *_year_month(document["at"]), known=self._indices)
            actions.append({"_op_type": "create", "_index": index, "_id": document["event_key"], "_source": document})
        by_key = {document["event_key"]: (result, attachment, document) for result, attachment, document in batch}
        raced: list[str] = []
        for item in self._bulk(actions):
            outcome = item.get("create", {})
            result, attachment, document = by_key[outcome.get("_id", "")]
            status = outcome.get("status", 0)
            if status in (200, 201):
                result.outcome = EventOutcome(result.event.key, "recorded", attachment.record_id or "", attachment.customer_id)
            elif status == 409:
                raced.append(result.event.key)  # written meanwhile by another writer: compared below
            else:
                error = outcome.get("error") or {}
                reason = error.get("reason", "") if isinstance(error, dict) else str(error)
                result.refusal = EventRejected(f"OpenSearch refused the event ({status}): {reason[:300]}")
        if raced:
            self.client.indices.refresh(index=self.names.events)
            existing = stored_versions(self.client, self.names, raced)
            for key in raced:
                result, attachment, document = by_key[key]
                self._same_or_conflict(result, attachment, existing.get(key, ("", ""))[1], document["content_hash"])
        if refresh:
            self.client.indices.refresh(index=self.names.events)

    def _bulk(self, actions: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Bulk results per action; a request the node refuses as a whole is split until each
        refusal has its one culprit (as indexers.ingest does for records)."""
        try:
            yield from (
                item
                for _ok, item in streaming_bulk(
                    self.client,
                    actions,
                    chunk_size=len(actions),
                    max_chunk_bytes=20 * 1024 * 1024,
                    max_retries=BULK_RETRIES,
                    initial_backoff=1,
                    max_backoff=30,
                    raise_on_error=False,
                    raise_on_exception=True,
                    yield_ok=True,
                    filter_path=_BULK_ANSWER,
                )
            )
        except TransportError as error:
            if error.status_code not in REFUSED_AS_A_WHOLE:
                raise
            if len(actions) == 1:
                yield {"create": {"_id": actions[0]["_id"], "status": error.status_code, "error": {"reason": str(error.error)}}}
                return
            middle = len(actions) // 2
            yield from self._bulk(actions[:middle])
            yield from self._bulk(actions[middle:])


# What a bulk answer is read for (each item's id, status and error): the node serializes, and this
# process parses, nothing else of it.
_BULK_ANSWER = ["errors", "items.*._id", "items.*.status", "items.*.error"]


def _year_month(at: str) -> tuple[int, int]:
    moment = datetime.fromisoformat(at).astimezone(UTC)
    return moment.year, moment.month
