"""A full run at scale, against a real node: partitioned through the on-disk spool it finds the
customers the in-memory run finds, and a second full run writes only what changed."""

from __future__ import annotations

import csv
import random
import string
from collections import Counter
from typing import Any

import numpy as np
import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionTimeout
from opensearchpy.helpers import scan

from analyzers.caching import batch_open
from search.client import BackoffTransport, bulk_client
from search.indices import IndexNames
from search.resolve import partitioned, scoring, tile_scoring
from search.resolve.blocking import blocking_keys
from search.resolve.comparisons import Comparison, comparisons_for
from search.resolve.config import FullRunScale, ResolutionConfig
from search.resolve.features import RecordFeatures, features_from_document, features_from_json, features_of, features_to_json
from search.resolve.pipeline import resolve_all
from search.resolve.scoring import Resolution, resolve_scored
from search.resolve.store import get_records, load_model, save_model
from search.resolve.tile_scoring import KnownFeatures, TileScorer, TileTask, score_tile
from search.resolve.weak_links import estimate_weak_link_bar
from search.steward.decisions import SAME_PERSON, DecisionRequest, current_customers, customer_version, decide, item_version
from settings import Settings
from tests.conftest import Ingest, Resolved, customer_assignment
from tests.stories import HELENE, OTHERS


def _partitioned(records_per_partition: int, training_records: int = 100_000, workers: int | None = None) -> ResolutionConfig:
    return ResolutionConfig(scale=FullRunScale(partition_records=records_per_partition, training_records=training_records), workers=workers)


