"""Erasure (GDPR art. 17): one customer taken out of every index rcu owns.

In order: its identifiers go to the suppression list (so a source cannot bring the person back);
its records, record links, events, customer document and statements are deleted; its ids (and those merged
into it) answer 410 Gone from then on; its earlier changes lose their record ids and an `erased`
change tells every source system which of its records to delete (search.changes.erased_change:
the record keys, for the notice period only); the audit keys of its ids are deleted, which leaves every audit
entry about it sealed for good (search.audit_seal: the fact, who and when stay readable, nothing
links them to the person); its values leave the match model's term frequencies, in the same writes (search.rights.erasure_model). Only
the indices a search must show at once are refreshed before it answers (search.rights.erasure_plan.
unrefreshed_indices says why each other one needs none). Deleted documents stay in Lucene segments
until they merge: `expunge_deletes` forces that (README, "Erasure").
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.audit_keys import forget_actions, keys_of
from search.changes import erased_change, numbered_changes, records_in_changes
from search.indices import IndexNames
from search.redirects import ERASED_MARKER
from search.resolve.config import ResolutionConfig
from search.rights.erasure_model import Values, generation_of, model_actions, model_values, record_debt, settle_model_debts, settled
from search.rights.erasure_plan import by_refresh, find_documents, rewrites, searched_indices, write_refreshed, write_unrefreshed
from search.rights.export import former_ids, merged_ids
from search.rights.overlay import CustomerNotFound
from search.rights.suppression import SuppressionKeyMissing, SuppressionList, suppression_actions
from search.rights.trail import pseudonym


@dataclass
class ErasureReport:
    customer_id: str
    erased_at: str
    by: str
    records: int = 0
    tombstones: int = 0  # records its sources had deleted before: ids kept in the index to hold their version
    events: int = 0
    identifiers_suppressed: int = 0
    audit_keys_forgotten: int = 0  # the audit keys of its ids deleted: every entry sealed under them unreadable (search.audit_seal)
    former_ids: list[str] = field(default_factory=list)
    pseudonym: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    def lap(self, step: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[step] = now - started
        return now

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "timings"}


def erase_customer(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    customer_id: str,
    key: bytes | None,
    by: str,
    at: datetime | None = None,
) -> ErasureReport:
    """Erase one customer everywhere; CustomerNotFound when it does not exist (or is already gone).
    `at` is the erasure's date (now; an erasure applied again after a restore keeps its first)."""
    clock = time.perf_counter()
    response = client.get(index=names.customers, id=customer_id, ignore=[404])
    if not response.get("found"):
        if key is not None:  # a retry after the records went but the model update failed finishes it
            settle_model_debts(client, names, key, [customer_id])
        _forget_keys_left(client, names, customer_id)
        raise CustomerNotFound(customer_id)
    if key is None:
        raise SuppressionKeyMissing("erasing needs RCU_SUPPRESSION_KEY: the suppression list keeps erased identifiers as keyed hashes")
    customer = response["_source"]
    record_ids = list(customer.get("records", []))
    records = (
        [d["_source"] for d in client.mget(index=names.records, body={"ids": record_ids})["docs"] if d.get("found")] if record_ids else []
    )
    now = at or datetime.now(UTC)
    ids = sorted({customer_id, *merged_ids(former_ids(client, names, customer_id))})
    report = ErasureReport(customer_id, now.isoformat(), by, records=len(records), former_ids=[i for i in ids if i != customer_id])
    clock = report.lap("get", clock)
    # What was written just before (an event, an audit entry, a change) must be found: one refresh
    # of the indices searched, which costs what they hold unrefreshed (little: their writers'
    # readers refresh anyway).
    client.indices.refresh(index=searched_indices(names), ignore_unavailable=True, allow_no_indices=True)
    clock = report.lap("refresh", clock)
    tombstones = _tombstones(client, names, ids, record_ids)
    report.tombstones = len(tombstones)
    audit_keys = keys_of(client, names, ids)
    report.audit_keys_forgotten = len(audit_keys)
    # A stand-in unrelated to the tokens its sealed entries hold (those stay unlinkable once the key
    # is gone): the marker and the receipt name it, and so do the entries sealed after the erasure.
    report.pseudonym = pseudonym(key, customer_id)
    every_record = [*record_ids, *(t["record_id"] for t in tombstones)]
    found = find_documents(client, names, ids, every_record)
    report.events = found.events
    clock = report.lap("read", clock)

    suppressed = suppression_actions(client, names, key, [*records, *tombstones], now)
    report.identifiers_suppressed = len(suppressed)
    # The notice to the source systems (art. 19): the golden ids and each source's record keys, nothing else.
    notice = erased_change(customer_id, ids, every_record)
    notice["sources"] = sorted({*notice["sources"], *customer.get("sources", [])})
    actions = [
        *suppressed,  # first: a bulk that fails half-way has listed the person, and reapply_erasures finishes it
        *_document_deletions(names, customer_id, every_record),
        *rewrites(found, ids, report.pseudonym),
        *forget_actions(names, audit_keys),  # crypto-shredding: the audit entries stay, nobody can link or read them
        *_gone_markers(names, ids, now, report.pseudonym),
        *numbered_changes(client, names, [notice]),
    ]
    values = model_values(config, records)
    forget = _forget_in_model(client, names, customer_id, values)
    clock = report.lap("prepare", clock)
    if forget:  # recorded before the records go, settled below (or by a retry, reapply_erasures, the model's next load)
        record_debt(client, names, key, customer_id, values)
    clock = report.lap("debt", clock)
    # The record links' deletions travel with the records' in the second request (unrefreshed_indices):
    # links gone a round trip before their records would let a push rebuild them from the records.
    unrefreshed, refreshed = by_refresh(names, [*actions, *forget])
    failed = write_unrefreshed(client, unrefreshed)
    clock = report.lap("write", clock)
    write_refreshed(client, refreshed, failed)
    # A key the audit shipper created after the keyring was read above (before the markers stopped
    # it): read again now that the markers are written, and deleted.
    late_keys = keys_of(client, names, ids)
    if late_keys:
        write_refreshed(client, forget_actions(names, late_keys))
        report.audit_keys_forgotten += len(late_keys)
    clock = report.lap("write_refreshed", clock)
    if forget:
        settled(client, names, customer_id, generation_of(forget))
    report.lap("settle", clock)
    return report


