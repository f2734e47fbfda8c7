"""The audit writer's clock (pure, a journal on disk, no node): every entry and a key's
`misuse_suspected` are stamped by the clock the API was given, and the suspicion's id is that
clock's hour — so two processes given one clock leave one suspicion, whatever the wall clock says."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from search.audit import AuditEntry
from search.audit_journal import AuditJournal, split_line
from search.misuse import WatchedAuditWriter, suspicion_id

LAST_MOMENT = datetime(2026, 11, 28, 10, 59, 59, 999_000, tzinfo=UTC)


def _journal(folder: Path) -> list[dict[str, Any]]:
    lines = [split_line(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_bytes().splitlines()]
    return [{"id": entry_id.decode(), **orjson.loads(document)} for entry_id, document in filter(None, lines)]


def test_entries_and_the_suspicion_carry_the_clock_the_writer_was_given(tmp_path: Path) -> None:
    async def reads_past_the_limit(folder: Path) -> None:
        journal = AuditJournal(folder, segment_bytes=1 << 20)
        journal.open()
        writer = WatchedAuditWriter(journal, {"campaigns": 2}, 0.0, lambda: LAST_MOMENT)
        for n in range(4):
            await writer.record(AuditEntry("leaked key", "campaigns", "customer", [f"C{n:012d}"], None))
        journal.close()

    for process in ("first", "second"):  # two API processes given the same clock
        asyncio.run(reads_past_the_limit(tmp_path / process))
    entries = _journal(tmp_path)
    assert {e["at"] for e in entries} == {LAST_MOMENT.isoformat()}
    suspicions = {e["id"] for e in entries if e["action"] == "misuse_suspected"}
    assert suspicions == {suspicion_id("leaked key", LAST_MOMENT.isoformat())}
    assert len([e for e in entries if e["action"] == "misuse_suspected"]) == 2  # one per process, one id: the index keeps one
