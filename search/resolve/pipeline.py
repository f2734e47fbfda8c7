"""`rcu resolve`: full runs over every record, incremental runs over the records an ingest touched,
and real-time resolution of one record — one engine (scoring.resolve_records) under all three."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from search.changes import BLOCK as CHANGES_BLOCK
from search.changes import COMPARED_FIELDS, append_changes, numbered_changes
from search.indices import IndexNames
from search.redirects import erased_among
from search.resolve.blocking import blocking_keys
from search.resolve.config import ResolutionConfig
from search.resolve.constraints import CompiledRules
from search.resolve.decision_rules import all_rules, rules_touching, together_records
from search.resolve.errors import ModelMissing
from search.resolve.explain import explain_pair
from search.resolve.features import RecordFeatures, features_from_document, features_of
from search.resolve.identifiers import attribute_candidates
from search.resolve.identity_conflicts import save_identity_conflicts
from search.resolve.ids import Redirect, assign_ids, revive_ids
from search.resolve.model import MatchModel
from search.resolve.possible_store import CustomerChanges, relation_document, save_possible_matches
from search.resolve.scoring import Resolution, resolve_records
from search.resolve.store import (
    Refresh,
    candidate_records,
    current_assignment,
    customer_document,
    ensure_resolution_indices,
    get_records,
    last_run_watermark,
    load_model,
    records_ingested_since,
    save_model,
    save_watermark,
    scan_live_records,
    stored_customers_of,
    update_blocking_keys,
    write_customers,
    write_redirects,
)
from search.resolve.survivorship import golden_record
from search.rights.overlay import subject_changes

log = logging.getLogger(__name__)


@dataclass
class ResolveReport:
    records: int = 0
    customers: int = 0
    customers_written: int = 0
    customers_removed: int = 0
    merges: int = 0
    splits: int = 0
    candidate_pairs: int = 0
    links_refused: int = 0
    possible_matches: int = 0
    frequent_keys: dict[str, int] = field(default_factory=dict)
    relaxed_rules: dict[str, str] = field(default_factory=dict)
    detected_identifiers: dict[str, str] = field(default_factory=dict)
    defaults_used: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    customer_ids: dict[str, str] = field(default_factory=dict)
    removed_ids: list[str] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    decisions_skipped: list[str] = field(default_factory=list)  # decisions a newer one overrode entirely

    def line(self) -> str:
        timing = " ".join(f"{k}_s={v:.1f}" for k, v in self.timings.items())
        return (
            f"records={self.records} customers={self.customers} written={self.customers_written} removed={self.customers_removed} "
            f"merges={self.merges} splits={self.splits} candidate_pairs={self.candidate_pairs} links_refused={self.links_refused} "
            f"possible_matches={self.possible_matches} "
            f"frequent_keys={len(self.frequent_keys)} {timing}"
        )


class _Stopwatch:
    def __init__(self, report: ResolveReport) -> None:
        self.report = report
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.report.timings[name] = now - self.last
        self.last = now


def _clusters(documents: list[dict[str, Any]], resolution: Resolution) -> dict[int, list[dict[str, Any]]]:
    """The records of each cluster, by cluster label."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for document, label in zip(documents, resolution.clustering.labels, strict=True):
        groups[label].append(document)
    return groups


def _stable_ids(
    client: OpenSearch, names: IndexNames, clusters: list[list[str]], previous: dict[str, str]
) -> tuple[list[str], list[Redirect]]:
    """search.resolve.ids.assign_ids, never handing out an erased id again: a person who comes back
    after their erasure (with a newer consent) derives the same id from the same record ids, and
    would inherit the erased customer's 410, its changes and its audit pseudonym."""
    retired: set[str] = set()
    while True:
        ids, events = assign_ids(clusters, previous, retired)
        erased = erased_among(client, names, sorted(set(ids) - set(previous.values()) - retired))
        if not erased:
            return ids, events
        retired |= erased