def _forget_keys_left(client: OpenSearch, names: IndexNames, customer_id: str) -> None:
    """A retry of an erasure whose key deletion failed after everything else went (the keyring
    refusing writes while `rcu reindex` copies it) deletes the keys its erased ids still have: the
    customer's own and those of the ids merged into it. Their merges' redirects went with the
    erasure, so the merged ids are found by their `erased` markers, which name the erasure's
    stand-in (`_gone_markers`)."""
    marker = client.get(index=names.redirects, id=ERASED_MARKER.format(customer_id), ignore=[404])
    if not marker.get("found"):
        return
    ids = {customer_id}
    if stand_in := marker["_source"].get("pseudonym"):
        client.indices.refresh(index=names.redirects)  # the erasure wrote its markers unrefreshed
        same_erasure = {"bool": {"filter": [{"term": {"kind": "erased"}}, {"term": {"pseudonym": stand_in}}]}}
        ids |= {hit["_source"]["old_id"] for hit in scan(client, index=names.redirects, query={"query": same_erasure}, size=1000)}
    if left := keys_of(client, names, sorted(ids)):
        write_refreshed(client, forget_actions(names, left))


def _tombstones(client: OpenSearch, names: IndexNames, ids: list[str], record_ids: list[str]) -> list[dict[str, Any]]:
    """Records of the customer its sources deleted before: no longer among its records, their ids
    stay in the records index (a tombstone holds the version, so an older copy never comes back)
    and in the customer's earlier changes. The erasure takes them too; the suppression list holds
    their version's job from then on."""
    named = set(records_in_changes(client, names, ids)) - set(record_ids)
    if not named:
        return []
    docs = client.mget(index=names.records, body={"ids": sorted(named)}, _source_includes=["record_id", "deleted"])["docs"]
    return [d["_source"] for d in docs if d.get("found") and d["_source"].get("deleted")]


def _document_deletions(names: IndexNames, customer_id: str | None, record_ids: list[str]) -> list[dict[str, Any]]:
    """The customer document (when named), the records and their links to customers."""
    actions: list[dict[str, Any]] = [{"_op_type": "delete", "_index": names.customers, "_id": customer_id}] if customer_id else []
    for record_id in record_ids:
        actions.append({"_op_type": "delete", "_index": names.records, "_id": record_id})
        actions.append({"_op_type": "delete", "_index": names.record_customers, "_id": record_id})
    return actions


