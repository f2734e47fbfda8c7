"""A real three-node cluster that loses a node and nothing else.

One cluster for this module only (ports from RCU_TEST_CLUSTER_PORT up, 512 MB of heap each, every
index with one replica), started here and stopped at the end. The outage: one node is killed with
SIGKILL while an ingest runs and ten clients look customers up through the API; with the node still
gone a full resolve runs and a record is pushed; then the node comes back. Loopback only, and every
loop is bounded in count and time.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from opensearchpy import OpenSearch

from api.policy import DEMO_KEYS
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import IngestSummary, RejectsReport
from provisioning.cluster import LocalCluster, start_cluster, stop_cluster
from provisioning.process import NodeInstance, running_pid, start_node, stop_node
from search.client import bulk_client, sync_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.resolve.store import scan_customers
from search.snapshots import SnapshotError, create_snapshot, list_snapshots, restore_snapshot
from settings import Settings, get_settings
from tests.api.conftest import serve_in_thread

pytestmark = [pytest.mark.cluster, pytest.mark.opensearch]

NODES = 3
CLIENTS = 10
LOOKUPS_PER_CLIENT = 200
LOOKUPS_AFTER_KILL = 15
"""Bounds the look-up load: each client stops after 15 look-ups sent with the node gone, 200 in all,
or at LOAD_DEADLINE_S (sized for a loaded 2-core machine)."""
LOAD_DEADLINE_S = 180.0
RETRIES_OF_A_503 = 8
QUERIES = ["dupont", "martin jean", "bernard", "petit marie", "durand", "leroy", "moreau", "simon", "laurent", "michel"]


@dataclass
class Outage:
    """What the module's one outage did and saw."""

    killed_port: int = 0
    ingested: IngestSummary | None = None
    ingest_lines: int = 0
    ingest_finished: bool = False
    statuses: Counter[int] = field(default_factory=Counter)
    answered: int = 0
    unanswered: list[str] = field(default_factory=list)
    lookups_while_down: int = 0
    resolve_records: int = 0
    customers_before: dict[str, list[str]] = field(default_factory=dict)
    customers_after_resolve: dict[str, list[str]] = field(default_factory=dict)
    pushed: dict[str, Any] = field(default_factory=dict)
    pushed_expected_customer: str = ""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Settings]:
    """Settings pointing at a fresh three-node cluster (all its URLs), started here, stopped at the end."""
    base = get_settings()
    port = base.test_cluster_port
    local = base.model_copy(
        update={
            "opensearch_url": f"http://127.0.0.1:{port}",
            "node_heap": "512m",
            "index_replicas": 1,
            "index_prefix": "rcu-cluster-test",
            "snapshot_path": base.home.resolve() / f"cluster-{port}-snapshots",
        }
    )
    layout = LocalCluster.for_settings(local, NODES)
    if LocalCluster.for_settings(local).running():
        pytest.fail(f"A cluster rcu started already runs on ports {layout.ports}: stop it, or set RCU_TEST_CLUSTER_PORT to free ports.")
    for folder in (layout.root, local.snapshot_location):
        shutil.rmtree(folder, ignore_errors=True)
    start_cluster(local, NODES)
    try:
        yield local.model_copy(update={"opensearch_url": layout.urls})
    finally:
        stop_cluster(local)
        for folder in (layout.root, local.snapshot_location):
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def client(cluster: Settings) -> Iterator[OpenSearch]:
    opensearch = sync_client(cluster)
    yield opensearch
    opensearch.close()


def _ingest(settings: Settings, names: IndexNames, folder: Path, on_record: Callable[[IngestSummary], None] | None = None) -> IngestSummary:
    opensearch = bulk_client(settings)
    try:
        with RejectsReport(folder.parent / f"{folder.name}-rejects.jsonl") as report:
            return Ingestion(opensearch, names, report).run(SourceFiles.discover([folder]), on_record)
    finally:
        opensearch.close()


@pytest.fixture(scope="module")
def people(cluster: Settings, client: OpenSearch, tmp_path_factory: pytest.TempPathFactory) -> IndexNames:
    """Demo people ingested and resolved on the healthy cluster: what the look-ups find."""
    folder = tmp_path_factory.mktemp("people")
    write_demo_data(folder, persons=400, seed=31)
    names = IndexNames.for_settings(cluster)
    _ingest(cluster, names, folder)
    resolve_all(bulk_client(cluster), names, ResolutionConfig())
    _wait_for_green(client)
    return names