def _apply(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    clusters: dict[int, list[dict[str, Any]]],
    previous: dict[str, str],
    previous_customers: set[str],
    report: ResolveReport,
    write_all: bool,
    now: datetime,
    refresh: Refresh = False,
    stored: dict[str, dict[str, Any]] | None = None,
    revive: dict[str, str] | None = None,
    weak: frozenset[str] = frozenset(),
) -> tuple[dict[int, str], CustomerChanges]:
    """Give clusters their stable ids, write the customers that changed (all of them when
    `write_all`: a full run refreshes every golden record), remove the vanished ones. Nothing
    waits for a refresh: the next resolution reads links and customers with real-time gets.
    `revive` (record → id, an undone decision's) gives back ids a decision took; `weak`: records
    joined on names alone (an item of the steward's queue).
    Returns each cluster label's customer id, and what happened to customer ids."""
    record_groups = [[r["record_id"] for r in cluster] for cluster in clusters.values()]
    ids, events = _stable_ids(client, names, record_groups, previous)
    if revive:
        ids, events = revive_ids(record_groups, ids, events, previous, revive)
    previous_sizes = Counter(previous.values())
    documents = []
    written_members: list[list[dict[str, Any]]] = []
    links: dict[str, str] = {}
    for customer_id, members in zip(ids, clusters.values(), strict=True):
        report.customer_ids.update((r["record_id"], customer_id) for r in members)
        links.update((r["record_id"], customer_id) for r in members if write_all or previous.get(r["record_id"]) != customer_id)
        unchanged = previous_sizes[customer_id] == len(members) and all(previous.get(r["record_id"]) == customer_id for r in members)
        if unchanged and not write_all:
            continue
        documents.append(customer_document(customer_id, members, golden_record(members, config), now))
        written_members.append(members)
    removed = sorted(previous_customers - set(ids))
    unlinked = sorted(set(previous) - set(report.customer_ids))
    # Consents and rectifications (search.rights), and the change feed (search.changes).
    changes = subject_changes(client, names, documents, written_members, removed, events, everything=write_all, stored=stored)
    # A few changes (real time, an incremental run) go in the customers' own bulk request; a full
    # run's, by blocks after it.
    together = numbered_changes(client, names, changes) if len(changes) <= CHANGES_BLOCK else []
    threads = 2 if write_all else 1
    write_customers(client, names, documents, removed, links, unlinked, bulk_threads=threads, refresh=refresh, also=together)
    write_redirects(client, names, events, now, refresh=refresh)
    if not together:
        append_changes(client, names, changes)
    written = [(d["customer_id"], m) for d, m in zip(documents, written_members, strict=True)]
    save_identity_conflicts(client, names, written, removed, write_all, now, weak)
    report.redirects = events
    report.customers = len(ids)
    report.customers_written = len(documents)
    report.customers_removed = len(removed)
    report.removed_ids = removed
    report.merges = sum(1 for e in events if e.kind == "merge")
    report.splits = sum(1 for e in events if e.kind == "split")
    merged = {e.old_id: e.new_id for e in events if e.kind == "merge"}
    return dict(zip(clusters, ids, strict=True)), CustomerChanges(None if write_all else set(ids), previous_customers, merged, set(removed))


def _save_possible_matches(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    resolution: Resolution,
    features: list[RecordFeatures],
    customer_of: dict[int, str],
    changes: CustomerChanges,
    report: ResolveReport,
    now: datetime,
) -> None:
    """Store the run's possible matches between customers, each with its explanation."""
    labels = resolution.clustering.labels
    found = [
        relation_document(
            match,
            (customer_of[labels[match.left]], customer_of[labels[match.right]]),
            explain_pair(features[match.left], features[match.right], resolution.model, config).as_dict(),
        )
        for match in resolution.possible_matches
    ]
    save_possible_matches(client, names, found, changes, now)
    report.possible_matches = len(found)


def resolve_since_last_run(client: OpenSearch, names: IndexNames, config: ResolutionConfig, batch: int = 5000) -> ResolveReport:
    """What `rcu resolve` does after the first full run: only the records ingested since the last
    run, with their neighbours. Falls back to a full run when there was none."""
    watermark = last_run_watermark(client, names)
    if watermark is None or load_model(client, names) is None:
        return resolve_all(client, names, config)
    started = datetime.now(UTC)
    touched = records_ingested_since(client, names, watermark)
    total = ResolveReport(records=len(touched))
    for start in range(0, len(touched), batch):
        part = resolve_touched(client, names, config, touched[start : start + batch])
        total.customers_written += part.customers_written
        total.customers_removed += part.customers_removed
        total.merges += part.merges
        total.splits += part.splits
        total.candidate_pairs += part.candidate_pairs
        total.possible_matches += part.possible_matches
        total.customer_ids.update(part.customer_ids)
        total.removed_ids += part.removed_ids
    save_watermark(client, names, started)
    return total


def resolve_all(client: OpenSearch, names: IndexNames, config: ResolutionConfig, retrain: bool = True) -> ResolveReport:
    """Resolve every live record: train the model (unless told to reuse it), cluster, write customers."""
    started = datetime.now(UTC)
    report = ResolveReport()
    watch = _Stopwatch(report)
    ensure_resolution_indices(client, names)
    # In record id order: the same records give the same model and customers, whatever order the shards answer in.
    documents = sorted(scan_live_records(client, names), key=lambda d: d["record_id"])
    previous_model = load_model(client, names)
    model = None if retrain else previous_model
    if model is None:
        features = features_of(documents, tuple(config.extra_identifiers), attribute_candidates(documents, config.identifier_detection))
    else:
        features = features_of(documents, model.identifiers)
    previous = current_assignment(client, names)
    report.records = len(documents)
    rules = all_rules(client, names)
    report.decisions_skipped = rules.skipped
    watch.lap("load")
    resolution = resolve_records(features, config, model, rules.constraints_for([d["record_id"] for d in documents]))
    _fill(report, resolution)
    watch.lap("resolve")
    if model is None:
        save_model(client, names, resolution.model)
        _block_on_new_identifiers(client, names, features, resolution.model, previous_model, config)
    now = datetime.now(UTC)
    customer_of, changes = _apply(
        client,
        names,
        config,
        _clusters(documents, resolution),
        previous,
        set(previous.values()),
        report,
        True,
        now,
        weak=_weak_records(documents, resolution),
    )
    _save_possible_matches(client, names, config, resolution, features, customer_of, changes, report, now)
    client.indices.refresh(
        index=[names.customers, names.record_customers, names.redirects, names.possible_matches, names.identity_conflicts]
    )
    watch.lap("write")
    save_watermark(client, names, started)
    for key, size in sorted(resolution.frequent_keys.items(), key=lambda item: -item[1])[:20]:
        log.warning("frequent_blocking_key key=%s records=%s", key, size)
    for rule, reason in resolution.model.relaxed_rules.items():
        log.warning("never_merge_rule_relaxed rule=%s reason=%r", rule, reason)
    return report