def _gone_markers(names: IndexNames, ids: list[str], at: datetime, stand_in: str) -> list[dict[str, Any]]:
    """Each erased id gets an `erased` marker (410 Gone) naming the stand-in its audit entries sealed
    after the erasure take (the audit shipper reads it for entries still in a journal): never the
    token its earlier entries hold, which would link them back to the id. Written after the deletion of the
    merges into and splits from the erased ids (find_documents), an earlier marker's included."""
    return [
        {
            "_op_type": "index",
            "_index": names.redirects,
            "_id": ERASED_MARKER.format(old_id),
            "_source": {"old_id": old_id, "kind": "erased", "at": at.isoformat(), "pseudonym": stand_in},
        }
        for old_id in ids
    ]


def _forget_in_model(client: OpenSearch, names: IndexNames, customer_id: str, values: Values) -> list[dict[str, Any]]:
    """The model counts values held by two records or more (term frequencies): the person's go,
    in the erasure's bulk (decrements of their counts' documents)."""
    return model_actions(client, names, customer_id, values)


def reapply_erasures(client: OpenSearch, names: IndexNames, config: ResolutionConfig, key: bytes | None, by: str) -> list[str]:
    """Erase again whoever the suppression list says was erased and the indices still hold — after
    restoring a snapshot older than an erasure. A customer holding a record whose id is on the list
    (without a consent given since) is erased with its first erasure date; a record sharing only
    an e-mail or a phone with an erased person was someone else's and stays. Returns the customers."""
    if key is not None:
        settle_model_debts(client, names, key)
    suppression = SuppressionList.load(client, names, key)
    if not suppression.entries or not client.indices.exists(index=names.records):
        return []
    client.indices.refresh(index=names.records)
    erased: dict[str, str] = {}  # record id → erasure date
    for hit in scan(client, index=names.records, query={"query": {"match_all": {}}, "_source": ["record_id", "consents"]}, size=5000):
        when = suppression.erased_record(hit["_source"])
        if when:
            erased[hit["_source"]["record_id"]] = when
    customers: dict[str, str] = {}
    record_ids = sorted(erased)
    for start in range(0, len(record_ids), 1000):
        for doc in client.mget(index=names.record_customers, body={"ids": record_ids[start : start + 1000]})["docs"]:
            if doc.get("found"):
                customer_id = doc["_source"]["customer_id"]
                customers[customer_id] = max(customers.get(customer_id, ""), erased[doc["_id"]])
    for customer_id, when in sorted(customers.items()):
        with contextlib.suppress(CustomerNotFound):  # a link left to a customer already gone
            erase_customer(client, names, config, customer_id, key, by, at=datetime.fromisoformat(when))
    write_refreshed(client, _document_deletions(names, None, record_ids))  # and those no customer held (never resolved)
    return sorted(customers)


class DeletesStillHeld(Exception):
    """An expunge that could not merge the erased documents away everywhere: the shards whose
    retention leases still cover them (a replica offline, a lease sync slower than the wait)."""

    def __init__(self, report: ExpungeReport) -> None:
        self.report = report
        super().__init__(
            f"deleted documents still on disk: retention leases hold {', '.join(report.held)} "
            f"(docs.deleted {report.deleted_total}); run `rcu subject erase` with --expunge again once every copy is up "
            "and in sync, or raise RCU_EXPUNGE_LEASE_WAIT_S"
        )


@dataclass
class ExpungeReport:
    held: list[str] = field(default_factory=list)  # "index[shard]" whose leases still retain the erasure's operations
    deleted: dict[str, int] = field(default_factory=dict)  # index → docs.deleted re-read after the merge, when not 0

    @property
    def deleted_total(self) -> int:
        return sum(self.deleted.values())

    def summary(self) -> str:
        return f"docs.deleted={self.deleted_total} held={','.join(self.held) or 'none'}"


