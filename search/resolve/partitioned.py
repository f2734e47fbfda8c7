"""A full run whose memory is bounded by settings, not by the data (`rcu resolve --full` past
`scale.partition_records` live records).

1. Load: records stream from OpenSearch into an on-disk spool (search.resolve.spool) with their
   blocking keys; the customers and record links the last run stored go there too.
2. Plan: connected components of the candidate graph, in random order: the training sample, and
   ranges of at most `partition_records` records. The largest component is no partition: it holds
   a quarter of the records at 1M and grows with the data (bench/RESULTS.md, scale sections).
3. Train (unless the stored model is reused): on whole components drawn at random, up to
   `scale.training_records` records. With at least as many, the sample is every record and the
   model is the in-memory run's. On a sample, term frequencies are counted on every record and the
   prior widened to the whole set (see widen_model), so scores mean what they mean in the in-memory run.
4. Score: every candidate pair, a range against another (two ranges' records in memory at a time);
   the records of pairs at least `review_threshold` probable are joined, with each previous
   customer's records and the records each steward's decision names: the scored graph.
5. Resolve and write each partition — whole components of the scored graph, about
   `partition_records` records each: the same engine (scoring.resolve_records) and the same write
   (pipeline._apply, customers whose resolution hash changed); stored relations, customers left
   without records and links of deleted records are settled once at the end.

Given one model, the customers are the in-memory run's: a pair below the review threshold neither
links two records nor makes a possible match, and no pair above it crosses a partition.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from opensearchpy import OpenSearch

from search.changes import append_changes
from search.indices import IndexNames
from search.read_ahead import in_lists, read_ahead
from search.resolve.blocking import KEY_RULES
from search.resolve.candidates import _key_with_hash
from search.resolve.comparisons import comparisons_for
from search.resolve.config import ResolutionConfig
from search.resolve.constraints import CompiledRules
from search.resolve.decision_rules import all_rules
from search.resolve.errors import SpoolOutOfMemory
from search.resolve.explain import explain_possible_matches
from search.resolve.features import RecordFeatures, collector_paused, features_from_document, features_of, identifier_values
from search.resolve.identifiers import attribute_candidates
from search.resolve.model import MatchModel
from search.resolve.pipeline import (
    ResolveReport,
    StoredState,
    _apply,
    _clusters,
    _log_warnings,
    _Stopwatch,
    _store_blocking_keys,
    _weak_records,
    full_run_write_mode,
)
from search.resolve.possible import customers_without_relation, most_probable_per_customer
from search.resolve.possible_store import CustomerChanges, relation_document, save_possible_matches
from search.resolve.scoring import (
    Resolution,
    ScoredPairs,
    estimate_model_weak_link_bar,
    resolve_records,
    resolve_scored,
    weak_link_candidates,
)
from search.resolve.spool import Grouping, Partition, Plan, RecordSpool, _union
from search.resolve.stage_memory import StagePeaks
from search.resolve.store import (
    blocking_keys_current,
    golden_rules_key,
    left_unrefreshed_by_full_run,
    load_model,
    mark_blocking_keys_current,
    node_cpu_ms,
    save_model,
    save_watermark,
    scan_customers,
    scan_links,
    scan_live_records,
    write_customers,
    write_streams,
)
from search.resolve.tile_scoring import TileScorer, TileTask
from search.rights.overlay import subject_changes
from search.rights.statements import statements_of

LOAD_BATCH = 10_000
TF_FEATURES = ("given", "family", "email", "phone")


def resolve_all_partitioned(
    client: OpenSearch, names: IndexNames, config: ResolutionConfig, retrain: bool = True, spool_dir: Path | None = None
) -> ResolveReport:
    started = datetime.now(UTC)
    report = ResolveReport()
    watch = _Stopwatch(report)
    previous_model = load_model(client, names)
    model = None if retrain else previous_model
    identifiers = model.identifiers if model is not None else tuple(config.extra_identifiers)
    cpu = time.process_time()
    with (
        spool_memory_bound(config.scale.spool_memory_mb),
        tempfile.TemporaryDirectory(dir=spool_dir, prefix="rcu-spool-") as folder,
        collector_paused(),
        StagePeaks() as peaks,
    ):
        spool = RecordSpool(Path(folder), config.scale.spool_memory_mb)
        try:
            trained_from = datetime.now(UTC)  # erasures from here on are taken out of the model saved
            _load(client, names, spool, identifiers)
            report.records = spool.count
            report.spool_mb = sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file()) / 2**20
            watch.lap("load")
            cpu = _cpu_lap(report, "load", cpu, spool, peaks)
            plan = _plan(spool, config, identifiers)
            report.frequent_keys = plan.frequent_keys
            report.largest_component = plan.largest_component
            watch.lap("partition")
            cpu = _cpu_lap(report, "partition", cpu, spool, peaks)
            stored = StoredState({}, {}, statements_of(client, names, None), golden_rules_key(config))
            run = _Run(client, names, config, spool, stored, report, previous_model, frequent_hashes=plan.frequent_hashes)
            node_cpu = node_cpu_ms(client)
            with full_run_write_mode(client, names, not run.keys_current):
                if model is None:
                    model, plan = run.train(plan, identifiers)
                watch.lap("train")
                cpu = _cpu_lap(report, "train", cpu, spool, peaks)
                run.resolve_s = run.resolve_cpu_s = 0.0  # the sample's resolve is training's
                grouping = run.score(plan, model)
                if run.trained:  # saved once its weak-link bar is the whole set's (_Run.score)
                    save_model(client, names, model, trained_from)
                report.partitions, report.largest_scored_component = len(grouping.sizes), grouping.largest_component
                watch.lap("score")
                cpu = _cpu_lap(report, "score", cpu, spool, peaks)
                for number in range(len(grouping.sizes)):
                    run.partition(number, model)
                run.finish()
            client.indices.refresh(index=left_unrefreshed_by_full_run(names), ignore_unavailable=True)
            report.timings["resolve"] = run.resolve_s
            report.cpu["resolve"] = run.resolve_cpu_s
            report.timings["write"] = run.write_s + time.perf_counter() - run.finished_at
            report.cpu["write_client"] = run.write_cpu_s
            # The nodes' CPU while partitions were resolved and written (they are idle while one resolves).
            report.cpu["write_node"] = (node_cpu_ms(client) - node_cpu) / 1000
            report.peak_mb["resolve_and_write"] = peaks.lap()
        finally:
            spool.close()
    if not run.keys_current and not report.keys_not_rewritten:
        mark_blocking_keys_current(client, names)
    save_watermark(client, names, started)
    _log_warnings(report.frequent_keys, model)
    return report


def _load(client: OpenSearch, names: IndexNames, spool: RecordSpool, identifiers: tuple[str, ...]) -> None:
    # The node serves the next pages of the scroll while this process blocks and spools the last ones.
    with closing(read_ahead(in_lists(scan_live_records(client, names), LOAD_BATCH))) as batches:
        for batch in batches:
            spool.add_records(batch, features_of(batch, identifiers), TF_FEATURES)
    spool.add_customers(scan_customers(client, names))
    spool.add_links(scan_links(client, names))


def _frequent_key(identifiers: tuple[str, ...]) -> Any:
    return lambda document, key_hash: _key_with_hash(features_from_document(document, identifiers), key_hash, KEY_RULES)


class _Run:
    """The partitions of one run, resolved and written in turn."""

    def __init__(
        self,
        client: OpenSearch,
        names: IndexNames,
        config: ResolutionConfig,
        spool: RecordSpool,
        stored: StoredState,
        report: ResolveReport,
        previous_model: MatchModel | None,
        frequent_hashes: np.ndarray,
    ) -> None:
        self.client, self.names, self.config, self.spool, self.stored, self.report = client, names, config, spool, stored, report
        self.previous_model, self.trained = previous_model, False
        # Whether the stored keys are today's rules' (else every record's are written again).
        self.keys_current = blocking_keys_current(client, names)
        self.frequent_hashes = frequent_hashes  # keys too common to block on over the whole set, not only in a partition
        self.now = datetime.now(UTC)
        self.write_threads = write_streams(client, config.scale.write_threads)
        # Stewards' decisions, read once; the records each one names are in one partition (decision_pairs).
        self.rules = all_rules(client, names)
        self.relations: list[dict[str, Any]] = []
        self.merged: dict[str, str] = {}
        self.removed: set[str] = set()
        self.resolve_s = self.resolve_cpu_s = self.write_s = self.write_cpu_s = 0.0
        self.finished_at = 0.0

    def _resolve(self, features: list[RecordFeatures], model: MatchModel | None) -> Resolution:
        started, cpu = time.perf_counter(), time.process_time()
        constraints = self.rules.constraints_for([f.record_id for f in features])
        resolution = resolve_records(features, self.config, model, constraints, frequent_hashes=self.frequent_hashes)
        self.report.pairs_compared += len(resolution.scored.pairs)
        self.resolve_s += time.perf_counter() - started
        self.resolve_cpu_s += time.process_time() - cpu
        return resolution

    def train(self, plan: Plan, identifiers: tuple[str, ...]) -> tuple[MatchModel, Plan]:
        """The model, from the training sample (whole candidate-graph components up to
        training_records); returns it and the plan (made again if the model blocks on new identifiers)."""
        # The sample's features as spooled at load (with `identifiers`), plus the attributes that may
        # be identifiers: what features_of(documents, identifiers, candidates) computes, without computing it again.
        sample = self.spool.training_records()
        documents = [document for document, _ in sample]
        candidates = attribute_candidates(documents, self.config.identifier_detection)
        features = [spooled for _, spooled in sample]
        if candidates:
            for document, spooled in sample:
                spooled.attributes = identifier_values(document.get("attributes") or {}, candidates)
        model = self._resolve(features, None).model
        self.trained = True
        if plan.sample < self.spool.count:
            widen_model(model, Counter(f.source for f in features), self.spool.sources, self.spool.term_frequencies(TF_FEATURES))
        if set(model.identifiers) - set(identifiers):
            # Identifiers found in the sample: every record blocks on them, and components may join.
            self.spool.rekey(lambda batch: features_of(batch, model.identifiers))
            plan = _plan(self.spool, self.config, model.identifiers)
            self.report.frequent_keys = plan.frequent_keys
            self.report.largest_component = plan.largest_component
            self.frequent_hashes = plan.frequent_hashes
        return model, plan

    def score(self, plan: Plan, model: MatchModel) -> Grouping:
        """Every candidate pair scored once, a tile (the pairs between two ranges of records:
        search.resolve.spool.tiles) at a time, in `config.worker_count()` processes
        (search.resolve.tile_scoring); the pairs at least the review threshold go to the spool for
        the partitions, and their records are joined, with previous customers and stewards'
        decisions, into the partitions resolved next. A tile's records are read for it alone (not
        its ranges whole: each range would be read again for every range before it, which grows
        with the square of the records). A model trained in this run gets its weak-link bar from
        the kept pairs — every candidate pair of the set under the widened model, as the in-memory
        run estimates it — not from the sample's scores under the sample's prior."""
        joined = np.arange(self.spool.count, dtype=np.int64)
        comparisons = comparisons_for(model.identifiers)
        kept_pairs = _KeptPairs(self.spool, len(comparisons))
        weak_candidates: list[np.ndarray] = []
        known = self.config.scale.partition_records  # features each process keeps: about one range's
        with TileScorer(model, self.config.review_threshold, self.config.worker_count(), known) as scorer:
            for tile in scorer.scores(_tile_tasks(self.spool)):
                kept_pairs.add(tile.left, tile.right, tile.scored)
                if self.trained:
                    scored = tile.scored
                    weak_candidates.append(weak_link_candidates(model, self.config, comparisons, scored.vectors, scored.probabilities))
                _union(joined, tile.left, tile.right)
                self.report.candidate_pairs += tile.compared
                self.report.pairs_compared += tile.compared
        self.report.cpu["score_workers"] = scorer.worker_cpu_s
        kept_pairs.flush()
        if self.trained:
            estimate_model_weak_link_bar(model, self.config, np.concatenate(weak_candidates) if weak_candidates else np.empty(0))
        return self.spool.regroup(joined, self.config.scale.partition_records, decision_pairs(self.rules))

    def partition(self, number: int, model: MatchModel) -> None:
        part = self.spool.partition(number)
        features = part.features  # spooled with model.identifiers (at load, or by train's rekey)
        started, cpu = time.perf_counter(), time.process_time()
        constraints = self.rules.constraints_for([f.record_id for f in features])
        resolution = resolve_scored(features, self.config, model, constraints, part.scored)
        self.resolve_s += time.perf_counter() - started
        self.resolve_cpu_s += time.process_time() - cpu
        self._write(part, features, resolution, model)

    def _write(self, part: Partition, features: list[RecordFeatures], resolution: Resolution, model: MatchModel) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        self.report.links_refused += len(resolution.clustering.refused_links)
        self.report.relaxed_rules = model.relaxed_rules
        self.report.detected_identifiers = model.detected_identifiers
        self.report.defaults_used = model.defaults_used
        self.report.u_corrections = model.u_corrections
        self.report.customer_ids = {}  # a full run's assignment is in the indices, not held in memory
        stored = StoredState(part.hashes, part.links, self.stored.statements, self.stored.rules_key)
        if self.trained or not self.keys_current:
            _store_blocking_keys(
                self.client,
                self.names,
                features,
                model,
                self.previous_model,
                self.config,
                self.report,
                not self.keys_current,
                self.write_threads,
            )
        customer_of, changes = _apply(
            self.client,
            self.names,
            self.config,
            _clusters(part.documents, resolution),
            part.previous,
            set(part.previous.values()),
            self.report,
            self.now,
            stored=stored,
            write_threads=self.write_threads,
            weak=_weak_records(part.documents, resolution),
        )
        self.merged.update(changes.merged)
        self.removed |= changes.removed
        labels = resolution.clustering.labels
        explanations = explain_possible_matches(resolution.possible_matches, labels, features, model, self.config)
        self.relations += [
            relation_document(match, (customer_of[labels[match.left]], customer_of[labels[match.right]]), explanation.as_dict())
            for match, explanation in zip(resolution.possible_matches, explanations, strict=True)
        ]
        self.write_s += time.perf_counter() - started
        self.write_cpu_s += time.process_time() - cpu

    def finish(self) -> None:
        """Customers left without records, links of deleted records, and the possible matches."""
        self.finished_at, cpu = time.perf_counter(), time.process_time()
        gone = self.spool.customers_without_records()
        unlinked = self.spool.links_without_records()
        changes = subject_changes(self.client, self.names, [], [], gone, [], statements=self.stored.statements)
        write_customers(
            self.client,
            self.names,
            [],
            gone,
            {},
            unlinked,
            bulk_threads=self.write_threads,
            request_timeout=self.config.scale.write_timeout_s,
        )
        append_changes(self.client, self.names, changes)
        self.removed |= set(gone)
        kept = most_probable_per_customer(
            self.relations,
            lambda relation: tuple(relation["customer_ids"]),
            lambda relation: relation["probability"],
            self.config.max_possible_matches_per_customer,
        )
        save_possible_matches(self.client, self.names, kept, CustomerChanges(None, set(), self.merged, self.removed), self.now)
        self.report.customers_removed += len(gone)
        self.report.possible_matches = len(kept)
        self.report.possible_matches_beyond_bound = len(self.relations) - len(kept)
        self.report.customers_without_possible_match = customers_without_relation(
            self.relations, kept, lambda relation: tuple(relation["customer_ids"])
        )
        self.write_cpu_s += time.process_time() - cpu


def _cpu_lap(report: ResolveReport, stage: str, since: float, spool: RecordSpool, peaks: StagePeaks) -> float:
    """This process's CPU seconds in a stage, kept beside its wall time, its peak memory during the
    stage (search.resolve.stage_memory) and DuckDB's share at its end."""
    now = time.process_time()
    report.cpu[stage] = now - since
    report.peak_mb[stage] = peaks.lap()
    report.spool_memory_mb[stage] = spool.memory_mb()
    return now