def _weak_records(documents: list[dict[str, Any]], resolution: Resolution) -> frozenset[str]:
    """The records on either side of a link resting on names alone that joined two groups."""
    pairs = resolution.scored.pairs
    return frozenset(documents[int(i)]["record_id"] for k in resolution.clustering.weak_links for i in pairs[k])


def _fill(report: ResolveReport, resolution: Resolution) -> None:
    report.candidate_pairs = len(resolution.scored.pairs)
    report.links_refused = len(resolution.clustering.refused_links)
    report.frequent_keys = resolution.frequent_keys
    report.relaxed_rules = resolution.model.relaxed_rules
    report.detected_identifiers = resolution.model.detected_identifiers
    report.defaults_used = resolution.model.defaults_used


def _block_on_new_identifiers(
    client: OpenSearch,
    names: IndexNames,
    features: list[RecordFeatures],
    model: MatchModel,
    previous: MatchModel | None,
    config: ResolutionConfig,
) -> None:
    """Identifiers the records were not indexed with (found in the data by this run) become part of
    their stored blocking keys, so the real-time path finds the candidates this run found."""
    known = set(previous.identifiers if previous is not None else config.extra_identifiers)
    new = set(model.identifiers) - known
    if new:
        update_blocking_keys(client, names, {f.record_id: blocking_keys(f) for f in features if new & f.identifiers.keys()})


def resolve_touched(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    record_ids: list[str],
    model: MatchModel | None = None,
    documents: list[dict[str, Any]] | None = None,
    refresh: Refresh = False,
    revive: dict[str, str] | None = None,
) -> ResolveReport:
    """Re-resolve the neighbourhood of some records: them, their candidates, the records the
    stewards' decisions bind to them, and every record of the customers any of those belong to —
    then write only what changed. `documents`, when the caller holds the touched records as just
    indexed, saves fetching them again; `refresh` makes the customers written visible to searches
    before this returns (a pushed record's answer); `revive` gives back ids (an undone decision)."""
    report = ResolveReport()
    watch = _Stopwatch(report)
    model = model or load_model(client, names)
    if model is None:
        raise ModelMissing("no match model yet: run `rcu resolve --full` once")
    ensure_resolution_indices(client, names)
    extra = model.identifiers
    touched = documents if documents is not None else get_records(client, names, record_ids)
    keys = [blocking_keys(features_from_document(d, extra)) for d in touched]
    universe = candidate_records(client, names, keys, config.max_block_size, config.max_name_block_size)
    universe.update((d["record_id"], d) for d in touched)
    rules = _neighbourhood_rules(client, names, set(record_ids) | set(universe), universe)
    # The stored customers with what the change feed compares: read once, here.
    stored = stored_customers_of(client, names, set(record_ids) | set(universe), COMPARED_FIELDS)
    customers = {customer_id: document["records"] for customer_id, document in stored.items()}
    members = {r for records in customers.values() for r in records}
    universe.update((d["record_id"], d) for d in get_records(client, names, members - set(universe)))
    documents = [universe[r] for r in sorted(universe)]
    watch.lap("fetch")
    previous = {r: c for c, records in customers.items() for r in records}
    features = features_of(documents, extra)
    resolution = resolve_records(features, config, model, rules.constraints_for([d["record_id"] for d in documents]))
    _fill(report, resolution)
    report.records = len(documents)
    report.decisions_skipped = rules.skipped
    watch.lap("resolve")
    now = datetime.now(UTC)
    customer_of, changes = _apply(
        client,
        names,
        config,
        _clusters(documents, resolution),
        previous,
        set(customers),
        report,
        False,
        now,
        refresh,
        stored,
        revive,
        _weak_records(documents, resolution),
    )
    _save_possible_matches(client, names, config, resolution, features, customer_of, changes, report, now)
    watch.lap("write")
    return report


def _neighbourhood_rules(client: OpenSearch, names: IndexNames, record_ids: set[str], universe: dict[str, dict[str, Any]]) -> CompiledRules:
    """The decisions naming the neighbourhood's records; the records they put together with those
    join the universe (their customers follow, with every record)."""
    rules = rules_touching(client, names, record_ids)
    missing = together_records(rules) - set(universe)
    if missing:
        universe.update((d["record_id"], d) for d in get_records(client, names, missing))
    return rules