def expunge_deletes(client: OpenSearch, names: IndexNames, lease_wait_s: float = 180.0) -> ExpungeReport:
    """Merge away the segments' deleted documents now (they stay readable on disk until merged):
    `_forcemerge?only_expunge_deletes=true` over every index rcu owns. Costly on large indices —
    run it after a batch of erasures, not after each one. Returns what is still held: the shards
    whose leases did not pass in time and the indices' docs.deleted after the merge (writes made
    meanwhile count there too); the caller says so (DeletesStillHeld), never "done".

    Two things kept the documents on disk after a bare forced merge (docs.deleted in `_stats`,
    tests.steward.test_erasure_leaves_no_review): OpenSearch deletes are *soft* deletes, kept for
    the shard's operation history while a peer-recovery retention lease still covers them (a lease
    is renewed to the global checkpoint by a background sync, about every 30 s — measured on the
    managed node, OpenSearch 2.x; a replica offline holds its lease until it expires, 12 h by
    default); and Lucene's merge policy skips a segment whose deleted
    documents are under `index.merge.policy.expunge_deletes_allowed` percent of it (10 by default),
    which one person's documents in a large segment always are. So this waits (at most
    `lease_wait_s`, RCU_EXPUNGE_LEASE_WAIT_S) until every lease has passed every operation made before the call, sets the
    percentage to 0 (a dynamic setting used by nothing but this merge), merges, and refreshes: the
    searchers opened before hold the old segments' files until then."""
    every_index = f"{names.prefix}-*"
    held = _wait_for_retention_leases(client, every_index, lease_wait_s)
    client.indices.put_settings(index=every_index, body={"index": {"merge.policy.expunge_deletes_allowed": 0}})
    client.indices.forcemerge(index=every_index, only_expunge_deletes=True, request_timeout=3600)
    client.indices.refresh(index=every_index)
    stats = client.indices.stats(index=every_index, metric="docs")["indices"]
    deleted = {index: s["primaries"]["docs"]["deleted"] for index, s in sorted(stats.items()) if s["primaries"]["docs"]["deleted"]}
    return ExpungeReport(held=held, deleted=deleted)


_Copy = tuple[str, str, str]  # index, shard, node


def _retention(client: OpenSearch, indices: str) -> dict[_Copy, tuple[int | None, int | None]]:
    """(index, shard, node) → (max_seq_no, the lowest seq_no its retention leases still retain);
    max_seq_no None for a copy still starting (no sequence numbers in its stats yet)."""
    stats = client.indices.stats(index=indices, metric="docs", level="shards")
    found: dict[_Copy, tuple[int | None, int | None]] = {}
    for index, shards in stats.get("indices", {}).items():
        for shard, copies in shards.get("shards", {}).items():
            for copy in copies:
                leases = copy.get("retention_leases", {}).get("leases", [])
                lowest = min((lease["retaining_seq_no"] for lease in leases), default=None)
                found[(index, shard, copy.get("routing", {}).get("node", ""))] = (copy.get("seq_no", {}).get("max_seq_no"), lowest)
    return found


def _wait_for_retention_leases(client: OpenSearch, indices: str, wait_s: float) -> list[str]:
    """Until every shard copy's retention leases retain nothing up to its max_seq_no of now (soft
    deleted documents older than that may then be merged away), or `wait_s` passed (checked once
    at least). Returns the shards ("index[shard]") whose copies still hold some: a copy still
    starting, its sequence numbers unknown, counts as holding."""
    client.indices.flush(index=indices)  # the global checkpoint catches up with the last writes
    targets = {copy: max_seq_no for copy, (max_seq_no, _) in _retention(client, indices).items()}
    deadline = time.monotonic() + wait_s
    while True:
        held = sorted({f"{index}[{shard}]" for index, shard, _ in _holding(_retention(client, indices), targets)})
        if not held or time.monotonic() >= deadline:
            return held
        time.sleep(2)


def _holding(now: dict[_Copy, tuple[int | None, int | None]], targets: dict[_Copy, int | None]) -> list[_Copy]:
    """The copies whose leases still retain an operation up to their target, or whose sequence
    numbers are unknown (now, or at the start: a copy still starting). A copy come since the start
    (a new index) holds nothing erased before it."""
    held = []
    for copy, (max_seq_no, lowest) in now.items():
        if copy not in targets:
            continue
        target = targets[copy]
        if max_seq_no is None or target is None or (lowest is not None and lowest <= target):
            held.append(copy)
    return held


async def erased_at(client: Any, names: IndexNames, customer_id: str) -> str | None:
    """When a customer id was erased (its 410 Gone), or None. `client` is an AsyncOpenSearch."""
    response = await client.get(index=names.redirects, id=ERASED_MARKER.format(customer_id), ignore=[404])
    return response["_source"]["at"] if response.get("found") else None