@contextmanager
def spool_memory_bound(limit_mb: int) -> Iterator[None]:
    """DuckDB's out-of-memory error (an operation it could not spill) as rcu's own, naming the setting."""
    try:
        yield
    except duckdb.OutOfMemoryException as error:
        raise SpoolOutOfMemory(limit_mb) from error


def _plan(spool: RecordSpool, config: ResolutionConfig, identifiers: tuple[str, ...]) -> Plan:
    scale = config.scale
    return spool.plan(
        config.max_block_size, config.max_name_block_size, scale.partition_records, scale.training_records, _frequent_key(identifiers)
    )


def _tile_tasks(spool: RecordSpool) -> Iterator[TileTask]:
    """Each tile's records (features as spooled: read here, decoded where scored) and pairs."""
    for tile in spool.tiles():
        if tile.range_a == tile.range_b:
            places, inverse = np.unique(np.concatenate([tile.left, tile.right]), return_inverse=True)
            records, pairs = spool.range_features(tile.range_a, places), inverse.reshape(2, -1).T
        else:
            left_places, left = np.unique(tile.left, return_inverse=True)
            right_places, right = np.unique(tile.right, return_inverse=True)
            records = spool.range_features(tile.range_a, left_places) + spool.range_features(tile.range_b, right_places)
            pairs = np.stack([left, right + len(left_places)], axis=1)
        yield TileTask(records, pairs, np.stack([tile.left_idx, tile.right_idx], axis=1), tile.free, tile.gates)


