"""`rcu resolve`: full runs over every record, incremental runs over the records an ingest touched,
and real-time resolution of one record — one engine (scoring.resolve_records) under all three."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch, TransportError

from analyzers.caching import batch_caches
from search.changes import BLOCK as CHANGES_BLOCK
from search.changes import COMPARED_FIELDS, append_changes, numbered_changes
from search.indices import IndexNames
from search.redirects import erased_among
from search.resolve.blocking import blocking_keys
from search.resolve.config import ResolutionConfig
from search.resolve.constraints import CompiledRules, DecisionRule
from search.resolve.decision_rules import all_rules, rules_in, rules_touching, together_records, touching_query
from search.resolve.explain import explain_possible_matches
from search.resolve.features import FeaturesOnce, RecordFeatures, features_from_document, features_of
from search.resolve.identifiers import attribute_candidates
from search.resolve.identity_conflicts import identity_conflict_actions, save_identity_conflicts
from search.resolve.ids import Redirect, assign_ids, new_customer_id, revive_ids
from search.resolve.model import MatchModel
from search.resolve.possible import customers_without_relation, most_probable_per_customer
from search.resolve.possible_store import (
    CustomerChanges,
    possible_match_actions,
    relation_document,
    save_possible_matches,
    stored_relations,
)
from search.resolve.scoring import Resolution, resolve_records
from search.resolve.store import (
    LIVE_RECORDS,
    Refresh,
    blocking_keys_current,
    bulk_write_mode,
    candidate_records,
    current_assignment,
    customer_actions,
    customer_document,
    ensure_resolution_indices,
    get_records,
    golden_rules_key,
    last_run_watermark,
    left_unrefreshed_by_full_run,
    load_model,
    mark_blocking_keys_current,
    node_cpu_ms,
    read_model,
    records_ingested_since,
    redirect_actions,
    resolution_hash,
    save_model,
    save_watermark,
    scan_links,
    scan_live_records,
    send_actions,
    stored_customers_of,
    update_blocking_keys,
    write_customers,
    write_redirects,
    write_streams,
)
from search.resolve.survivorship import golden_record
from search.rights.overlay import subject_changes
from search.rights.statements import STATEMENTS_PER_SEARCH, statements_in, statements_of, statements_query

log = logging.getLogger(__name__)


@dataclass
class ResolveReport:
    records: int = 0
    customers: int = 0
    customers_written: int = 0
    links_written: int = 0
    partitions: int = 1
    largest_component: int = 0  # of the candidate graph (a partitioned run)
    largest_scored_component: int = 0  # of the scored graph: what one partition must hold whole
    # Comparison vectors a partitioned run computed: training's sample (compared on its own) and
    # scoring's, each candidate pair compared once in scoring; the partitions reuse scoring's.
    pairs_compared: int = 0
    spool_mb: float = 0.0  # on disk, for a partitioned run (search.resolve.spool)
    customers_removed: int = 0
    merges: int = 0
    splits: int = 0
    candidate_pairs: int = 0
    links_refused: int = 0
    possible_matches: int = 0
    # Possible matches left out because a customer held max_possible_matches_per_customer more probable ones.
    possible_matches_beyond_bound: int = 0
    # Customers holding some possible match of which the bound kept none (the bound must leave none).
    customers_without_possible_match: int = 0
    frequent_keys: dict[str, int] = field(default_factory=dict)
    relaxed_rules: dict[str, str] = field(default_factory=dict)
    detected_identifiers: dict[str, str] = field(default_factory=dict)
    defaults_used: dict[str, str] = field(default_factory=dict)
    u_corrections: dict[str, str] = field(default_factory=dict)  # comparison/level → how u was corrected
    weak_link_bar: float | None = None  # estimated from the data (search.resolve.weak_links); None: the default
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # stage → CPU seconds, of this process and of the nodes
    # stage → this process's peak memory during that stage (a partitioned run; on Linux exact when the
    # stage set the process's highest mark, else sampled every 50 ms: search.resolve.stage_memory;
    # elsewhere the run's peak so far). No process-wide counter is reset.
    peak_mb: dict[str, float] = field(default_factory=dict)
    spool_memory_mb: dict[str, float] = field(default_factory=dict)  # stage → DuckDB's memory at its end (part of the peak)
    customer_ids: dict[str, str] = field(default_factory=dict)
    removed_ids: list[str] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    decisions_skipped: list[str] = field(default_factory=list)  # decisions a newer one overrode entirely
    # Records whose stored blocking keys a rekey could not rewrite: while any is left, the index is not
    # marked as keyed by today's rules, so the next full run rewrites them again.
    keys_not_rewritten: int = 0

    def line(self) -> str:
        timing = " ".join([*(f"{k}_s={v:.1f}" for k, v in self.timings.items()), *(f"{k}_cpu_s={v:.1f}" for k, v in self.cpu.items())])
        return (
            f"records={self.records} customers={self.customers} written={self.customers_written} links_written={self.links_written} "
            f"removed={self.customers_removed} "
            f"merges={self.merges} splits={self.splits} candidate_pairs={self.candidate_pairs} links_refused={self.links_refused} "
            f"possible_matches={self.possible_matches} possible_matches_beyond_bound={self.possible_matches_beyond_bound} "
            f"customers_without_possible_match={self.customers_without_possible_match} "
            + (
                f"partitions={self.partitions} largest_component={self.largest_component} "
                f"largest_scored_component={self.largest_scored_component} pairs_compared={self.pairs_compared} "
                f"spool_mb={self.spool_mb:.0f} "
                if self.spool_mb
                else ""
            )
            + (f"keys_not_rewritten={self.keys_not_rewritten} " if self.keys_not_rewritten else "")
            + f"frequent_keys={len(self.frequent_keys)} {timing}"
            + "".join(f" {k}_peak_mb={v:.0f}" for k, v in self.peak_mb.items())
            + "".join(f" {k}_duckdb_mb={v:.0f}" for k, v in self.spool_memory_mb.items())
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


ErasedAmong = Callable[[list[str]], set[str]]
# Touched records whose own customers' erasures are read ahead (_erased_read_ahead): a push's one, a
# steward decision's few; past it, by real-time gets after the clustering only.
READ_AHEAD_AT_MOST = 50


def _stable_ids(
    client: OpenSearch, names: IndexNames, clusters: list[list[str]], previous: dict[str, str], erased_of: ErasedAmong | None = None
) -> tuple[list[str], list[Redirect]]:
    """search.resolve.ids.assign_ids, never handing out an erased id again: a person who comes back
    after their erasure (with a newer consent) derives the same id from the same record ids, and
    would inherit the erased customer's 410, its changes and its audit pseudonym. `erased_of`:
    which of some ids were erased (erased_among, or _erased_read_ahead's answer)."""
    erased_of = erased_of or (lambda ids: erased_among(client, names, ids))
    retired: set[str] = set()
    while True:
        ids, events = assign_ids(clusters, previous, retired)
        erased = erased_of(sorted(set(ids) - set(previous.values()) - retired))
        if not erased:
            return ids, events
        retired |= erased


@dataclass
class StoredState:
    """What a full run compares its result with before writing, read once at its start: a customer
    is rewritten only when its resolution hash changed, a record link only when it points elsewhere."""

    hashes: dict[str, str]  # customer_id → the resolution hash stored with it
    links: dict[str, str]  # record_id → customer_id, as the record links index holds them
    statements: dict[str, list[dict[str, Any]]]  # record_id → the statements naming it
    rules_key: str  # search.resolve.store.golden_rules_key


def _erased_read_ahead(pool: Executor, client: OpenSearch, names: IndexNames, record_ids: list[str]) -> ErasedAmong:
    """erased_among, with the ids the touched records would found customers under asked at once on
    `pool` (a new customer's id derives from its smallest record id: search.resolve.ids), beside the
    neighbourhood's other reads: a pushed newcomer (two pushes in three at 100k) founds its own
    customer, and its id's erasure was one more request its caller waited for after the clustering.
    Other ids (a split's part, a salted id) are asked when known, as before; so are all of them
    for a larger piece of work (an incremental run's batch), whose records mostly join customers."""
    if len(record_ids) > READ_AHEAD_AT_MOST:
        return lambda customer_ids: erased_among(client, names, customer_ids)
    ahead = sorted({new_customer_id(record_id, set()) for record_id in record_ids})
    reading = pool.submit(erased_among, client, names, ahead)

    def erased(customer_ids: list[str]) -> set[str]:
        rest = sorted(set(customer_ids) - set(ahead))
        return (reading.result() & set(customer_ids)) | erased_among(client, names, rest)

    return erased


def _apply(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    clusters: dict[int, list[dict[str, Any]]],
    previous: dict[str, str],
    previous_customers: set[str],
    report: ResolveReport,
    now: datetime,
    refresh: Refresh = False,
    stored: StoredState | None = None,
    write_threads: int = 1,
    stored_docs: dict[str, dict[str, Any]] | None = None,
    revive: dict[str, str] | None = None,
    weak: frozenset[str] = frozenset(),
    pending: NeighbourhoodWrites | None = None,
    statements: dict[str, list[dict[str, Any]]] | None = None,
    changed_records: frozenset[str] = frozenset(),
    erased_of: ErasedAmong | None = None,
) -> tuple[dict[int, str], CustomerChanges]:
    """Give clusters their stable ids, write the customers that changed, remove the vanished ones.
    A full run (`stored` given) owns every customer and compares each one's resolution hash with
    the stored one; a neighbourhood run compares memberships. Nothing waits for a refresh: the next
    resolution reads links and customers with real-time gets. `revive` (record → id, an undone
    decision's) gives back ids a decision took; `weak`: records joined on names alone (an item of
    the steward's queue). Returns each cluster label's customer id, and what happened to customer ids.
    `pending`: a neighbourhood's writes are collected there, for its caller to send; `statements`:
    the statements naming the clusters' records, read by the caller (a neighbourhood's);
    `changed_records`: records whose values changed (a push, an ingest), whose customers a
    neighbourhood run rewrites even when its members stay the same; `erased_of`: _stable_ids'."""
    full = stored is not None
    if stored is None:
        if statements is None:
            statements = statements_of(client, names, [r["record_id"] for cluster in clusters.values() for r in cluster])
        stored = StoredState({}, previous, statements, golden_rules_key(config))
    record_groups = [[r["record_id"] for r in cluster] for cluster in clusters.values()]
    ids, events = _stable_ids(client, names, record_groups, previous, erased_of)
    if revive:
        ids, events = revive_ids(record_groups, ids, events, previous, revive)
    previous_sizes = Counter(previous.values())
    documents = []
    written_members: list[list[dict[str, Any]]] = []
    links: dict[str, str] = {}
    assigned: dict[str, str] = {}
    for customer_id, members in zip(ids, clusters.values(), strict=True):
        assigned.update((r["record_id"], customer_id) for r in members)
        links.update((r["record_id"], customer_id) for r in members if stored.links.get(r["record_id"]) != customer_id)
        digest = resolution_hash(customer_id, members, stored.statements, stored.rules_key)
        if full:
            if stored.hashes.get(customer_id) == digest:
                continue
        elif (
            previous_sizes[customer_id] == len(members)
            and all(previous.get(r["record_id"]) == customer_id for r in members)
            and not any(r["record_id"] in changed_records for r in members)
        ):
            continue
        documents.append({**customer_document(customer_id, members, golden_record(members, config), now), "resolution_hash": digest})
        written_members.append(members)
    report.customer_ids.update(assigned)
    removed = sorted(previous_customers - set(ids))
    unlinked = sorted(set(stored.links) - set(assigned))
    # Consents and rectifications (search.rights), and the change feed (search.changes).
    changes = subject_changes(
        client,
        names,
        documents,
        written_members,
        removed,
        events,
        stored=stored_docs,
        statements=stored.statements,
        stored_ids=previous_customers if full else None,
    )
    written = [(d["customer_id"], m) for d, m in zip(documents, written_members, strict=True)]
    # A few changes (real time, an incremental run) are written with the customers; a full run's,
    # by blocks after them.
    together = len(changes) <= CHANGES_BLOCK
    if pending is not None and together:
        # A neighbourhood's writes are sent by its caller (send_neighbourhood), its changes numbered there.
        pending.actions += customer_actions(names, documents, removed, links, unlinked)
        pending.changes += changes
        pending.actions += redirect_actions(names, events, now)
        pending.actions += identity_conflict_actions(names, written, removed, False, now, weak)
    else:
        also = numbered_changes(client, names, changes) if together else []
        # A full run's requests are large: waited for as long as a loaded node takes (ScaleConfig.write_timeout_s).
        timeout = config.scale.write_timeout_s if full else None
        write_customers(
            client,
            names,
            documents,
            removed,
            links,
            unlinked,
            bulk_threads=write_threads,
            refresh=refresh,
            also=also,
            request_timeout=timeout,
        )
        write_redirects(client, names, events, now, refresh=refresh)
        # Only the customers written change their conflicts: the others' stored ones stand (a full run
        # writes only what changed, so it does not start from none).
        save_identity_conflicts(client, names, written, removed, False, now, weak, previous_customers if full else None)
    if not together:
        append_changes(client, names, changes)
    report.redirects += events
    report.customers += len(ids)
    report.customers_written += len(documents)
    report.links_written += len(links)
    report.customers_removed += len(removed)
    report.removed_ids += removed
    report.merges += sum(1 for e in events if e.kind == "merge")
    report.splits += sum(1 for e in events if e.kind == "split")
    merged = {e.old_id: e.new_id for e in events if e.kind == "merge"}
    return dict(zip(clusters, ids, strict=True)), CustomerChanges(None if full else set(ids), previous_customers, merged, set(removed))


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
    pending: NeighbourhoodWrites | None = None,
    stored: list[dict[str, Any]] | None = None,
) -> None:
    """Store the run's possible matches between customers, each with its explanation (their bulk
    actions into `pending` when given; `stored`: the relations the run started from, read before)."""
    labels = resolution.clustering.labels
    kept = most_probable_per_customer(
        resolution.possible_matches,
        lambda match: (labels[match.left], labels[match.right]),
        lambda match: match.probability,
        config.max_possible_matches_per_customer,
    )
    explanations = explain_possible_matches(kept, labels, features, resolution.model, config)
    found = [
        relation_document(match, (customer_of[labels[match.left]], customer_of[labels[match.right]]), explanation.as_dict())
        for match, explanation in zip(kept, explanations, strict=True)
    ]
    bound = config.max_possible_matches_per_customer
    if pending is None:
        save_possible_matches(client, names, found, changes, now, bound)
    else:
        pending.actions += possible_match_actions(client, names, found, changes, now, stored, bound)
    report.possible_matches = len(found)
    report.possible_matches_beyond_bound = len(resolution.possible_matches) - len(kept)
    report.customers_without_possible_match = customers_without_relation(
        resolution.possible_matches, kept, lambda match: (labels[match.left], labels[match.right])
    )


