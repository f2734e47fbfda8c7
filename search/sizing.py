"""How many primary shards and replicas each of rcu's indices gets.

The rule (README, "Index layout"): an index's primary shards are

    max(floor, ceil(expected records × bytes per record in that index / RCU_SHARD_TARGET_GB))

so no primary shard grows past the target (OpenSearch advises 10–50 GB per shard), and a small
deployment keeps the floor: two records shards let both cores of a small node index at once. An
explicit RCU_RECORDS_SHARDS or RCU_CUSTOMERS_SHARDS wins over the rule. Replicas are the same for
every index (RCU_INDEX_REPLICAS): 0 on one node, 1 on a cluster, so losing a node loses no shard.
The small indices (redirects, resolution state, audit) keep one primary shard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from settings import Settings

BYTES_PER_RECORD = {"records": 840, "customers": 440, "record_customers": 45}
"""Primary store per source record, measured on the demo data set of 20,000 people (47,849 records,
19,660 customers, 2026-11-27, OpenSearch 3.8.0): records 40.1 MB, customers 20.7 MB, record
links 2.2 MB. Customers are counted per record because a customer's size grows with its records."""

FLOOR_SHARDS = {"records": 2, "customers": 1, "record_customers": 2}


def sized_shards(index: str, expected_records: int, shard_target_gb: float) -> int:
    """Primary shards for `index` holding `expected_records` source records (the rule above)."""
    needed = math.ceil(expected_records * BYTES_PER_RECORD[index] / (shard_target_gb * 1024**3))
    return max(FLOOR_SHARDS[index], needed)


@dataclass(frozen=True)
class IndexLayout:
    """Primary shards and replicas of rcu's indices. The defaults are a test's small single node."""

    records_shards: int = 1
    customers_shards: int = 1
    record_customers_shards: int = 2
    replicas: int = 0
    events_period: str = "year"  # how much time one events index holds: "year" or "month" (search.events.store)

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexLayout:
        def shards(index: str, explicit: int | None) -> int:
            return explicit or sized_shards(index, settings.expected_records, settings.shard_target_gb)

        return cls(
            records_shards=shards("records", settings.records_shards),
            customers_shards=shards("customers", settings.customers_shards),
            record_customers_shards=shards("record_customers", None),
            replicas=settings.index_replicas,
            events_period=settings.events_index_period,
        )

    def index_settings(self, shards: int = 1) -> dict[str, Any]:
        """The `index` settings of a new index with `shards` primaries and this layout's replicas."""
        return {"number_of_shards": shards, "number_of_replicas": self.replicas}