class _KeptPairs:
    """Scored pairs on their way to the spool, written a few hundred thousand at a time."""

    def __init__(self, spool: RecordSpool, comparisons: int, batch: int = 200_000) -> None:
        self.spool, self.comparisons, self.batch = spool, comparisons, batch
        self.parts: list[tuple[np.ndarray, np.ndarray, ScoredPairs]] = []
        self.held = 0
        self.written = False

    def add(self, left: np.ndarray, right: np.ndarray, scored: ScoredPairs) -> None:
        self.parts.append((left, right, scored))
        self.held += len(left)
        if self.held >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.parts and self.written:
            return
        if self.parts:
            left, right = np.concatenate([p[0] for p in self.parts]), np.concatenate([p[1] for p in self.parts])
            scored = ScoredPairs(
                np.empty((0, 2), dtype=np.int64),
                np.concatenate([p[2].vectors for p in self.parts]),
                np.concatenate([p[2].weights for p in self.parts]),
                np.concatenate([p[2].probabilities for p in self.parts]),
            )
        else:  # no pair at all: the table exists, empty, with a column per comparison as partitions read it
            left = right = np.empty(0, dtype=np.int64)
            scored = ScoredPairs(left, np.empty((0, self.comparisons), dtype=np.int8), np.empty(0), np.empty(0))
        self.spool.add_scored(left.astype(np.int64), right.astype(np.int64), scored)
        self.parts, self.held, self.written = [], 0, True


