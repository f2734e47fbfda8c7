"""Which source record an event belongs to, decided when it is stored.

- `record_id` given: that record, whether or not it is indexed yet (events may arrive before their
  record; they join its customer once it is resolved).
- an identifier (loyalty card, e-mail, phone): the live records holding it. When they all belong to
  one customer (or there is one record), the event goes to the most recently updated of them; when
  they belong to several customers (a shared family e-mail) or to none, it is refused with the
  reason — attaching it to one of them would be a guess.
- a customer id (rcu's own events, an action's outcome): one of the customer's records (the
  first in id order, so the choice is stable).

The customer is never stored with the event: it is read through the record → customer link.
An event of an erased person (its record or identifier on the suppression list) is refused."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from search.events.model import Event, EventRejected, EventSuppressed, EventUnattached
from search.indices import IndexNames
from search.records import LIVE_RECORD

# Identifier kind → the records index field holding its canonical form.
RECORD_FIELD = {"loyalty_card": "loyalty_card", "email": "email", "phone": "phone"}
# Records fetched per identifier at most: more is a placeholder value, not a customer's.
MAX_HOLDERS = 20

Refusal = Callable[[dict[str, Any]], str | None]
Sources = Callable[[str], bool]  # whether the sender may attach events to records of this source


@dataclass(frozen=True)
class Attachment:
    record_id: str | None = None
    customer_id: str | None = None
    refusal: EventRejected | None = None


def customers_of(client: OpenSearch, names: IndexNames, record_ids: Sequence[str]) -> dict[str, str]:
    """record id → customer id, for the records resolution has linked (real-time gets)."""
    ids = sorted(set(record_ids))
    if not ids or not client.indices.exists(index=names.record_customers):
        return {}
    docs = client.mget(index=names.record_customers, body={"ids": ids}, filter_path="docs._id,docs.found,docs._source.customer_id")["docs"]
    return {doc["_id"]: doc["_source"]["customer_id"] for doc in docs if doc.get("found")}


def _holders(client: OpenSearch, names: IndexNames, kind: str, values: set[str]) -> dict[str, list[dict[str, Any]]]:
    """value → the live records holding it (record_id, updated_at), at most MAX_HOLDERS + 1 each."""
    if not values or not client.indices.exists(index=names.records):
        return {}
    field = RECORD_FIELD[kind]
    body = {
        "query": {"bool": {"filter": [{"terms": {field: sorted(values)}}, LIVE_RECORD]}},
        "size": 0,
        "aggs": {
            "values": {
                "terms": {"field": field, "size": len(values)},
                "aggs": {"records": {"top_hits": {"size": MAX_HOLDERS + 1, "_source": ["record_id", "updated_at"]}}},
            }
        },
    }
    response = client.search(index=names.records, body=body)
    return {
        bucket["key"]: [hit["_source"] for hit in bucket["records"]["hits"]["hits"]]
        for bucket in response["aggregations"]["values"]["buckets"]
    }


def _source_of(record_id: str) -> str:
    return record_id.partition(":")[0]


def _by_identifier(kind: str, holders: list[dict[str, Any]], customers: dict[str, str], whose: str = "") -> Attachment:
    label = kind.replace("_", " ")
    if not holders:
        return Attachment(refusal=EventUnattached(f"{kind}: no record holds this {label}{whose}; send the event with its record"))
    if len(holders) > MAX_HOLDERS:
        return Attachment(refusal=EventUnattached(f"{kind}: more than {MAX_HOLDERS} records hold this {label} (a placeholder?)"))
    owners = {customers.get(holder["record_id"], f"record:{holder['record_id']}") for holder in holders}
    if len(owners) > 1:
        unresolved = sum(1 for holder in holders if holder["record_id"] not in customers)
        if unresolved:  # a record not resolved yet is no customer of its own: say what to do
            return Attachment(
                refusal=EventUnattached(
                    f"{kind}: {len(holders)} records hold this {label}, {unresolved} of them not resolved yet; "
                    "run `rcu resolve`, then send the event again (or send it with its record, source:source_id)"
                )
            )
        return Attachment(
            refusal=EventUnattached(f"{kind}: {len(owners)} customers hold this {label}; send the event with its record (source:source_id)")
        )
    chosen = max(holders, key=lambda holder: (holder.get("updated_at") or "", holder["record_id"]))
    return Attachment(chosen["record_id"], customers.get(chosen["record_id"]))


def _customer_records(client: OpenSearch, names: IndexNames, customer_ids: set[str]) -> dict[str, list[str]]:
    if not customer_ids or not client.indices.exists(index=names.customers):
        return {}
    docs = client.mget(index=names.customers, body={"ids": sorted(customer_ids)}, _source_includes="records")["docs"]
    return {doc["_id"]: sorted(doc["_source"].get("records") or []) for doc in docs if doc.get("found")}


def attach_events(
    client: OpenSearch,
    names: IndexNames,
    events: Sequence[Event],
    refusal: Refusal | None = None,
    sources: Sources | None = None,
    customers: bool = True,
) -> dict[int, Attachment]:
    """id(event) → its Attachment (a record, or the reason it has none), for a batch at once.
    `sources`: the sources whose records the sender may attach to (an integrator's key, bound to
    its systems); None for all. The sender then learns nothing of another source's records: a
    record of another source is refused whether it exists or not, and an identifier or a customer
    id is looked for among its own sources' records only. `customers`: whether an event sent with
    its record is told that record's customer (the API answers with it); a file's ingest asks once
    per record at its end instead (indexers.event_ingest), not once per event."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if not event.record_id and event.identifier:
            wanted[event.identifier[0]].add(event.identifier[1])
    if wanted and client.indices.exists(index=names.records):
        # One refresh per batch, so an event naming a record's e-mail or phone a moment after the
        # record was written (by an ingest's bulk without a refresh too) finds it.
        client.indices.refresh(index=names.records)
    holders = {kind: _holders(client, names, kind, values) for kind, values in wanted.items()}
    held_records = [holder["record_id"] for by_value in holders.values() for found in by_value.values() for holder in found]
    direct = [event.record_id for event in events if event.record_id] if customers else []
    linked = customers_of(client, names, [*direct, *held_records])
    records_of = _customer_records(client, names, {event.customer_id for event in events if event.customer_id and not event.record_id})
    whose = " among this key's sources" if sources else ""
    attachments: dict[int, Attachment] = {}
    for event in events:
        if event.record_id and sources and not sources(_source_of(event.record_id)):
            attachment = Attachment(refusal=EventUnattached(f"record: {_source_of(event.record_id)!r} is not a source this key sends for"))
        elif event.record_id:
            attachment = Attachment(event.record_id, linked.get(event.record_id))
        elif event.identifier:
            kind, value = event.identifier
            found = holders.get(kind, {}).get(value, [])
            if sources:
                found = [holder for holder in found if sources(_source_of(holder["record_id"]))]
            attachment = _by_identifier(kind, found, linked, whose)
        elif event.customer_id:
            own = [record for record in records_of.get(event.customer_id, []) if not sources or sources(_source_of(record))]
            attachment = (
                Attachment(own[0], event.customer_id)
                if own
                else Attachment(refusal=EventUnattached(f"customer: no such customer, or it holds no record{whose}"))
            )
        else:
            attachment = Attachment(refusal=EventUnattached("customer: no such customer, or it holds no record"))
        attachments[id(event)] = _checked(attachment, event, refusal)
    return attachments


def _checked(attachment: Attachment, event: Event, refusal: Refusal | None) -> Attachment:
    """The attachment, or a refusal when its record or identifier is an erased person's."""
    if attachment.refusal or refusal is None:
        return attachment
    document: dict[str, Any] = {"record_id": attachment.record_id}
    if event.identifier:
        document[RECORD_FIELD[event.identifier[0]]] = event.identifier[1]
    reason = refusal(document)
    return Attachment(refusal=EventSuppressed(reason)) if reason else attachment
