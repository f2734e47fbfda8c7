"""The first erasure after a full run pays for nothing the run left behind: a full run leaves every
index it wrote searchable (its changes, its model, its records' keys), so the erasure's one refresh
of what it searches finds nothing of the run's to refresh."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from tests.rights.conftest import no_periodic_refresh
from tests.rights.people import CAMILLE, GASPARD, NEIGHBOUR


def _updated_changes(client: OpenSearch, names: IndexNames) -> int:
    """Changes of kind `updated` a search sees now, without refreshing first."""
    return int(client.count(index=names.changes, body={"query": {"term": {"kind": "updated"}}})["count"])


def test_a_full_run_leaves_the_changes_it_wrote_searchable_without_a_reader_refreshing(
    opensearch: OpenSearch, names: IndexNames, ingest: Any
) -> None:
    ingest(CAMILLE + GASPARD + NEIGHBOUR)
    resolve_all(opensearch, names, ResolutionConfig())
    moved = {**GASPARD[0], "city": "Quimper", "postcode": "29000", "updated_at": "2026-11-01T10:00:00Z"}
    ingest([moved])  # Gaspard moved: the next full run writes an `updated` change
    assert _updated_changes(opensearch, names) == 0

    with no_periodic_refresh(opensearch, names.prefix):  # only what the run refreshes itself is seen
        resolve_all(opensearch, names, ResolutionConfig())
        seen = _updated_changes(opensearch, names)
        opensearch.indices.refresh(index=names.changes)
        assert seen == _updated_changes(opensearch, names) >= 1, "the run's changes were left for the first reader to refresh"