def decision_pairs(rules: CompiledRules) -> list[tuple[str, str]]:
    """Record pairs joining what each steward's decision names: the records it put together, and the
    two sides it kept apart — so each decision is seen whole by one partition."""
    groups = rules.groups
    pairs = [(record, groups.find(record)) for record in list(groups.parent)]
    side_of: dict[int, str] = {}
    for root, tags in groups.tags.items():
        for number, _ in tags:
            pairs.append((root, side_of.setdefault(number, root)))
    return [(a, b) for a, b in pairs if a != b]


def _pairs_apart(per_source: Counter[str]) -> tuple[float, float]:
    """Record pairs of two sources and of one source."""
    total = sum(per_source.values())
    within = sum(n * (n - 1) / 2 for n in per_source.values())
    return total * (total - 1) / 2 - within, within


def widen_model(model: MatchModel, sample: Counter[str], everyone: Counter[str], term_frequencies: dict[str, dict[str, int]]) -> None:
    """A model trained on a sample of components, made to score the whole set: term frequencies
    counted on every record, and the prior (the chance that two records taken at random are one
    person) scaled from the sample's pairs to all pairs. Candidate pairs grow with the records
    (each record has about as many candidates in the sample as in the set, components being whole),
    so the expected matches grow by N/n while the pairs grow by about (N/n)²."""
    n, total = sum(sample.values()), sum(everyone.values())
    if "prior" not in model.defaults_used:
        across_sample, within_sample = _pairs_apart(sample)
        across, within = _pairs_apart(everyone)
        model.prior = _clip(model.prior * (total / n) * across_sample / max(across, 1.0))
        if model.prior_within_source is not None and within:
            model.prior_within_source = _clip(model.prior_within_source * (total / n) * within_sample / within)
    if model.term_frequencies:
        model.term_frequencies = {feature: term_frequencies.get(feature, {}) for feature in model.term_frequencies}
        model.records = total


def _clip(prior: float) -> float:
    return float(np.clip(prior, 1e-9, 0.5)) if math.isfinite(prior) else 0.5