def _customers(client: OpenSearch, names: IndexNames) -> dict[str, list[str]]:
    return {customer["customer_id"]: sorted(customer["records"]) for customer in scan_customers(client, names)}


def _wait_for_green(client: OpenSearch) -> dict[str, Any]:
    return client.cluster.health(wait_for_status="green", wait_for_nodes=str(NODES), params={"timeout": "180s"}, request_timeout=190)


def _busiest_node(client: OpenSearch, index: str) -> int:
    """The HTTP port of the node holding most primary shards of `index`."""
    shards = client.cat.shards(index=index, format="json", h="prirep,node")
    names = Counter(shard["node"] for shard in shards if shard["prirep"] == "p")
    node_name = names.most_common(1)[0][0]
    return int(node_name.rsplit("-", 1)[1])


def _look_up(api: str, query: str, outage: Outage, lock: threading.Lock) -> None:
    headers = {"X-API-Key": DEMO_KEYS["counter"]}
    with httpx.Client(base_url=api, headers=headers, timeout=30) as http:
        for _ in range(RETRIES_OF_A_503):
            status = http.get("/v1/search", params={"q": query}).status_code
            with lock:
                outage.statuses[status] += 1
            if status != 503:
                break
            time.sleep(0.5)
    with lock:
        if status == 200:
            outage.answered += 1
        else:
            outage.unanswered.append(f"{query}: {status}")


@pytest.fixture(scope="module")
def outage(cluster: Settings, client: OpenSearch, people: IndexNames, tmp_path_factory: pytest.TempPathFactory) -> Outage:
    """Kill -9 one node during an ingest and a 10-client look-up load; resolve and push with it gone."""
    seen = Outage(customers_before=_customers(client, people))
    folder = tmp_path_factory.mktemp("during-outage")
    write_demo_data(folder, persons=2000, seed=57)
    seen.ingest_lines = sum(1 for _ in SourceFiles.discover([folder]).lines())
    loading = IndexNames.for_settings(cluster.model_copy(update={"index_prefix": "rcu-cluster-test-load"}))
    api, stop_api = serve_in_thread(cluster)
    lock = threading.Lock()
    killed = threading.Event()
    deadline = time.monotonic() + LOAD_DEADLINE_S

    def kill_busiest_node() -> None:
        seen.killed_port = _busiest_node(client, loading.records)
        victim = running_pid(LocalCluster.for_settings(cluster).instance(seen.killed_port))
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        killed.set()

    def kill_a_third_of_the_way(summary: IngestSummary) -> None:
        # From inside the ingest, so the node goes while records are being written, however fast the
        # machine; once every shard has its replica started (a copy still being built is no copy).
        if summary.read >= seen.ingest_lines // 3 and not killed.is_set():
            _wait_for_green(client)
            kill_busiest_node()

    def ingest() -> None:
        seen.ingested = _ingest(cluster, loading, folder, kill_a_third_of_the_way)

    def look_ups(offset: int) -> None:
        after_kill = 0
        for i in range(LOOKUPS_PER_CLIENT):
            if time.monotonic() > deadline or after_kill >= LOOKUPS_AFTER_KILL:
                return
            down = killed.is_set()
            _look_up(api, QUERIES[(offset + i) % len(QUERIES)], seen, lock)
            if down:
                after_kill += 1
                with lock:
                    seen.lookups_while_down += 1

    ingesting = threading.Thread(target=ingest)
    clients = [threading.Thread(target=look_ups, args=(n,)) for n in range(CLIENTS)]
    try:
        ingesting.start()
        for thread in clients:
            thread.start()
        ingesting.join(timeout=LOAD_DEADLINE_S)
        for thread in clients:
            thread.join(timeout=LOAD_DEADLINE_S)
        seen.ingest_finished = not ingesting.is_alive()

        # Still one node short: a full resolve, and a record pushed in real time.
        seen.resolve_records = resolve_all(bulk_client(cluster), people, ResolutionConfig()).records
        seen.customers_after_resolve = _customers(client, people)
        known = client.search(index=people.records, body={"query": {"exists": {"field": "email"}}, "size": 1})["hits"]["hits"][0]
        seen.pushed_expected_customer = client.get(index=people.record_customers, id=known["_id"])["_source"]["customer_id"]
        copy = {
            key: known["_source"][key] for key in ("given_name", "family_name", "birth_date", "email", "phone") if known["_source"].get(key)
        }
        response = httpx.post(
            f"{api}/v1/records",
            headers={"X-API-Key": DEMO_KEYS["integrator"]},
            json={"source": "callcenter", "source_id": "OUTAGE-1", **copy},
            timeout=60,
        )
        seen.pushed = {"status": response.status_code, **response.json()}
    finally:
        stop_api()
    return seen