@batch_caches()
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
        total.possible_matches_beyond_bound += part.possible_matches_beyond_bound
        total.customers_without_possible_match += part.customers_without_possible_match
        total.customer_ids.update(part.customer_ids)
        total.removed_ids += part.removed_ids
    save_watermark(client, names, started)
    return total


@batch_caches()
def resolve_all(
    client: OpenSearch, names: IndexNames, config: ResolutionConfig, retrain: bool = True, spool: Path | None = None
) -> ResolveReport:
    """Resolve every live record: train the model (unless told to reuse it), cluster, write the
    customers that changed. Past `config.scale.partition_records` records, the run goes through an
    on-disk spool a partition at a time (search.resolve.partitioned), its memory bounded by the
    settings rather than by the data; `spool` is where (the system's temporary folder when None)."""
    ensure_resolution_indices(client, names)
    if client.count(index=names.records, body={"query": LIVE_RECORDS})["count"] > config.scale.partition_records:
        from search.resolve.partitioned import resolve_all_partitioned

        return resolve_all_partitioned(client, names, config, retrain, spool)
    started = datetime.now(UTC)
    report = ResolveReport()
    watch = _Stopwatch(report)
    # In record id order: the same records give the same model and customers, whatever order the shards answer in.
    documents = sorted(scan_live_records(client, names), key=lambda d: d["record_id"])
    previous_model = load_model(client, names)
    keys_current = blocking_keys_current(client, names)
    model = None if retrain else previous_model
    if model is None:
        features = features_of(documents, tuple(config.extra_identifiers), attribute_candidates(documents, config.identifier_detection))
    else:
        features = features_of(documents, model.identifiers)
    stored = read_stored_state(client, names, config)
    previous = current_assignment(client, names, stored.hashes)
    report.records = len(documents)
    rules = all_rules(client, names)
    report.decisions_skipped = rules.skipped
    watch.lap("load")
    resolution = resolve_records(features, config, model, rules.constraints_for([d["record_id"] for d in documents]))
    _fill(report, resolution)
    watch.lap("resolve")
    streams = write_streams(client, config.scale.write_threads)
    with measured_write(client, names, report, rekeyed=not keys_current):
        if model is None:
            save_model(client, names, resolution.model, trained_from=started)
        _store_blocking_keys(client, names, features, resolution.model, previous_model, config, report, not keys_current, streams)
        now = datetime.now(UTC)
        customer_of, changes = _apply(
            client,
            names,
            config,
            _clusters(documents, resolution),
            previous,
            set(previous.values()),
            report,
            now,
            stored=stored,
            write_threads=streams,
            weak=_weak_records(documents, resolution),
        )
        _save_possible_matches(client, names, config, resolution, features, customer_of, changes, report, now)
    watch.lap("write")
    if not keys_current and not report.keys_not_rewritten:
        mark_blocking_keys_current(client, names)
    save_watermark(client, names, started)
    _log_warnings(resolution.frequent_keys, resolution.model)
    return report


