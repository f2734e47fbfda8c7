"""The session's real OpenSearch node, and per-test index names that clean up after themselves.

Where the node comes from, in order: the cluster at OPENSEARCH_URL if it answers; a testcontainers
container when a Docker engine answers; otherwise rcu's managed local node, started here and stopped
at the end if this session started it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from opensearchpy import OpenSearch

from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import IngestSummary, RejectsReport
from provisioning.distribution import OPENSEARCH_VERSION
from provisioning.process import node_status, start_node, stop_node
from search.client import sync_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.model import MatchModel
from search.resolve.pipeline import resolve_all
from search.resolve.store import load_model, scan_customers
from settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("tests")


# No warm-up of the node by the APIs tests serve (search.warm_up), whatever builds their settings:
# its requests would run beside the tests' own, which count what the node was asked or wait 2 s for
# an answer (the three-node cluster's look-ups did); tests/segments/test_warm_up.py turns it on.
os.environ["RCU_WARM_UP_ROUNDS"] = "0"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests needing the node are marked `opensearch` from the fixture that provides it, so
    `pytest -m "not opensearch"` (make test-unit) runs the pure ones without a node."""
    for item in items:
        if "opensearch_settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.opensearch)


def _docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _container_node() -> Iterator[str]:
    from testcontainers.community.opensearch import OpenSearchContainer
    from testcontainers.core.image import DockerImage

    with (
        DockerImage(
            path=ROOT / "docker",
            dockerfile_path="opensearch.Dockerfile",
            tag=f"rcu-opensearch:{OPENSEARCH_VERSION}",
            buildargs={"OPENSEARCH_VERSION": OPENSEARCH_VERSION},
            clean_up=False,
        ) as image,
        OpenSearchContainer(str(image)) as container,
    ):
        config = container.get_config()
        yield f"http://{config['host']}:{config['port']}"


@pytest.fixture(scope="session")
def opensearch_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at a real, healthy OpenSearch node for the whole test session (the APIs
    it serves journal their audit entries under the session's temporary folder)."""
    settings = get_settings().model_copy(update={"audit_journal_path": tmp_path_factory.mktemp("audit-journal")})
    if node_status(settings).reachable:
        yield settings
        return
    if _docker_engine_answers():
        for url in _container_node():
            yield settings.model_copy(update={"opensearch_url": url})
        return
    status, started = start_node(settings)
    log.info("test_node url=%s started=%s version=%s", status.url, started, status.version)
    try:
        yield settings
    finally:
        if started:
            stop_node(settings)


@pytest.fixture(scope="session")
def opensearch(opensearch_settings: Settings) -> Iterator[OpenSearch]:
    client = sync_client(opensearch_settings)
    if node_status(opensearch_settings).managed_pid:
        # Every test's indices live under the session's prefix until the session ends (test_prefix), about
        # twenty one-shard indices per resolved family: the whole suite (841 tests, session 12) reaches
        # OpenSearch's default of 1,000 shards per node. Raised on a node rcu manages only, never on a
        # cluster named by OPENSEARCH_URL that rcu does not own.
        client.cluster.put_settings(body={"transient": {"cluster.max_shards_per_node": 5000}})
    yield client
    client.close()


@pytest.fixture(scope="session")
def test_prefix(opensearch: OpenSearch) -> Iterator[str]:
    """An index-name prefix owned by this test session; everything under it is deleted at the end."""
    prefix = f"rcu-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    opensearch.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")


Ingest = Callable[..., tuple[IngestSummary, list[dict[str, Any]]]]


@pytest.fixture
def names(test_prefix: str) -> IndexNames:
    return IndexNames(f"{test_prefix}-{uuid.uuid4().hex[:6]}")


