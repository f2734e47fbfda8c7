"""A profiles rewrite killed half-way leaves the index's refresh paused (-1): the next run must not
take that for the setting to put back, or profiles written by the live path would never become
searchable again. Real OpenSearch."""

from __future__ import annotations

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.segments.store import _refresh_paused


def _interval(opensearch: OpenSearch, index: str) -> str | None:
    found = opensearch.indices.get_settings(index=index, name="index.refresh_interval", flat_settings=True)
    return next((values["settings"].get("index.refresh_interval") for values in found.values()), None)  # None: unset


def test_a_refresh_left_paused_by_a_killed_run_is_not_restored_paused(opensearch: OpenSearch, names: IndexNames) -> None:
    index = names.profiles
    opensearch.indices.create(index=index, body={"settings": {"index": {"refresh_interval": "-1"}}})

    with _refresh_paused(opensearch, index):
        assert _interval(opensearch, index) == "-1"

    assert _interval(opensearch, index) is None  # the node's default: refreshed again


def test_a_refresh_interval_set_by_hand_is_put_back_after_the_rewrite(opensearch: OpenSearch, names: IndexNames) -> None:
    index = names.profiles
    opensearch.indices.create(index=index, body={"settings": {"index": {"refresh_interval": "5s"}}})

    with _refresh_paused(opensearch, index):
        pass

    assert _interval(opensearch, index) == "5s"