def read_stored_state(client: OpenSearch, names: IndexNames, config: ResolutionConfig) -> StoredState:
    """The record links and statements as stored (customers' hashes are read with their records)."""
    return StoredState({}, dict(scan_links(client, names)), statements_of(client, names, None), golden_rules_key(config))


@contextmanager
def measured_write(client: OpenSearch, names: IndexNames, report: ResolveReport, rekeyed: bool = False) -> Iterator[None]:
    """A full run's write stage: customers and links written without refreshes or replicas (restored
    after), and the CPU it cost this process and the nodes counted in `report.cpu`. `rekeyed`: every
    record's blocking keys are written again too (full_run_indices)."""
    process, node = time.process_time(), node_cpu_ms(client)
    with full_run_write_mode(client, names, rekeyed):
        yield
    client.indices.refresh(index=left_unrefreshed_by_full_run(names), ignore_unavailable=True)
    report.cpu["write_client"] = time.process_time() - process
    report.cpu["write_node"] = (node_cpu_ms(client) - node) / 1000


@contextmanager
def full_run_write_mode(client: OpenSearch, names: IndexNames, rekeyed: bool) -> Iterator[None]:
    """What a full run writes in bulk (store.bulk_write_mode): customers and record links, and the
    records index when every record's blocking keys are written again (an index keyed by an older
    rcu): each record is written back whole, and with the periodic refresh on, a 1M rewrite spent
    most of a 1,264 s run on it (bench/RESULTS.md, session 13 lead). The records keep their
    replicas: they are the one thing a run cannot make again. Pushes meanwhile still find their own
    writes (each refreshes the records index); searches see the new keys when the run ends."""
    with bulk_write_mode(client, [names.customers, names.record_customers], kept_replicas=[names.records] if rekeyed else []):
        yield


