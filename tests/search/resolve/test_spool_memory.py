"""A full run's spool (DuckDB) that needs more memory than it may hold stops the run with rcu's own
error naming the setting to raise — an exit code and one line, never DuckDB's traceback."""

from __future__ import annotations

import duckdb
import pytest

from rcu.errors import EXIT_USAGE, exit_rule
from search.resolve.errors import SpoolOutOfMemory
from search.resolve.partitioned import spool_memory_bound


def test_a_spool_out_of_memory_stops_the_run_naming_the_setting_to_raise_instead_of_a_traceback() -> None:
    spool = duckdb.connect(config={"memory_limit": "16MB", "threads": "1"})
    with pytest.raises(SpoolOutOfMemory) as raised, spool_memory_bound(16):
        spool.execute("SELECT list(i) FROM range(20000000) t(i)").fetchall()  # one list: nothing to spill
    rule = exit_rule(raised.value)
    assert rule is not None and rule.code == EXIT_USAGE
    message = rule.message(raised.value)
    assert "16 MB" in message and "spool_memory_mb" in message and "rcu resolve --full" in message
