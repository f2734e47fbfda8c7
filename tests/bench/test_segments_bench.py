"""The segments benchmark's own check, at a size that takes seconds: it builds its customers and
events, recomputes every customer's segments, and leaves no index behind."""

from __future__ import annotations

import sys

import pytest
from opensearchpy import OpenSearch

from settings import Settings, get_settings


def test_the_segments_benchmark_recomputes_every_customer_and_cleans_up(
    opensearch: OpenSearch,
    opensearch_settings: Settings,
    test_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import segments

    monkeypatch.setenv("RCU_INDEX_PREFIX", f"{test_prefix}-bench")
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_settings.opensearch_url)
    monkeypatch.setattr(sys, "argv", ["bench.segments", "--customers", "300"])
    get_settings.cache_clear()
    try:
        segments.main()
    finally:
        get_settings.cache_clear()
    printed = capsys.readouterr().out
    assert "rcu segments: customers=300 removed=0" in printed
    assert "senior=" in printed and "mono_offre=" in printed
    assert "the 360 view's segments and actions: p50" in printed
    assert "rcu segments --definitions-only: customers=300 removed=0 changed=" in printed
    assert not opensearch.indices.get(index=f"{test_prefix}-bench-*", expand_wildcards="all")
