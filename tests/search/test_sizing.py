"""Shards and replicas of rcu's indices, sized from the records a deployment expects: pure."""

from __future__ import annotations

from search.sizing import BYTES_PER_RECORD, IndexLayout, sized_shards
from settings import Settings


def test_a_small_deployment_keeps_two_records_shards_and_one_customers_shard() -> None:
    layout = IndexLayout.from_settings(Settings(expected_records=100_000))
    assert (layout.records_shards, layout.customers_shards, layout.replicas) == (2, 1, 0)


def test_no_primary_shard_grows_past_the_target_size() -> None:
    for expected in (1_000_000, 10_000_000, 50_000_000, 200_000_000):
        for index, per_record in BYTES_PER_RECORD.items():
            shards = sized_shards(index, expected, shard_target_gb=20)
            assert expected * per_record / shards <= 20 * 1024**3
    assert sized_shards("records", 200_000_000, 20) > sized_shards("records", 100_000_000, 20) > 2


def test_explicit_shards_and_replicas_win_over_the_rule() -> None:
    layout = IndexLayout.from_settings(Settings(expected_records=200_000_000, records_shards=4, customers_shards=2, index_replicas=1))
    assert (layout.records_shards, layout.customers_shards, layout.replicas) == (4, 2, 1)
    assert layout.index_settings(3) == {"number_of_shards": 3, "number_of_replicas": 1}