def write_jsonl(path: Path, records: list[dict[str, Any] | str | bytes]) -> Path:
    with path.open("wb") as stream:
        for record in records:
            if isinstance(record, bytes):
                stream.write(record + b"\n")
            elif isinstance(record, str):
                stream.write(record.encode() + b"\n")
            else:
                stream.write(orjson.dumps(record) + b"\n")
    return path


@pytest.fixture
def ingest(opensearch: OpenSearch, names: IndexNames, tmp_path: Path) -> Ingest:
    """Ingest files (or inline records) into this test's index; returns the summary and the report lines."""
    runs = iter(range(1000))

    def run(*sources: Path | list[dict[str, Any] | str | bytes], mapping: Path | None = None) -> tuple[IngestSummary, list[dict[str, Any]]]:
        number = next(runs)
        paths = [
            source if isinstance(source, Path) else write_jsonl(tmp_path / f"inline-{number}-{i}.jsonl", source)
            for i, source in enumerate(sources)
        ]
        report_path = tmp_path / f"report-{number}.jsonl"
        with RejectsReport(report_path) as report:
            summary = Ingestion(opensearch, names, report).run(SourceFiles.discover(paths, mapping))
        return summary, [orjson.loads(line) for line in report_path.read_bytes().splitlines()]

    return run


@dataclass
class Resolved:
    names: IndexNames
    config: ResolutionConfig
    model: MatchModel
    customer_of: dict[str, str]
    demo: Path


def customer_assignment(opensearch: OpenSearch, names: IndexNames) -> dict[str, str]:
    # Real-time resolution does not refresh; a search-based view of every customer needs one.
    opensearch.indices.refresh(index=[names.customers, names.redirects])
    return {record_id: c["customer_id"] for c in scan_customers(opensearch, names) for record_id in c["records"]}


def groups_of(assignment: dict[str, str], record_ids: Iterable[str]) -> set[frozenset[str]]:
    """The records of `record_ids` grouped by the customer `assignment` gives them."""
    by_customer: dict[str, set[str]] = {}
    for record_id in record_ids:
        by_customer.setdefault(assignment[record_id], set()).add(record_id)
    return {frozenset(group) for group in by_customer.values()}


def pushed_then_full_run(
    documents: Iterable[dict[str, Any]], order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> tuple[dict[str, str], dict[str, str]]:
    """Every record's customer after the story's records (by `source:source_id`) are pushed one at a
    time in `order` on top of the resolved demo people, then after a full run over every record: the
    real time and the full run must decide alike whatever the arrival order."""
    from indexers.contract import SourceRecord
    from indexers.push import RecordPusher
    from search.resolve.realtime import RealTimeResolver

    ingest(resolved.demo)
    resolve_all(opensearch, names, ResolutionConfig())
    config = ResolutionConfig(model_check_s=0)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    by_id = {f"{d['source']}:{d['source_id']}": d for d in documents}
    for record_id in order:  # pushed one at a time, in real time
        pusher.push(SourceRecord.model_validate(by_id[record_id]))
    real_time = customer_assignment(opensearch, names)
    resolve_all(opensearch, names, config, retrain=False)  # and a full run over every record
    return real_time, customer_assignment(opensearch, names)


@pytest.fixture(scope="session")
def resolved(opensearch: OpenSearch, test_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resolved]:
    """400 demo people plus the stories (tests.stories), ingested and resolved once for the session."""
    from tests.stories import COSENDEY, HELENE, OTHERS, PLACEHOLDER

    folder = tmp_path_factory.mktemp("resolve")
    write_demo_data(folder / "demo", persons=400, seed=17)
    write_jsonl(folder / "demo" / "stories.jsonl", HELENE + OTHERS + PLACEHOLDER + COSENDEY)
    names = IndexNames(f"{test_prefix}-resolve")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "demo"]))
    config = ResolutionConfig()
    resolve_all(opensearch, names, config)
    model = load_model(opensearch, names)
    assert model is not None
    yield Resolved(names, config, model, customer_assignment(opensearch, names), folder / "demo")
