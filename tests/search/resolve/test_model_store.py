"""The stored match model is read whole or not at all: a full run replacing it between the read of
the model document and of its term-frequency buckets never hands a resolution partial counts (every
missing name would count as rare, and name-only links would score high). Real OpenSearch."""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy import OpenSearch

import search.resolve.store as store
from search.indices import IndexNames
from search.resolve.comparisons import comparisons_for
from search.resolve.errors import ModelCountsVanished
from search.resolve.model import MatchModel, default_levels
from search.resolve.store import ensure_resolution_indices, read_model, save_model
from search.resolve.term_frequencies import StoredCounts, bucket_id, stored_counts

COUNTS = {"family": {f"name{n}": 2 + n % 7 for n in range(450)}, "email": {f"x{n}@mail.fr": 2 for n in range(60)}}


def _model(counts: dict[str, dict[str, int]]) -> MatchModel:
    comparisons = comparisons_for()
    tables = [default_levels(c) for c in comparisons]
    return MatchModel(
        names=[c.name for c in comparisons],
        levels=[list(c.levels) for c in comparisons],
        m=[m for m, _ in tables],
        u=[u for _, u in tables],
        prior=1e-4,
        records=1000,
        term_frequencies=counts,
    )


def _stored(opensearch: OpenSearch, names: IndexNames) -> StoredCounts:
    stored = stored_counts(opensearch, names)
    assert stored is not None and stored.buckets > 1
    return stored


def test_a_model_missing_some_of_its_buckets_is_never_loaded_with_partial_counts(opensearch: OpenSearch, names: IndexNames) -> None:
    ensure_resolution_indices(opensearch, names)
    save_model(opensearch, names, _model(COUNTS))
    opensearch.delete(index=names.resolution_state, id=bucket_id(_stored(opensearch, names).generation, 0), refresh=True)

    with pytest.raises(ModelCountsVanished):
        read_model(opensearch, names)


def test_a_model_replaced_between_its_two_reads_is_read_again_with_all_its_counts(
    opensearch: OpenSearch, names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full run saves a new model (and drops the buckets of the one just read) after the model
    document was read and before its buckets are: the load reads the new model, whole."""
    ensure_resolution_indices(opensearch, names)
    save_model(opensearch, names, _model(COUNTS))
    replaced = {"family": {"martin": 40, "quillerou": 3}}
    real_read_tables = store.read_tables
    saves: list[int] = []

    def full_run_saving_in_between(client: OpenSearch, names: IndexNames, stored: StoredCounts) -> Any:
        if not saves:
            saves.append(1)
            save_model(client, names, _model(replaced))
        return real_read_tables(client, names, stored)

    monkeypatch.setattr(store, "read_tables", full_run_saving_in_between)
    assert read_model(opensearch, names).term_frequencies == replaced


def test_a_model_saved_by_a_newer_rcu_loads_without_the_keys_this_version_does_not_know(caplog: pytest.LogCaptureFixture) -> None:
    stored = {**_model(COUNTS).as_dict(), "a_newer_table": {"family": [1, 2]}}

    model = MatchModel.from_dict(stored)

    assert model.as_dict() == _model(COUNTS).as_dict()
    assert "a_newer_table" in caplog.text