def _log_warnings(frequent_keys: dict[str, int], model: MatchModel) -> None:
    # By kind only (em, ph, nd…): a key is an e-mail, a phone, names with a birth date. Whoever
    # runs the resolution sees the keys themselves in its report (`rcu resolve` prints them).
    for key, size in sorted(frequent_keys.items(), key=lambda item: -item[1])[:20]:
        log.warning("frequent_blocking_key kind=%s records=%s", key.split(":", 1)[0], size)
    for rule, reason in model.relaxed_rules.items():
        log.warning("never_merge_rule_relaxed rule=%s reason=%r", rule, reason)


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
    report.u_corrections = resolution.model.u_corrections
    report.weak_link_bar = resolution.model.weak_link_bar


def _store_blocking_keys(
    client: OpenSearch,
    names: IndexNames,
    features: list[RecordFeatures],
    model: MatchModel,
    previous: MatchModel | None,
    config: ResolutionConfig,
    report: ResolveReport,
    every_record: bool = False,
    streams: int = 1,
) -> None:
    """The stored blocking keys the real-time path searches, made to agree with this run's: of
    every record when the index was keyed by other rules (`every_record`: a key added since they
    were ingested), else of the records holding identifiers they were not indexed with (found in
    the data by this run). Made from each record as stored when it is rewritten, with the model's
    identifiers, as a push makes them (search.resolve.store.update_blocking_keys), `streams` chunks
    at once."""
    if every_record:
        chosen: Iterable[RecordFeatures] = features
    else:
        known = set(previous.identifiers if previous is not None else config.extra_identifiers)
        new = set(model.identifiers) - known
        if not new:
            return
        chosen = (f for f in features if new & f.identifiers.keys())
    identifiers = model.identifiers
    rekey = update_blocking_keys(
        client, names, (f.record_id for f in chosen), lambda doc: blocking_keys(features_from_document(doc, identifiers)), streams
    )
    report.keys_not_rewritten += rekey.failed