def test_no_record_is_lost_when_a_node_is_killed_during_an_ingest(outage: Outage, client: OpenSearch) -> None:
    assert outage.killed_port and outage.ingest_finished and outage.ingested is not None
    assert outage.ingested.rejected == 0
    # A bulk request cut by the kill is sent again: what it had written comes back "unchanged" (same version).
    assert outage.ingested.outcomes["indexed"] + outage.ingested.outcomes["unchanged"] == outage.ingest_lines
    loading = "rcu-cluster-test-load-records"
    client.indices.refresh(index=loading)
    assert client.count(index=loading)["count"] == outage.ingest_lines


def test_every_lookup_is_answered_while_a_node_is_killed(outage: Outage) -> None:
    assert outage.lookups_while_down > 0
    assert outage.unanswered == []
    assert outage.statuses[500] == 0
    assert set(outage.statuses) <= {200, 503}


def test_a_full_resolve_works_with_a_node_gone(outage: Outage, client: OpenSearch, people: IndexNames) -> None:
    assert outage.resolve_records == client.count(index=people.records)["count"] - 1  # all but the record pushed after it
    # The same records resolve into the same customers, with the same ids, one node short.
    assert outage.customers_before and outage.customers_after_resolve == outage.customers_before


def test_a_record_pushed_with_a_node_gone_joins_its_customer(outage: Outage) -> None:
    assert outage.pushed["status"] == 200
    assert outage.pushed["customer_id"] == outage.pushed_expected_customer


def test_the_cluster_is_green_again_after_the_killed_node_returns(outage: Outage, cluster: Settings, client: OpenSearch) -> None:
    _, started = start_cluster(cluster, NODES)
    assert started == [outage.killed_port]
    health = _wait_for_green(client)
    assert health["status"] == "green" and health["number_of_nodes"] == NODES


def test_a_restore_over_existing_indices_is_refused(cluster: Settings, client: OpenSearch, people: IndexNames) -> None:
    with pytest.raises(SnapshotError, match="empty cluster"):
        restore_snapshot(client, people, cluster, "any")


def _answers(settings: Settings) -> dict[str, list[str]]:
    """The customers each query finds, in order, through the API."""
    api, stop_api = serve_in_thread(settings)
    try:
        with httpx.Client(base_url=api, headers={"X-API-Key": DEMO_KEYS["counter"]}, timeout=30) as http:
            return {
                query: [hit["customer_id"] for hit in http.get("/v1/search", params={"q": query}).json()["results"]] for query in QUERIES
            }
    finally:
        stop_api()


def test_a_snapshot_restored_into_an_empty_cluster_gives_the_same_lookups_and_customer_ids(
    outage: Outage, cluster: Settings, client: OpenSearch, people: IndexNames
) -> None:
    snapshot = create_snapshot(client, people, cluster)
    assert snapshot.name in [info.name for info in list_snapshots(client, cluster)]
    answers = _answers(cluster)
    customers = _customers(client, people)
    assert any(answers.values()) and customers

    # The empty cluster: a new node on the first port, with its own empty data folder and the same repository.
    stop_cluster(cluster)
    empty = cluster.model_copy(update={"opensearch_url": f"http://127.0.0.1:{cluster.opensearch_port}", "index_replicas": 0})
    shutil.rmtree(NodeInstance.for_settings(empty).root, ignore_errors=True)
    start_node(empty)
    fresh = sync_client(empty)
    try:
        assert not fresh.indices.get(index=f"{people.prefix}-*")
        restore_snapshot(fresh, people, empty, snapshot.name)
        assert _customers(fresh, people) == customers
        assert _answers(empty) == answers
    finally:
        fresh.close()
        stop_node(empty)
        shutil.rmtree(NodeInstance.for_settings(empty).root, ignore_errors=True)
