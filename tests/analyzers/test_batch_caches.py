"""Normalizers cache customers' values during a batch (an ingest or resolution run) and forget them
when it ends: pure, no node."""

from __future__ import annotations

import pytest

from analyzers.caching import batch_caches
from analyzers.names import fold_name
from tests.caches import caches_holding


def test_an_ingest_batch_reuses_a_folded_name_and_forgets_it_when_it_ends() -> None:
    with batch_caches():
        assert fold_name("Hélène Quérandeau") == "helene querandeau"
        assert caches_holding("querandeau")  # the batch's speed: folded once, reused
        with batch_caches():  # a nested batch (a resolution inside an ingest) closes without forgetting
            fold_name("Hélène Quérandeau")
        assert caches_holding("querandeau")
    assert caches_holding("querandeau") == []


def test_a_batch_that_fails_forgets_its_values_too() -> None:
    with pytest.raises(RuntimeError), batch_caches():
        fold_name("Octave Brûlemaille")
        raise RuntimeError("the node went away")
    assert caches_holding("brulemaille") == []


def test_outside_a_batch_nothing_is_kept() -> None:
    assert fold_name("Zéphirin Ouvrardière") == "zephirin ouvrardiere"
    assert caches_holding("ouvrardiere") == []