def resolve_touched(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    record_ids: list[str],
    model: MatchModel | None = None,
    documents: list[dict[str, Any]] | None = None,
    refresh: Refresh = False,
    revive: dict[str, str] | None = None,
    rules: RuleChanges | None = None,
    threads: Executor | None = None,
) -> ResolveReport:
    """Re-resolve the neighbourhood of some records: them, their candidates, the records the
    stewards' decisions bind to them, and every record of the customers any of those belong to —
    then write only what changed (send_neighbourhood). `documents`, when the caller holds the
    touched records as just indexed, saves fetching them again; `refresh` makes everything written
    visible to searches before this returns (a pushed record's answer); `revive` gives back ids (an
    undone decision); `rules`: a steward's decision being taken or undone, applied before it is
    stored, and what it writes with the neighbourhood (RuleChanges).
    `threads`: the threads the reads and writes made at once run on, kept by a long-running caller
    (a pusher: starting them anew cost each push about a sixth of its CPU, bench/RESULTS.md session
    18); a pool of this call's own when None."""
    rules = rules or RuleChanges()
    report = ResolveReport()
    watch = _Stopwatch(report)
    model = model or read_model(client, names)
    ensure_resolution_indices(client, names)
    extra = model.identifiers
    touched = documents if documents is not None else get_records(client, names, record_ids)
    # Each record's features once for the whole neighbourhood: the candidates' gates and the scoring.
    once = FeaturesOnce(extra)
    once.seed(touched)
    universe = neighbourhood_candidates(client, names, config, model, touched, once)
    universe.update((d["record_id"], d) for d in touched)
    neighbourhood = set(record_ids) | set(universe)
    # The stored customers with what the change feed compares, and the statements naming the
    # records, read once, here — while the decisions are searched (at once: a steward, or an
    # integrator's push, waits for each round trip made in sequence).
    with _threads(threads, 2) as pool:
        reading = pool.submit(stored_customers_of, client, names, neighbourhood, COMPARED_FIELDS)
        erased_of = _erased_read_ahead(pool, client, names, record_ids)
        stated, compiled = _statements_and_rules(client, names, neighbourhood, rules)
        _join_together(client, names, compiled, universe)
        stored = reading.result()
        if joined := set(universe) - neighbourhood:  # records a decision binds to the neighbourhood's
            stored.update(stored_customers_of(client, names, joined, COMPARED_FIELDS))
        customers = {customer_id: document["records"] for customer_id, document in stored.items()}
        members = {r for records in customers.values() for r in records}
        # The statements of the records joining now (a decision's, the customers' other members), while they are read.
        stating_more = pool.submit(statements_of, client, names, (set(universe) | members) - neighbourhood)
        universe.update((d["record_id"], d) for d in get_records(client, names, members - set(universe)))
        statements = _asked_only(stated, neighbourhood) | _asked_only(stating_more.result(), set(universe) - neighbourhood)
    documents = [universe[r] for r in sorted(universe)]
    watch.lap("fetch")
    previous = {r: c for c, records in customers.items() for r in records}
    features = once.of_all(documents)
    resolution = resolve_records(features, config, model, compiled.constraints_for([d["record_id"] for d in documents]))
    _fill(report, resolution)
    report.records = len(documents)
    report.decisions_skipped = compiled.skipped
    watch.lap("resolve")
    pending = NeighbourhoodWrites()
    now = datetime.now(UTC)
    with _threads(threads, 1) as pool:
        # The relations stored between the neighbourhood's customers, read while the customers are worked out.
        relations = pool.submit(stored_relations, client, names, set(customers))
        customer_of, changes = _apply(
            client,
            names,
            config,
            _clusters(documents, resolution),
            previous,
            set(customers),
            report,
            now,
            refresh,
            stored_docs=stored,
            revive=revive,
            weak=_weak_records(documents, resolution),
            pending=pending,
            statements=statements,
            changed_records=frozenset(record_ids),
            erased_of=erased_of,
        )
        stored_pairs = relations.result()
    _save_possible_matches(client, names, config, resolution, features, customer_of, changes, report, now, pending, stored_pairs)
    pending.actions[:0] = rules.writes(report)
    send_neighbourhood(client, names, pending, refresh, threads)
    watch.lap("write")
    return report


