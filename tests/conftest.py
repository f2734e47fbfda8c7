"""The session's real OpenSearch node, and per-test index names that clean up after themselves.

Where the node comes from, in order: the cluster at OPENSEARCH_URL if it answers; a testcontainers
container when a Docker engine answers; otherwise rcu's managed local node, started here and stopped
at the end if this session started it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from rcu.settings import Settings, get_settings
from search.client import sync_client
from search.node.distribution import OPENSEARCH_VERSION
from search.node.process import node_status, start_node, stop_node

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("tests")


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

    with DockerImage(
        path=ROOT / "docker",
        dockerfile_path="opensearch.Dockerfile",
        tag=f"rcu-opensearch:{OPENSEARCH_VERSION}",
        buildargs={"OPENSEARCH_VERSION": OPENSEARCH_VERSION},
        clean_up=False,
    ) as image:
        with OpenSearchContainer(str(image)) as container:
            config = container.get_config()
            yield f"http://{config['host']}:{config['port']}"


@pytest.fixture(scope="session")
def opensearch_settings() -> Iterator[Settings]:
    """Settings pointing at a real, healthy OpenSearch node for the whole test session."""
    settings = get_settings()
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
    yield client
    client.close()


@pytest.fixture(scope="session")
def test_prefix(opensearch: OpenSearch) -> Iterator[str]:
    """An index-name prefix owned by this test session; everything under it is deleted at the end."""
    prefix = f"rcu-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    opensearch.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")
