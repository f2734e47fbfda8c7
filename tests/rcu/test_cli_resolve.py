"""`rcu resolve` against a real node: an incremental run says how many possible matches it found."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from rcu.cli import app
from search.indices import IndexNames
from search.resolve.store import ensure_resolution_indices, save_model, save_watermark
from settings import get_settings
from tests.conftest import Ingest, Resolved
from tests.stories import NAMESAKES


def test_an_incremental_resolve_reports_the_possible_matches_it_stored(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_resolution_indices(opensearch, names)
    save_model(opensearch, names, resolved.model)
    save_watermark(opensearch, names, datetime.now(UTC) - timedelta(minutes=1))
    ingest(NAMESAKES)
    monkeypatch.setenv("RCU_INDEX_PREFIX", names.prefix)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["resolve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    reported = int(re.search(r"possible_matches=(\d+)", result.output).group(1))  # type: ignore[union-attr]
    opensearch.indices.refresh(index=names.possible_matches)
    assert reported == opensearch.count(index=names.possible_matches)["count"] >= 6