def neighbourhood_candidates(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    model: MatchModel,
    documents: list[dict[str, Any]],
    features: FeaturesOnce | None = None,
) -> dict[str, dict[str, Any]]:
    """The live records sharing a usable blocking key with any of `documents` (record id → its
    resolution fields), as OpenSearch finds them: one search (store.candidate_records). `features`:
    the neighbourhood's features, each record's computed once (FeaturesOnce)."""
    features = features or FeaturesOnce(model.identifiers)
    searchers = [features.of(d) for d in documents]
    keys = [blocking_keys(record) for record in searchers]
    return candidate_records(client, names, keys, config.max_block_size, config.max_name_block_size, searchers, features)


def _asked_only(by_record: dict[str, list[dict[str, Any]]], asked: set[str]) -> dict[str, list[dict[str, Any]]]:
    """statements_of's answer for the records it was asked about: the other records its statements
    name are listed with the statements found only, not all of theirs."""
    return {record_id: statements for record_id, statements in by_record.items() if record_id in asked}


@dataclass
class NeighbourhoodWrites:
    """What a neighbourhood's resolution writes: bulk actions, and the changes for the feed (numbered
    when they are sent)."""

    actions: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def send_neighbourhood(
    client: OpenSearch, names: IndexNames, writes: NeighbourhoodWrites, refresh: Refresh, threads: Executor | None = None
) -> None:
    """A neighbourhood's writes sent. Made searchable (`refresh` True: an answer's read-your-writes)
    by two bulk requests at once: what a search must show at once (customers, possible matches,
    redirects, decisions: _searched_at_once) with `refresh=true`, which refreshes only the shards it
    wrote, in its own round trip; and beside it, not refreshed, what is read by real-time gets or
    by readers that refresh first (record links, identity conflicts, the change feed), the feed's
    numbers reserved first. Otherwise one request, and the possible matches it changed refreshed
    after it: the real-time path reads them by a search without refreshing (stored_relations)."""
    if refresh is not True:
        changed = send_actions(client, [*writes.actions, *numbered_changes(client, names, writes.changes)], refresh)
        if any(_is_index(index, names.possible_matches) for index in changed):
            client.indices.refresh(index=names.possible_matches)
        return
    searched = [action for action in writes.actions if _searched_at_once(names, action)]
    beside = [action for action in writes.actions if not _searched_at_once(names, action)]
    with _threads(threads, 1) as pool:
        sending = pool.submit(lambda: send_actions(client, [*beside, *numbered_changes(client, names, writes.changes)]))
        if searched:
            send_actions(client, searched, refresh=True)
        sending.result()


