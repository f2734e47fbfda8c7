"""The node rcu runs on has the analysis rcu's mappings need, and the managed node's lifecycle is sound."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from provisioning.process import NodeInstance, node_status, running_pid, start_node, stop_node
from settings import Settings

REQUIRED_MODULES = {"analysis-common", "mapper-extras", "lang-painless", "reindex"}


def _tokens(client: OpenSearch, body: dict) -> list[str]:
    return [token["token"] for token in client.indices.analyze(body=body)["tokens"]]


def _components(client: OpenSearch) -> tuple[set[str], set[str]]:
    nodes = client.nodes.info(metric="plugins")["nodes"].values()
    plugins = {plugin["name"] for node in nodes for plugin in node["plugins"]}
    modules = {module["name"] for node in nodes for module in node["modules"]}
    return plugins, modules


def test_cluster_is_healthy(opensearch: OpenSearch) -> None:
    assert opensearch.cluster.health()["status"] in {"green", "yellow"}


def test_node_has_the_modules_and_analysis_plugins_rcu_needs(opensearch: OpenSearch) -> None:
    plugins, modules = _components(opensearch)
    assert modules | plugins >= REQUIRED_MODULES
    assert "analysis-phonetic" in plugins
    # The official analysis-icu where the node has it (Docker, managed clusters), rcu's own build otherwise.
    assert plugins & {"analysis-icu", "rcu-analysis-icu"}


def test_asciifolding_removes_french_accents(opensearch: OpenSearch) -> None:
    body = {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"], "text": "Hélène LEFÈVRE Françoise"}
    assert _tokens(opensearch, body) == ["helene", "lefevre", "francoise"]


def test_elision_strips_french_articles(opensearch: OpenSearch) -> None:
    body = {
        "tokenizer": "standard",
        "filter": [{"type": "elision", "articles": ["l", "d"], "articles_case": True}, "lowercase"],
        "text": "l'Hôpital d'Artagnan",
    }
    assert _tokens(opensearch, body) == ["hôpital", "artagnan"]


def test_edge_ngrams_give_the_prefixes_typed_at_the_counter(opensearch: OpenSearch) -> None:
    body = {
        "tokenizer": "standard",
        "filter": ["lowercase", {"type": "edge_ngram", "min_gram": 2, "max_gram": 10}],
        "text": "Dupont",
    }
    assert _tokens(opensearch, body) == ["du", "dup", "dupo", "dupon", "dupont"]


def test_phonetic_filter_gives_dupont_and_dupond_one_code(opensearch: OpenSearch) -> None:
    encoder = {"type": "phonetic", "encoder": "double_metaphone", "replace": True}
    first = _tokens(opensearch, {"tokenizer": "standard", "filter": ["lowercase", encoder], "text": "Dupont"})
    second = _tokens(opensearch, {"tokenizer": "standard", "filter": ["lowercase", encoder], "text": "Dupond"})
    assert first and first == second


def test_beider_morse_with_french_rules_encodes_names(opensearch: OpenSearch) -> None:
    encoder = {"type": "phonetic", "encoder": "beider_morse", "rule_type": "approx", "languageset": ["french"]}
    dupont = set(_tokens(opensearch, {"tokenizer": "standard", "filter": [encoder], "text": "Dupont"}))
    dupond = set(_tokens(opensearch, {"tokenizer": "standard", "filter": [encoder], "text": "Dupond"}))
    assert dupont & dupond


def test_icu_folding_folds_case_accents_and_ligatures(opensearch: OpenSearch) -> None:
    body = {"tokenizer": "standard", "filter": ["icu_folding"], "text": "HÉLÈNE Œuvre Straße"}
    assert _tokens(opensearch, body) == ["helene", "oeuvre", "strasse"]


def test_painless_scripts_run(opensearch: OpenSearch) -> None:
    result = opensearch.transport.perform_request(
        "POST",
        "/_scripts/painless/_execute",
        body={"script": {"source": "params.given + ' ' + params.family.toUpperCase()", "params": {"given": "Jean", "family": "Dupont"}}},
    )
    assert result["result"] == "Jean DUPONT"


def _node_processes(instance: NodeInstance) -> list[int]:
    """Every OpenSearch process on this machine whose configuration is this instance's."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"org.opensearch.bootstrap.OpenSearch" in cmdline and str(instance.config).encode() in environ:
            pids.append(int(proc.name))
    return pids


def _free_port_pair() -> int:
    """An HTTP port free on loopback whose transport port (HTTP + 100) is free too.

    A fixed port collided with other suites or nodes running on the same machine."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 100 > 65535:
            continue
        with socket.socket() as transport:
            try:
                transport.bind(("127.0.0.1", port + 100))
            except OSError:
                continue
        return port
    pytest.fail("No free pair of loopback ports (HTTP and HTTP + 100) for a spare node.")


@pytest.fixture
def spare_node_settings(opensearch_settings: Settings) -> Settings:
    """A second managed node on its own free port, sharing the assembled distribution."""
    url = f"http://127.0.0.1:{_free_port_pair()}"
    return opensearch_settings.model_copy(update={"opensearch_url": url, "node_heap": "512m"})


def test_managed_node_starts_once_and_stops_by_its_pid(spare_node_settings: Settings) -> None:
    instance = NodeInstance.for_settings(spare_node_settings)
    try:
        first, started = start_node(spare_node_settings)
        assert started and first.health in {"green", "yellow"}

        again, started_again = start_node(spare_node_settings)
        assert not started_again and again.reachable
        assert _node_processes(instance) == [running_pid(instance)]

        stopped_pid = stop_node(spare_node_settings)
        assert stopped_pid == first.managed_pid
        down = node_status(spare_node_settings)
        assert not down.reachable and down.managed_pid is None
        assert _node_processes(instance) == []
    finally:
        stop_node(spare_node_settings)
        shutil.rmtree(instance.root, ignore_errors=True)  # a fresh port each run: leave no folder behind


def test_stop_leaves_a_node_it_did_not_start_alone(opensearch: OpenSearch, tmp_path: Path, opensearch_settings: Settings) -> None:
    # Settings with an empty rcu home know no pid for the running node: stop must not touch it.
    foreign = opensearch_settings.model_copy(update={"home": tmp_path})
    assert stop_node(foreign) is None
    assert opensearch.cluster.health()["status"] in {"green", "yellow"}
