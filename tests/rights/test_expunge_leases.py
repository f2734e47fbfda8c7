"""Which shards an expunge reports as still holding erased documents, from the node's shard stats
(pure: the stats as OpenSearch answers them; the real node's path is tests/rights/test_cli_erase.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from search.rights.erasure import _holding, _retention


def _stats(*copies: dict[str, Any]) -> Any:
    answer = {"indices": {"rcu-records-v1": {"shards": {"0": list(copies)}}}}
    return SimpleNamespace(indices=SimpleNamespace(stats=lambda **_: answer))


def test_a_shard_copy_still_starting_counts_as_holding_instead_of_failing_the_expunge() -> None:
    primary = {"routing": {"node": "a"}, "seq_no": {"max_seq_no": 41}, "retention_leases": {"leases": [{"retaining_seq_no": 42}]}}
    starting = {"routing": {"node": "b"}}  # a replica recovering: no sequence numbers in its stats yet
    read = _retention(_stats(primary, starting), "rcu-*")
    assert read == {("rcu-records-v1", "0", "a"): (41, 42), ("rcu-records-v1", "0", "b"): (None, None)}
    assert _holding(read, {copy: top for copy, (top, _) in read.items()}) == [("rcu-records-v1", "0", "b")]


def test_a_lease_still_retaining_an_operation_made_before_the_expunge_holds_its_shard() -> None:
    read = {("i", "0", "a"): (50, 30), ("i", "1", "a"): (50, 51), ("new", "0", "a"): (3, 0)}
    # Shard 1's lease passed its target; the index created since the expunge began holds nothing erased.
    assert _holding(read, {("i", "0", "a"): 40, ("i", "1", "a"): 40}) == [("i", "0", "a")]