@contextmanager
def _threads(kept: Executor | None, workers: int) -> Iterator[Executor]:
    """`kept` (the caller's threads, left running), or `workers` threads of this call's own."""
    if kept is not None:
        yield kept
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield pool


def _is_index(index: str, alias: str) -> bool:
    """Whether a concrete index name is `alias`'s (search.indices: `<alias>-v<N>`)."""
    return index == alias or index.startswith(f"{alias}-v")


def _searched_at_once(names: IndexNames, action: dict[str, Any]) -> bool:
    """Whether a neighbourhood's action goes in its refreshed bulk request (send_neighbourhood).
    Record links are read by real-time gets, the change feed's readers refresh it, and identity
    conflicts are read only by the steward's queue and an erasure, which refresh them first
    (search.steward.queue, search.rights.erasure_plan): refreshing their shards for a push cost
    the node a refresh for no reader (a conflict deleted where there was none: 0.99 per push at
    100k, bench/RESULTS.md, session 12 scale section)."""
    return action["_index"] not in (names.record_customers, names.changes, names.identity_conflicts)


@dataclass(frozen=True)
class RuleChanges:
    """A steward's decision in the making, for resolve_touched: `added` rules apply though not
    stored yet, `dropped` decisions no longer apply though stored as active, and `writes` gives the
    bulk actions storing it (from the report, its outcome), sent first in the neighbourhood's
    request so the decision is searchable exactly when its customers are."""

    added: tuple[DecisionRule, ...] = ()
    dropped: frozenset[str] = frozenset()
    writes: Callable[[ResolveReport], list[dict[str, Any]]] = lambda report: []