def _changes(opensearch: OpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    if not opensearch.indices.exists(index=names.changes):
        return []
    opensearch.indices.refresh(index=names.changes)
    hits = opensearch.search(index=names.changes, body={"query": {"match_all": {}}, "size": 10_000, "sort": [{"seq": "asc"}]})
    return [hit["_source"] for hit in hits["hits"]["hits"]]


def test_a_partitioned_full_run_finds_the_in_memory_customers_with_one_model(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(resolved.demo)
    save_model(opensearch, names, resolved.model)
    report = resolve_all(opensearch, names, _partitioned(60), retrain=False)
    assert report.partitions > 5  # the set went through many partitions, not one
    assert customer_assignment(opensearch, names) == resolved.customer_of


def test_a_partitioned_run_scoring_in_worker_processes_finds_what_one_process_finds(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(resolved.demo)
    ingest(_chained_strangers())
    save_model(opensearch, names, resolved.model)
    resolve_all(opensearch, names, ResolutionConfig(), retrain=False)
    in_memory, possible = customer_assignment(opensearch, names), _possible_matches(opensearch, names)
    alone = resolve_all(opensearch, names, _partitioned(20, workers=1), retrain=False)
    assert (customer_assignment(opensearch, names), _possible_matches(opensearch, names)) == (in_memory, possible)
    spread = resolve_all(opensearch, names, _partitioned(20, workers=2), retrain=False)
    assert spread.cpu["score_workers"] > 0  # the tiles were scored in two worker processes
    assert (spread.candidate_pairs, spread.pairs_compared) == (alone.candidate_pairs, alone.pairs_compared)
    assert (customer_assignment(opensearch, names), _possible_matches(opensearch, names)) == (in_memory, possible)


def _possible_matches(opensearch: OpenSearch, names: IndexNames) -> set[tuple[str, ...]]:
    opensearch.indices.refresh(index=names.possible_matches)
    hits = scan(opensearch, index=names.possible_matches, query={"query": {"match_all": {}}})
    return {(h["_source"]["kind"], *h["_source"]["customer_ids"], *sorted(h["_source"]["records"])) for h in hits}


GIVEN = [
    "Zoé",
    "Marc",
    "Inès",
    "Yann",
    "Odile",
    "Bruno",
    "Agathe",
    "Cyril",
    "Maëlle",
    "Gaston",
    "Hortense",
    "Ignace",
    "Judith",
    "Kevin",
    "Léonie",
    "Mathis",
    "Noémie",
    "Octave",
    "Pauline",
    "Quentin",
    "Rose",
    "Sacha",
    "Thaïs",
    "Ugo",
    "Valentine",
    "Wilfried",
    "Xavière",
    "Yves",
    "Zélie",
    "Anatole",
]
PREFIXES = ["Dub", "Mar", "Ler", "Fou", "Gir", "Bon", "Rou", "Mor", "Lam", "Fau", "Bla", "Gau", "Che", "Per", "Cha", "Ber"]


def _chained_strangers() -> list[dict[str, str]]:
    """Thirty people born the same day, each sharing a postcode with one neighbour and the first
    letters of the family name with the other: one chain of blocking keys, no two of them one person."""
    return [
        {
            "source": "crm",
            "source_id": f"S{n}",
            "given_name": given,
            "family_name": PREFIXES[(n + 1) // 2] + ("ier" if n % 2 else "and"),
            "birth_date": "1975-05-05",
            "postcode": f"{10000 + 1000 * (n // 2)}",
        }
        for n, given in enumerate(GIVEN)
    ]


def test_a_partitioned_run_never_holds_the_candidate_graphs_largest_component_and_finds_the_in_memory_customers(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(resolved.demo)
    ingest(_chained_strangers())
    save_model(opensearch, names, resolved.model)
    resolve_all(opensearch, names, ResolutionConfig(), retrain=False)
    in_memory, possible = customer_assignment(opensearch, names), _possible_matches(opensearch, names)
    report = resolve_all(opensearch, names, _partitioned(20), retrain=False)
    # The chain is one component of the candidate graph, larger than a partition: it is scored a
    # range against another, and the partitions are components of the pairs that may be one person.
    assert report.largest_component >= len(GIVEN) > 20
    assert report.largest_scored_component < 20
    assert report.partitions > 5
    assert customer_assignment(opensearch, names) == in_memory
    assert _possible_matches(opensearch, names) == possible


def _decided_same_person(opensearch: OpenSearch, names: IndexNames, record_ids: tuple[str, str]) -> None:
    """A steward's decision: the customers of these two records are one person."""
    customer_ids = tuple(sorted({customer_assignment(opensearch, names)[r] for r in record_ids}))
    shown = current_customers(opensearch, names, customer_ids)
    version = item_version({c: customer_version(doc) for c, doc in shown.items()})
    decide(opensearch, names, ResolutionConfig(), DecisionRequest(SAME_PERSON, customer_ids, version), by="test", role="steward")


def test_a_steward_decision_joining_two_partitions_is_kept_by_a_partitioned_run_rebuilding_every_customer(
    opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    people = [
        {"source": "crm", "source_id": f"P{n}", "given_name": given, "family_name": family, "birth_date": born}
        for n, (given, family, born) in enumerate(
            [
                ("Zoé", "Abadie", "1971-03-02"),
                ("Marc", "Vidal", "1980-11-23"),
                ("Inès", "Robineau", "1965-07-14"),
                ("Yann", "Le Goff", "1990-01-30"),
            ]
        )
    ]
    ingest(HELENE + people)
    resolve_all(opensearch, names, ResolutionConfig())
    assert customer_assignment(opensearch, names)["crm:P0"] != customer_assignment(opensearch, names)["crm:P3"]
    _decided_same_person(opensearch, names, ("crm:P0", "crm:P3"))
    # Customers rebuilt from the records and the decisions alone (fresh customer indices): no stored
    # customer holds the two records together any more, only the decision does.
    for index in (names.customers, names.record_customers):
        # Refreshed first: a decision writes record links without refreshing them (read by real-time
        # gets), and a delete-by-query of a version it did not see is a conflict.
        opensearch.indices.refresh(index=index)
        opensearch.delete_by_query(index=index, body={"query": {"match_all": {}}}, refresh=True)
    report = resolve_all(opensearch, names, _partitioned(2), retrain=False)
    assert report.partitions > 2
    assigned = customer_assignment(opensearch, names)
    assert assigned["crm:P0"] == assigned["crm:P3"]
    assert assigned["crm:P1"] != assigned["crm:P0"] != assigned["crm:P2"]


def test_a_partitioned_full_run_trained_on_every_record_is_the_in_memory_run(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(resolved.demo)
    report = resolve_all(opensearch, names, _partitioned(60))
    assert report.partitions > 5
    assert customer_assignment(opensearch, names) == resolved.customer_of


def test_a_model_trained_on_a_sample_of_components_still_resolves_well(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(resolved.demo)
    report = resolve_all(opensearch, names, _partitioned(100, training_records=500))
    assigned = customer_assignment(opensearch, names)
    assert report.records == len(assigned) == len(resolved.customer_of)
    with open(resolved.demo / "truth.tsv") as stream:
        truth = {f"{row['source']}:{row['source_id']}": row["person_id"] for row in csv.DictReader(stream, delimiter="\t")}
    predicted, actual = _pairs(assigned, truth), _pairs(truth, truth)
    assert len(predicted & actual) / len(predicted) >= 0.98
    assert len(predicted & actual) / len(actual) >= 0.9
    # The weak-link bar is the one the in-memory run estimates under this model from every record,
    # not the sample's under the sample's prior and term frequencies.
    model = load_model(opensearch, names)
    assert model is not None
    features = [features_from_document(document) for document in get_records(opensearch, names, assigned)]
    scored = scoring.resolve_records(features, ResolutionConfig(), model).scored
    candidates = scoring.weak_link_candidates(
        model, ResolutionConfig(), comparisons_for(model.identifiers), scored.vectors, scored.probabilities
    )
    assert model.weak_link_bar == estimate_weak_link_bar(
        candidates, ResolutionConfig().weak_link_error_budget, ResolutionConfig().match_threshold
    )
    # Too few below the match threshold in this set: the default, counted on the same links.
    assert model.weak_link_bar is not None or model.defaults_used["weak_link_bar"].startswith(f"{len(candidates)} candidate")


def _pairs(grouping: dict[str, str], keep: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for record_id, group in grouping.items():
        if record_id in keep:
            groups.setdefault(group, []).append(record_id)
    return {(a, b) for members in groups.values() for a in members for b in members if a < b}


def test_a_second_full_run_rewrites_only_the_customer_whose_record_changed(
    opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(HELENE + [{"source": "crm", "source_id": f"P{n}", "given_name": "Paul", "family_name": f"Martin{n}x"} for n in range(5)])
    resolve_all(opensearch, names, ResolutionConfig())
    before = customer_assignment(opensearch, names)
    again = resolve_all(opensearch, names, ResolutionConfig(), retrain=False)
    assert (again.customers_written, again.links_written) == (0, 0)
    feed = len(_changes(opensearch, names))
    moved = {**HELENE[1], "phone": "0699887766", "updated_at": "2026-06-01T10:00:00Z"}
    ingest([moved])
    report = resolve_all(opensearch, names, ResolutionConfig(), retrain=False)
    helene = before["crm:H1"]
    assert (report.customers_written, report.links_written) == (1, 0)
    assert "+33699887766" in opensearch.get(index=names.customers, id=helene)["_source"]["phones"]
    assert customer_assignment(opensearch, names) == before
    new_changes = _changes(opensearch, names)[feed:]
    assert [(c["kind"], c["customer_id"]) for c in new_changes] == [("updated", helene)]
    assert "phones" in new_changes[0]["fields"]


def test_a_partitioned_run_removes_the_customers_and_links_of_deleted_records(
    opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    people = [{"source": "crm", "source_id": f"P{n}", "given_name": "Paul", "family_name": f"Martin{n}x"} for n in range(6)]
    ingest(HELENE + people)
    resolve_all(opensearch, names, _partitioned(3))
    gone = customer_assignment(opensearch, names)["crm:P2"]
    ingest([{"source": "crm", "source_id": "P2", "deleted": True, "updated_at": "2026-06-01T10:00:00Z"}])
    report = resolve_all(opensearch, names, _partitioned(3), retrain=False)
    assert report.customers_removed == 1
    assert not opensearch.exists(index=names.customers, id=gone)
    assert not opensearch.exists(index=names.record_customers, id="crm:P2")
    assert "removed" in [c["kind"] for c in _changes(opensearch, names) if c["customer_id"] == gone]


def test_a_full_run_leaves_refresh_and_replicas_as_it_found_them(opensearch: OpenSearch, names: IndexNames, ingest: Ingest) -> None:
    ingest(HELENE)
    resolve_all(opensearch, names, ResolutionConfig())
    opensearch.indices.put_settings(index=names.customers, body={"index": {"refresh_interval": "7s"}})
    resolve_all(opensearch, names, ResolutionConfig(), retrain=False)
    settings = opensearch.indices.get_settings(index=names.customers)
    (index,) = settings.values()
    assert index["settings"]["index"]["refresh_interval"] == "7s"
    assert index["settings"]["index"]["number_of_replicas"] == "0"


# How long the simulated slow node takes to index one request of customers: more than the client's
# usual timeout (settings.opensearch_timeout_s, 30 s), less than a full run's (write_timeout_s).
SLOW_CUSTOMERS_BULK_S = 60.0


def test_a_full_run_on_a_node_slower_than_the_clients_timeout_indexes_each_customer_once(
    opensearch_settings: Settings, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    """A loaded node indexing a request of 5,000 customers for longer than the client waits: the
    request must not be sent again while the node still indexes it (each customer indexed twice,
    bench/RESULTS.md session 19 fullrun section). Simulated at the connection: each request holding
    customers is indexed for real, then its answer counts as late for a client waiting less than
    the node takes."""
    ingest(HELENE + OTHERS)
    client = bulk_client(opensearch_settings)  # what `rcu resolve --full` runs with: it retries what times out
    transport = client.transport
    assert isinstance(transport, BackoffTransport)
    transport.retry_budget_s = 1.0  # a retry, if any, shows at once
    (connection,) = transport.connection_pool.connections
    real = connection.perform_request
    customers_sent: list[int] = []

    def slow_for_customers(method: str, url: str, params: Any = None, body: Any = None, timeout: Any = None, **kwargs: Any) -> Any:
        answer = real(method, url, params, body, timeout=timeout, **kwargs)
        text = body.decode() if isinstance(body, bytes) else str(body or "")
        if url.endswith("/_bulk") and f'"_index":"{names.customers}"' in text:
            customers_sent.append(text.count(f'"_index":"{names.customers}"'))
            if (timeout or connection.timeout) < SLOW_CUSTOMERS_BULK_S:
                raise ConnectionTimeout("TIMEOUT", "the answer came later than the client waited", None)
        return answer

    connection.perform_request = slow_for_customers  # type: ignore[method-assign]
    try:
        report = resolve_all(client, names, ResolutionConfig(scale=FullRunScale(write_threads=2)))
    finally:
        client.close()
    assert report.customers_written == report.customers > 0
    assert sum(customers_sent) == report.customers  # each customer sent once
    stats = opensearch.indices.stats(index=names.customers, metric="indexing")
    (indexed,) = (index["primaries"]["indexing"]["index_total"] for index in stats["indices"].values())
    assert indexed == report.customers


def test_a_first_full_run_deletes_no_identity_conflict_and_a_later_one_still_drops_a_stale_one(
    opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    """A customer never stored has no stored conflict: a first full run sends no deletion for it
    (it sent one per customer without a conflict, each a tombstone the node writes). A customer
    stored before the run and rewritten by it still loses a conflict it no longer has."""
    ingest(HELENE + OTHERS)
    first = resolve_all(opensearch, names, ResolutionConfig())
    stats = opensearch.indices.stats(index=names.identity_conflicts, metric="indexing")
    (deleted,) = (index["primaries"]["indexing"]["delete_total"] for index in stats["indices"].values())
    assert first.customers_written > 0
    assert deleted == 0
    opensearch.indices.refresh(index=names.identity_conflicts)
    with_conflict = {hit["_id"] for hit in scan(opensearch, index=names.identity_conflicts, query={"query": {"match_all": {}}})}
    customer_id = next(c for c in sorted(set(customer_assignment(opensearch, names).values())) if c not in with_conflict)
    stale = {"customer_id": customer_id, "records": [], "sources": [], "values": 2, "updated_at": "2020-01-01T00:00:00+00:00"}
    opensearch.index(index=names.identity_conflicts, id=customer_id, body=stale, refresh=True)
    # Another source priority rewrites every customer (golden_rules_key): its conflict is made again, here none.
    rewritten = ResolutionConfig(source_priority={"names": ["ecommerce", "crm"], "birth_date": ["ecommerce"], "civility": ["ecommerce"]})
    second = resolve_all(opensearch, names, rewritten, retrain=False)
    assert second.customers_written == second.customers
    assert not opensearch.exists(index=names.identity_conflicts, id=customer_id)


def _components_by_search(count: int, first: list[int], second: list[int]) -> list[int]:
    """The reference: each node's component, found by a plain graph search (no union-find)."""
    neighbours: list[list[int]] = [[] for _ in range(count)]
    for a, b in zip(first, second, strict=True):
        neighbours[a].append(b)
        neighbours[b].append(a)
    label = [-1] * count
    for start in range(count):
        if label[start] >= 0:
            continue
        label[start], stack = start, [start]
        while stack:
            for other in neighbours[stack.pop()]:
                if label[other] < 0:
                    label[other] = start
                    stack.append(other)
    return label


def test_streamed_union_find_gives_the_connected_components_of_the_candidate_graph() -> None:
    import numpy as np

    from search.resolve.spool import _union

    rng = np.random.default_rng(1)
    count, edges = 3000, 2500
    parent = np.arange(count)
    first, second = rng.integers(0, count, edges), rng.integers(0, count, edges)
    for start in range(0, edges, 700):  # streamed in batches, as from the spool
        _union(parent, first[start : start + 700], second[start : start + 700])
    labels = _components_by_search(count, first.tolist(), second.tolist())
    components = len(set(labels))
    assert len(set(parent.tolist())) == components
    assert len(set(zip(parent.tolist(), labels, strict=True))) == components  # the same grouping


# Initials whose only key with their customer is a name with an initial (the one-sided key,
# search.resolve.blocking): a loyalty card holding "S. Vauquelin", a call-center note "Bastien M.".
INITIALS = [
    {
        "source": "crm",
        "source_id": "V1",
        "given_name": "Solène",
        "family_name": "Vauquelin",
        "phone": "06 40 12 34 56",
        "postcode": "14000",
        "birth_date": "1981-04-09",
    },
    {"source": "loyalty_caen", "source_id": "V2", "given_name": "S.", "family_name": "Vauquelin", "loyalty_card": "LC7001"},
    {
        "source": "crm",
        "source_id": "B1",
        "given_name": "Bastien",
        "family_name": "Marchetti",
        "email": "bastien.marchetti@free.fr",
        "postcode": "20000",
    },
    {"source": "callcenter", "source_id": "B2", "given_name": "Bastien", "family_name": "M.", "phone": "07 81 00 22 33"},
]


def test_a_partitioned_run_compares_an_initial_with_its_full_name_as_the_in_memory_run_does(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest(resolved.demo)
    ingest(INITIALS)
    save_model(opensearch, names, resolved.model)
    resolve_all(opensearch, names, ResolutionConfig(), retrain=False)
    in_memory, possible = customer_assignment(opensearch, names), _possible_matches(opensearch, names)
    # In memory, each initial is compared with its full name: one customer, or a possible match.
    for initial, full in (("loyalty_caen:V2", "crm:V1"), ("callcenter:B2", "crm:B1")):
        customers = {in_memory[initial], in_memory[full]}
        assert len(customers) == 1 or any(customers <= set(match[1:3]) for match in possible), initial
    report = resolve_all(opensearch, names, _partitioned(20), retrain=False)
    assert report.partitions > 5
    assert customer_assignment(opensearch, names) == in_memory
    assert _possible_matches(opensearch, names) == possible


def test_a_partitioned_run_compares_each_candidate_pair_once(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(resolved.demo)
    save_model(opensearch, names, resolved.model)
    # Every comparison the engine makes (scoring's vectors, clustering's checks), by the partition step or before it.
    compared: dict[bool, Counter[tuple[str, str]]] = {False: Counter(), True: Counter()}
    in_partitions = [False]
    compare = scoring.comparison_vector

    def counted(x: RecordFeatures, y: RecordFeatures, comparisons: tuple[Comparison, ...]) -> list[int]:
        compared[in_partitions[0]][(min(x.record_id, y.record_id), max(x.record_id, y.record_id))] += 1
        return compare(x, y, comparisons)

    def partition_step(*args: Any) -> Resolution:
        in_partitions[0] = True
        try:
            return resolve_scored(*args)
        finally:
            in_partitions[0] = False

    monkeypatch.setattr(scoring, "comparison_vector", counted)
    monkeypatch.setattr(partitioned, "resolve_scored", partition_step)
    # One process: the comparisons are counted here (a worker process would compare out of sight).
    report = resolve_all(opensearch, names, _partitioned(60, workers=1), retrain=False)
    assert report.partitions > 5
    scored, clustered = compared[False], compared[True]
    # Scoring compared every candidate pair once; the partitions cluster the pairs it kept, comparing none again.
    assert report.candidate_pairs > 0
    assert len(scored) == sum(scored.values()) == report.candidate_pairs == report.pairs_compared
    assert not set(clustered) & set(scored)
    assert customer_assignment(opensearch, names) == resolved.customer_of


def _strangers_sharing_no_key(count: int) -> list[dict[str, str]]:
    """People whose names are made of random letters (seeded), with nothing else: no two of them share a blocking key."""
    letters = random.Random(7)
    return [
        {
            "source": "crm",
            "source_id": f"N{n}",
            "given_name": "".join(letters.choices(string.ascii_lowercase, k=9)).title(),
            "family_name": "".join(letters.choices(string.ascii_lowercase, k=11)).title(),
        }
        for n in range(count)
    ]


def test_a_partitioned_run_without_any_candidate_pair_makes_one_customer_per_record(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    strangers = _strangers_sharing_no_key(300)
    keys = [key for record in strangers for key in blocking_keys(features_from_document({**record, "record_id": record["source_id"]}))]
    assert len(keys) == len(set(keys))  # the set as described: no candidate pair at all
    ingest(strangers)
    save_model(opensearch, names, resolved.model)
    report = resolve_all(opensearch, names, _partitioned(40), retrain=False)
    assert report.candidate_pairs == 0
    assert report.partitions > 5
    assignment = customer_assignment(opensearch, names)
    assert len(assignment) == len(set(assignment.values())) == len(strangers)


def test_a_scored_pair_naming_a_record_outside_its_partition_is_refused_not_pointed_at_a_neighbour() -> None:
    import numpy as np

    from search.resolve.spool import SpoolInconsistent, places_of

    partition = np.array([40, 12, 31], dtype=np.int64)  # spool numbers, in record id order
    assert places_of(partition, np.array([31, 40, 12]), 0).tolist() == [2, 0, 1]
    for outside in ([13], [41], [5]):  # between, after and before the partition's numbers
        with pytest.raises(SpoolInconsistent):
            places_of(partition, np.array(outside), 0)
    with pytest.raises(SpoolInconsistent):
        places_of(np.empty(0, dtype=np.int64), np.array([3]), 0)


def test_a_partitioned_run_leaves_the_process_peak_memory_a_benchmark_reads_alone(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    import numpy as np

    from search.resolve.stage_memory import status_mb

    ingest(resolved.demo)
    save_model(opensearch, names, resolved.model)
    block = np.ones(240 * 2**20, dtype=np.uint8)  # the process's peak, well above what it holds after
    del block
    before = status_mb("VmHWM")
    assert before is not None and before > (status_mb("VmRSS") or 0.0) + 200
    report = resolve_all(opensearch, names, _partitioned(60), retrain=False)
    assert set(report.peak_mb) == {"load", "partition", "train", "score", "resolve_and_write"}
    # The kernel's high-water mark (ru_maxrss to a parent waiting for this process) still holds the earlier peak.
    assert (status_mb("VmHWM") or 0.0) >= before


def _spooled(folder: Any, documents: list[dict[str, Any]], training_records: int) -> list[str]:
    """The record ids of the training sample a spool holding `documents`, in that order, draws."""
    from search.resolve.features import features_of
    from search.resolve.spool import RecordSpool

    spool = RecordSpool(folder, 128)
    try:
        spool.add_records(documents, features_of(documents), partitioned.TF_FEATURES)
        spool.plan(100, 100, 50, training_records, lambda document, key_hash: "")
        return [d["record_id"] for d in spool.training_documents()]
    finally:
        spool.close()


def test_the_training_sample_does_not_depend_on_the_order_the_index_returns_records_in(tmp_path: Any) -> None:
    # Two first runs over the same records made 72,574 and 63,456 possible matches at 1M (session 10):
    # the sample followed the order records came out of the index, which segment merges change.
    documents = [
        {
            "record_id": f"crm:{person}-{copy}",
            "source": "crm",
            "given_name": GIVEN[person % len(GIVEN)],
            "family_name": f"{PREFIXES[person % len(PREFIXES)]}{'ier' * (1 + person // len(PREFIXES))}",
            "birth_date": f"19{50 + person % 40}-0{1 + person % 9}-1{person % 10}",
        }
        for person in range(60)
        for copy in range(2)
    ]
    shuffled = documents[:]
    random.Random(7).shuffle(shuffled)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sample = _spooled(tmp_path / "a", documents, 30)
    assert 0 < len(sample) <= 30
    assert _spooled(tmp_path / "b", shuffled, 30) == sample


def test_the_training_sample_is_drawn_by_a_hash_that_no_duckdb_release_changes(tmp_path: Any) -> None:
    # DuckDB's hash() is not stable across its releases: drawn by it, an upgrade would change the
    # sample, and so the model, of a first run over the same records (README, "partitioned").
    import hashlib

    import numpy as np

    from search.resolve.features import features_of
    from search.resolve.spool import RecordSpool, sample_key

    def blake2b_key(record_id: str) -> int:  # the first 8 bytes of BLAKE2b, signed big-endian
        return int.from_bytes(hashlib.blake2b(record_id.encode(), digest_size=8).digest(), "big", signed=True)

    assert sample_key("crm:C-000042") == blake2b_key("crm:C-000042") == 5194102804684877319
    documents = [{"record_id": f"crm:C-{n:06d}", "source": "crm", "family_name": f"Nom{n}"} for n in range(200)]
    spool = RecordSpool(tmp_path, 128)
    try:
        spool.add_records(documents, features_of(documents), partitioned.TF_FEATURES)
        # Each record a component of its own: the draw is the records in the order of their keys.
        order = spool._shuffled_roots(np.arange(spool.count), np.ones(spool.count, dtype=np.int64))
    finally:
        spool.close()
    assert [documents[i]["record_id"] for i in order] == sorted((d["record_id"] for d in documents), key=blake2b_key)


def test_a_spawned_scoring_worker_keeps_the_runs_comparison_caches(resolved: Resolved) -> None:
    # Spawned workers start with every batch cache closed: without their own batch they would
    # compute each name comparison and normalization again (the main process's batch is not theirs).
    with TileScorer(resolved.model, 0.5, 2, 1000) as scorer:
        assert scorer.pool is not None
        assert all(scorer.pool.submit(batch_open).result() for _ in range(4))


def test_a_record_in_several_tiles_has_its_spooled_features_decoded_once_and_scores_as_computed_afresh(
    resolved: Resolved, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = [{**d, "record_id": f"{d['source']}:{d['source_id']}"} for d in [*HELENE, *OTHERS][:6]]
    spooled = features_to_json(features_of(documents, resolved.model.identifiers))

    def tile(numbers: list[int]) -> TileTask:
        # Every record of the tile against the next: places 0..n-1, spool numbers as given.
        pairs = np.array([(i, i + 1) for i in range(len(numbers) - 1)], dtype=np.int64)
        return TileTask(
            [spooled[n] for n in numbers],
            pairs,
            np.array(numbers)[pairs],
            np.ones(len(pairs), dtype=bool),
            np.zeros(len(pairs), dtype=np.int64),
        )

    computed: list[int] = []
    decode = tile_scoring.features_from_json
    monkeypatch.setattr(tile_scoring, "features_from_json", lambda spooled: computed.append(1) or decode(spooled))
    model, comparisons, known = resolved.model, comparisons_for(resolved.model.identifiers), KnownFeatures(100)
    tiles = [tile([0, 1, 2, 3]), tile([2, 3, 4, 5]), tile([5, 0, 3])]
    again = [score_tile(t, model, comparisons, 0.0, known) for t in tiles]
    assert sum(computed) == 6  # each of the six records once, whatever the number of its tiles
    afresh = [score_tile(t, model, comparisons, 0.0) for t in tiles]
    assert sum(computed) == 6 + 11  # without known features, every tile decodes each of its records
    for mine, theirs in zip(again, afresh, strict=True):
        assert (mine.left.tolist(), mine.right.tolist(), mine.scored.weights.tolist()) == (
            theirs.left.tolist(),
            theirs.right.tolist(),
            theirs.scored.weights.tolist(),
        )
    bounded = KnownFeatures(3)
    for t in tiles:
        score_tile(t, model, comparisons, 0.0, bounded)
    assert len(bounded._features) == 3  # the oldest dropped: a process keeps a bounded number of records


def test_a_partitioned_full_run_computes_each_records_features_once(
    resolved: Resolved, opensearch: OpenSearch, names: IndexNames, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Computing a record's features is most of what a record costs outside the comparisons: a full
    # run computed them at load, again in every scoring tile and again in its partition (4.3 times
    # per record at 100k, bench/RESULTS.md session 13). Spooled at load, they are decoded elsewhere.
    from search.resolve import features as features_module

    ingest(resolved.demo)
    save_model(opensearch, names, resolved.model)
    computed: Counter[str] = Counter()
    compute = features_module.features_from_document

    def counted(document: dict[str, Any], *args: Any) -> RecordFeatures:
        computed[document["record_id"]] += 1
        return compute(document, *args)

    monkeypatch.setattr(features_module, "features_from_document", counted)
    # One process: the tiles are scored here (a worker process would compute out of sight).
    report = resolve_all(opensearch, names, _partitioned(60, workers=1), retrain=False)
    assert report.partitions > 5 and report.candidate_pairs > 0
    assert len(computed) == report.records and set(computed.values()) == {1}
    assert customer_assignment(opensearch, names) == resolved.customer_of


def test_spooled_features_decode_to_the_features_computed_from_the_document() -> None:
    documents: list[dict[str, Any]] = [{**d, "record_id": f"{d['source']}:{d['source_id']}"} for d in [*HELENE, *OTHERS]]
    documents.append({"record_id": "x:1", "source": "x", "attributes": {"member_no": " M1 "}, "quality": {"unverified": ["phone"]}})
    computed = features_of(documents, ("member_no",))
    assert [features_from_json(spooled) for spooled in features_to_json(computed)] == computed


def test_a_spool_keyed_again_on_identifiers_found_by_training_hands_out_features_holding_them(tmp_path: Any) -> None:
    # Training may find an attribute that behaves like an identifier: the run blocks on it and
    # compares it, so the features its tiles and partitions decode must hold it, not the load's.
    from search.resolve.spool import RecordSpool

    documents = [
        {"record_id": f"s{copy}:{person}", "source": f"s{copy}", "family_name": f"Nom{person}", "attributes": {"member_no": f"M{person}"}}
        for person in range(20)
        for copy in range(2)
    ]
    spool = RecordSpool(tmp_path, 128)
    try:
        spool.add_records(documents, features_of(documents), partitioned.TF_FEATURES)
        spool.rekey(lambda batch: features_of(batch, ("member_no",)))
        plan = spool.plan(100, 100, 50, 100, lambda document, key_hash: "")
        nothing = np.empty(0, dtype=np.int64)
        spool.add_scored(
            nothing,
            nothing,
            scoring.ScoredPairs(np.empty((0, 2), dtype=np.int64), np.empty((0, 1), dtype=np.int8), np.empty(0), np.empty(0)),
        )
        spool.assign(np.zeros(spool.count, dtype=np.int64))
        decoded = [features_from_json(spooled) for number in range(plan.ranges) for spooled in spool.range_features(number, np.arange(50))]
        in_partition = spool.partition(0).features
        sample = [features for _, features in spool.training_records()]
    finally:
        spool.close()
    expected = {f.record_id: f for f in features_of(documents, ("member_no",))}
    for records in (decoded, in_partition, sample):
        assert len(records) == len(documents)
        assert all(f == expected[f.record_id] and f.identifiers == {"member_no": "M" + f.record_id.split(":")[1]} for f in records)
