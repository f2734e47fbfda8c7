"""The matcher's precision and recall from the stewards' decisions: each decision labels the record
pairs it shows (pure), and `rcu review stats` and GET /v1/review/stats count them per source pair."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import CliRunner

from search.steward.stats import labelled_pairs, matcher_stats
from tests.steward.conftest import RoleClient
from tests.steward.test_decisions import _decide

MERGE = {"before": {"A": ["crm:1", "shop:2"], "B": ["web:3"]}, "together": [["crm:1", "shop:2", "web:3"]], "apart": []}
SPLIT = {"before": {"C": ["crm:4", "web:5", "shop:6"]}, "together": [], "apart": [[["shop:6"], ["crm:4", "web:5"]]]}


def test_a_steward_merge_counts_as_pairs_the_matcher_missed() -> None:
    labels = {(x, y): (m, s) for x, y, m, s in labelled_pairs(MERGE)}
    assert labels[("crm:1", "shop:2")] == (True, True)
    assert labels[("crm:1", "web:3")] == (False, True) and labels[("shop:2", "web:3")] == (False, True)


def test_a_split_counts_as_false_positives_per_source_pair() -> None:
    stats = matcher_stats([MERGE, SPLIT])
    assert stats.by_source_pair["crm / shop"].false_positives == 1 and stats.by_source_pair["crm / shop"].true_positives == 1
    assert stats.by_source_pair["crm / web"].false_negatives == 1 and stats.by_source_pair["crm / web"].true_positives == 1
    assert stats.overall.precision == 2 / 4 and stats.overall.recall == 2 / 4


def test_rcu_review_stats_and_the_api_figure_count_the_decisions(
    as_role: Callable[[str], RoleClient], customer_of, steward_world, monkeypatch
) -> None:
    from rcu.cli import app

    berthier = customer_of("crm:B1")
    _decide(as_role, "split", [berthier], ["loyalty_lyon2:B3"])
    figure = as_role("steward").get("/v1/review/stats").json()
    assert figure["decisions"] == 1
    assert figure["by_source_pair"]["crm / loyalty_lyon2"]["false_positives"] == 1
    assert figure["by_source_pair"]["crm / ecommerce"]["precision"] == 1.0
    monkeypatch.setenv("RCU_INDEX_PREFIX", steward_world.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", steward_world.opensearch_url)
    from settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["review", "stats"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "crm / loyalty_lyon2" in result.output and "decisions=1" in result.output
