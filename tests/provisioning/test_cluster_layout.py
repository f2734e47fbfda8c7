"""The shape of a local cluster and of the three-node compose file: pure, no node needed."""

from __future__ import annotations

from pathlib import Path

import yaml

from provisioning.cluster import LocalCluster
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_cluster_nodes_get_their_own_ports_and_folders_and_find_each_other(tmp_path: Path) -> None:
    settings = Settings(opensearch_url="http://127.0.0.1:9221", home=tmp_path)
    cluster = LocalCluster.for_settings(settings, 3)
    nodes = cluster.instances
    assert [node.port for node in nodes] == [9221, 9222, 9223]
    assert [node.transport_port for node in nodes] == [9321, 9322, 9323]
    assert len({node.root for node in nodes}) == 3 and len({node.data for node in nodes}) == 3
    for node in nodes:
        seeds, managers = node.discovery
        assert all(f"127.0.0.1:{port}" in seeds for port in (9321, 9322, 9323))
        assert all(other.name in managers for other in nodes)
    assert cluster.urls == "http://127.0.0.1:9221,http://127.0.0.1:9222,http://127.0.0.1:9223"


def test_a_cluster_is_known_again_from_its_folders_for_stop_and_status(tmp_path: Path) -> None:
    settings = Settings(opensearch_url="http://127.0.0.1:9221", home=tmp_path)
    for instance in LocalCluster.for_settings(settings, 3).instances:
        instance.config.mkdir(parents=True)
    assert LocalCluster.for_settings(settings).size == 3
    assert LocalCluster.for_settings(settings).running() == {}


def test_every_url_of_opensearch_url_reaches_the_client() -> None:
    settings = Settings(opensearch_url="http://127.0.0.1:9221, http://127.0.0.1:9222,http://127.0.0.1:9223")
    assert settings.opensearch_urls == ["http://127.0.0.1:9221", "http://127.0.0.1:9222", "http://127.0.0.1:9223"]
    assert settings.opensearch_port == 9221 and settings.opensearch_host == "127.0.0.1"


def test_compose_cluster_nodes_discover_each_other_and_share_only_the_snapshot_volume() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text())
    nodes = {name: service for name, service in compose["services"].items() if name.startswith("opensearch-")}
    assert len(nodes) == 3
    data_volumes = set()
    for name, service in nodes.items():
        environment = service["environment"]
        assert environment["node.name"] == name
        assert set(environment["discovery.seed_hosts"].split(",")) == set(nodes)
        assert set(environment["cluster.initial_cluster_manager_nodes"].split(",")) == set(nodes)
        mounts = dict(volume.split(":") for volume in service["volumes"])
        data_volumes.add(next(v for v, path in mounts.items() if path == "/usr/share/opensearch/data"))
        assert mounts["opensearch-snapshots"] == environment["path.repo"]
    assert len(data_volumes) == 3
    api = compose["services"]["api"]
    assert set(api["depends_on"]) == set(nodes)
    assert len(api["environment"]["OPENSEARCH_URL"].split(",")) == 3