def _statements_and_rules(
    client: OpenSearch, names: IndexNames, record_ids: set[str], changes: RuleChanges
) -> tuple[dict[str, list[dict[str, Any]]], CompiledRules]:
    """The statements naming the neighbourhood's records, and the decisions naming them (with
    `changes` applied), in one msearch: two searches, one request — each request costs the node and
    the client its handling whatever it asks (a push made 13, bench/RESULTS.md, session 19)."""
    ids = sorted(record_ids)
    if not ids or len(ids) > STATEMENTS_PER_SEARCH:
        return statements_of(client, names, ids), rules_touching(client, names, ids, changes.added, changes.dropped)
    touching = touching_query(ids)
    body = [
        {"index": names.subject_statements, "ignore_unavailable": True},
        statements_query(ids),
        {"index": names.decisions, "ignore_unavailable": True},
        touching,
    ]
    stating, deciding = client.msearch(body=body)["responses"]
    for response in (stating, deciding):
        if "error" in response:  # as the search alone would have raised it
            error = response["error"]
            raise TransportError(
                response.get("status", 500), error.get("type", "search_failed") if isinstance(error, dict) else str(error), error
            )
    return statements_in(stating["hits"]["hits"]), rules_in(
        client, names, touching, deciding["hits"]["hits"], changes.added, changes.dropped
    )


def _join_together(client: OpenSearch, names: IndexNames, rules: CompiledRules, universe: dict[str, dict[str, Any]]) -> None:
    """The records the neighbourhood's decisions put together with its records join the universe
    (their customers follow, with every record)."""
    if missing := together_records(rules) - set(universe):
        universe.update((d["record_id"], d) for d in get_records(client, names, missing))
