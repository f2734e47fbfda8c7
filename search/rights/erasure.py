"""Erasure (GDPR art. 17): one customer taken out of every index rcu owns.

In order: its identifiers go to the suppression list (so a source cannot bring the person back);
its records, record links, events, customer document and statements are deleted; its ids (and those merged
into it) answer 410 Gone from then on; its earlier changes lose their record ids and an `erased`
change tells every source system; audit entries about it are pseudonymized (the fact, who and when
stay); its values leave the match model's term frequencies. Deleted documents stay in Lucene
segments until they merge: `expunge_deletes` forces that (README, "Erasure").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from search.changes import append_changes, forget_records_of
from search.events.rights import erase_events
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_of
from search.resolve.store import load_model, save_model
from search.rights.export import former_ids, merged_ids
from search.rights.overlay import CustomerNotFound
from search.rights.suppression import SuppressionKeyMissing, suppress
from search.rights.trail import pseudonym, pseudonymize_entries


@dataclass
class ErasureReport:
    customer_id: str
    erased_at: str
    by: str
    records: int = 0
    events: int = 0
    identifiers_suppressed: int = 0
    audit_entries_pseudonymized: int = 0
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
    client: OpenSearch, names: IndexNames, config: ResolutionConfig, customer_id: str, key: bytes | None, by: str
) -> ErasureReport:
    """Erase one customer everywhere; CustomerNotFound when it does not exist (or is already gone)."""
    clock = time.perf_counter()
    response = client.get(index=names.customers, id=customer_id, ignore=[404])
    if not response.get("found"):
        raise CustomerNotFound(customer_id)
    if key is None:
        raise SuppressionKeyMissing("erasing needs RCU_SUPPRESSION_KEY: the suppression list keeps erased identifiers as keyed hashes")
    customer = response["_source"]
    record_ids = list(customer.get("records", []))
    records = (
        [d["_source"] for d in client.mget(index=names.records, body={"ids": record_ids})["docs"] if d.get("found")] if record_ids else []
    )
    now = datetime.now(UTC)
    ids = sorted({customer_id, *merged_ids(former_ids(client, names, customer_id))})
    report = ErasureReport(customer_id, now.isoformat(), by, records=len(records), former_ids=[i for i in ids if i != customer_id])
    report.pseudonym = pseudonym(key, customer_id)

    clock = report.lap("read", clock)
    report.identifiers_suppressed = suppress(client, names, key, records, now)
    clock = report.lap("suppression_list", clock)
    _delete_documents(client, names, customer_id, record_ids)
    report.events = erase_events(client, names, record_ids)
    _delete_statements(client, names, ids, record_ids)
    _mark_gone(client, names, ids, now)
    clock = report.lap("documents", clock)
    for old_id in ids:
        forget_records_of(client, names, old_id)
    append_changes(client, names, [{"kind": "erased", "customer_id": customer_id, "sources": customer.get("sources", []), "records": []}])
    clock = report.lap("change_feed", clock)
    report.audit_entries_pseudonymized = pseudonymize_entries(client, names, ids, report.pseudonym)
    clock = report.lap("audit", clock)
    _forget_in_model(client, names, config, records)
    clock = report.lap("model", clock)
    _erase_possible_matches(client, names, ids, record_ids)
    client.indices.refresh(index=[names.records, names.customers, names.record_customers, names.redirects])
    report.lap("refresh", clock)
    return report


def _delete_documents(client: OpenSearch, names: IndexNames, customer_id: str, record_ids: list[str]) -> None:
    actions: list[dict[str, Any]] = [{"_op_type": "delete", "_index": names.customers, "_id": customer_id}]
    for record_id in record_ids:
        actions.append({"_op_type": "delete", "_index": names.records, "_id": record_id})
        actions.append({"_op_type": "delete", "_index": names.record_customers, "_id": record_id})
    for ok, item in streaming_bulk(client, actions, chunk_size=1000, max_retries=6, raise_on_error=False):
        result = item["delete"]
        if not ok and result.get("status") != 404:
            raise RuntimeError(f"erasing {result.get('_index')} document failed: {result.get('error')}")


def _delete_statements(client: OpenSearch, names: IndexNames, ids: list[str], record_ids: list[str]) -> None:
    if client.indices.exists(index=names.subject_statements):
        query = {"bool": {"should": [{"terms": {"customer_id": ids}}, {"terms": {"record_ids": record_ids}}]}}
        client.delete_by_query(index=names.subject_statements, body={"query": query}, refresh=True, conflicts="proceed")


def _mark_gone(client: OpenSearch, names: IndexNames, ids: list[str], at: datetime) -> None:
    """Merges into and splits from the erased ids go; each id gets an `erased` marker (410 Gone)."""
    query = {"bool": {"should": [{"terms": {"old_id": ids}}, {"terms": {"new_id": ids}}]}}
    client.delete_by_query(index=names.redirects, body={"query": query}, refresh=True, conflicts="proceed", ignore_unavailable=True)
    body: list[dict[str, Any]] = []
    for old_id in ids:
        body += [
            {"index": {"_index": names.redirects, "_id": f"{old_id}>erased"}},
            {"old_id": old_id, "kind": "erased", "at": at.isoformat()},
        ]
    client.bulk(body=body, refresh=True)


def _forget_in_model(client: OpenSearch, names: IndexNames, config: ResolutionConfig, records: list[dict[str, Any]]) -> None:
    """The model counts values held by two records or more (term frequencies): the person's go."""
    model = load_model(client, names)
    if model is None or not records:
        return
    changed = False
    for features in features_of(records, tuple(config.extra_identifiers)):
        for feature, counts in model.term_frequencies.items():
            value = getattr(features, feature, "")
            if value in counts:
                counts[value] -= 1
                if counts[value] <= 1:
                    del counts[value]
                changed = True
    if changed:
        save_model(client, names, model)


def _erase_possible_matches(client: OpenSearch, names: IndexNames, ids: list[str], record_ids: list[str]) -> None:
    """Possible matches naming the customer, the stewards' decisions (and claims) naming it or its
    records, and its identity conflicts go."""
    queries = {
        names.possible_matches: {"bool": {"should": [{"terms": {"customer_ids": ids}}, {"terms": {"records": record_ids}}]}},
        names.decisions: {"bool": {"should": [{"terms": {"customer_ids": ids}}, {"terms": {"records": record_ids}}]}},
        names.identity_conflicts: {"bool": {"should": [{"terms": {"customer_id": ids}}, {"terms": {"records": record_ids}}]}},
    }
    for index, query in queries.items():
        if client.indices.exists(index=index):
            client.delete_by_query(index=index, body={"query": query}, refresh=True, conflicts="proceed")


def expunge_deletes(client: OpenSearch, names: IndexNames) -> None:
    """Merge away the segments' deleted documents now (they stay readable on disk until merged):
    `_forcemerge?only_expunge_deletes=true` over every index rcu owns. Costly on large indices —
    run it after a batch of erasures, not after each one."""
    client.indices.forcemerge(index=f"{names.prefix}-*", only_expunge_deletes=True, request_timeout=3600)


async def erased_at(client: Any, names: IndexNames, customer_id: str) -> str | None:
    """When a customer id was erased (its 410 Gone), or None. `client` is an AsyncOpenSearch."""
    response = await client.get(index=names.redirects, id=f"{customer_id}>erased", ignore=[404])
    return response["_source"]["at"] if response.get("found") else None
