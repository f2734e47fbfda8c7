"""The ingestion contract as a property (hypothesis, real node): whatever a file holds — any JSON
value in any field, any depth, any string, any date, ids everywhere, bytes that are not JSON —
every line ends up indexed, unchanged, stale, deleted or rejected with a reason; never a
traceback, never a lost neighbour."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from opensearchpy import OpenSearch

from indexers.contract import RecordRejected, validate_record
from indexers.report import OUTCOMES
from search.indices import IndexNames
from tests.conftest import Ingest
from tests.contract_strategies import edge_records, line_bytes, raw_lines, records

EXAMPLES = itertools.count()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(raw_lines, max_size=6), edge=edge_records, where=st.integers(0, 6))
def test_every_line_of_any_file_is_accounted_for_and_its_neighbours_indexed(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames, tmp_path: Path, lines: list[bytes], edge: dict, where: int
) -> None:
    lines.insert(where, line_bytes(edge))  # every file holds at least one value at an edge of the contract
    run = next(EXAMPLES)
    before = f'{{"source": "crm", "source_id": "before-{run}", "family_name": "Avant"}}'.encode()
    after = f'{{"source": "crm", "source_id": "after-{run}", "family_name": "Après"}}'.encode()
    # Lines are written as they are; a blank one is no record (README), so the count leaves them out.
    written = [before, *(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines), after]
    summary, report = ingest(written)
    counted = sum(1 for line in written if line.decode("utf-8", errors="replace").removeprefix("\ufeff").strip())
    assert summary.read == counted, summary.line()
    assert sum(summary.outcomes[name] for name in OUTCOMES) == summary.read, summary.line()
    rejected = [entry for entry in report if entry["kind"] == "rejected"]
    assert len(rejected) == summary.rejected and all(entry["reason"] for entry in rejected)
    found = opensearch.mget(index=names.records, body={"ids": [f"crm:before-{run}", f"crm:after-{run}"]})["docs"]
    assert all(doc["found"] for doc in found), "a neighbour of the generated lines was lost"


def _valid(record: dict) -> bool:
    try:
        validate_record(record)
    except RecordRejected:
        return False
    return True


def test_the_generated_records_hold_both_valid_and_invalid_ones() -> None:
    # The property above is only as good as its records: some must be indexed, some rejected.
    assert _valid(find(records, _valid)) and not _valid(find(records, lambda r: not _valid(r)))
