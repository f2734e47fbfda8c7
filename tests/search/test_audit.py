"""The audit trail under concurrent look-ups (real node): every entry is fsynced to the local journal
before its look-up goes on, concurrent entries share fsyncs, a look-up that goes away loses no other
entry, and the shipper carries every entry to the audit index exactly once — after a crash too,
torn last line and all, and pseudonymized when its customer was erased in the meantime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from opensearchpy import AsyncOpenSearch, OpenSearch
from typer.testing import CliRunner

from rcu.cli import app as cli
from search import audit_seal, audit_shipper
from search.audit import AuditEntry, AuditWriter, audit_entries, ensure_audit_index
from search.audit_journal import AuditFailed, AuditJournal, JournalSlot, Position, split_line
from search.audit_keys import ensure_keyring, keys_of
from search.audit_shipper import AuditShipper, ShippingLimits
from search.client import async_client, sync_client
from search.indices import IndexNames
from search.redirects import ERASED_MARKER
from settings import Settings, get_settings

T = TypeVar("T")
LIMITS = ShippingLimits(batch_bytes=64 * 1024, interval_s=0.0, retry_s=0.1)


class CountingJournal(AuditJournal):
    """The real journal, counting its fsyncs."""

    syncs = 0

    def _write_and_sync(self, data: bytes) -> None:
        self.syncs += 1
        super()._write_and_sync(data)


def _run(settings: Settings, names: IndexNames, scenario: Callable[[AsyncOpenSearch], Awaitable[T]]) -> T:
    async def main() -> T:
        client = async_client(settings)
        try:
            await ensure_audit_index(client, names)
            return await scenario(client)
        finally:
            await client.close()

    return asyncio.run(main())


def _journal_lines(folder: Path) -> list[dict[str, Any]]:
    lines = [split_line(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_bytes().splitlines()]
    return [{"id": entry_id.decode(), **orjson.loads(document)} for entry_id, document in filter(None, lines)]


def test_concurrent_look_ups_each_wait_for_their_entry_on_disk_and_share_fsyncs(tmp_path: Path) -> None:
    async def scenario() -> int:
        journal = CountingJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        writer = AuditWriter(journal)
        await asyncio.gather(*(writer.record(AuditEntry(f"agent-{n}", "counter", "search", [f"C{n:012d}"], f"dup{n}")) for n in range(200)))
        journal.close()
        return journal.syncs

    syncs = asyncio.run(scenario())
    lines = _journal_lines(tmp_path)
    assert sorted(e["customer_ids"][0] for e in lines) == [f"C{n:012d}" for n in range(200)]
    assert len({e["id"] for e in lines}) == 200 and all(e["at"] and e["role"] == "counter" for e in lines)
    assert syncs < 20, f"{syncs} fsyncs for 200 concurrent entries"


def test_a_look_up_gone_away_loses_no_other_entry(tmp_path: Path) -> None:
    async def scenario() -> None:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        writer = AuditWriter(journal)
        gone = asyncio.create_task(writer.record(AuditEntry("agent-gone", "counter", "search", ["C000000000001"], "dup")))
        staying = [
            asyncio.create_task(writer.record(AuditEntry(f"agent-{n}", "counter", "search", [f"C1{n:011d}"], "dup"))) for n in range(5)
        ]
        await asyncio.sleep(0)
        gone.cancel()  # its entry was queued; nobody waits for it any more
        await asyncio.wait_for(asyncio.gather(*staying), timeout=30)
        await asyncio.wait_for(writer.record(AuditEntry("agent-later", "counter", "card", ["C200000000000"], None)), timeout=30)
        journal.close()

    asyncio.run(scenario())
    assert {f"agent-{n}" for n in range(5)} | {"agent-later"} <= {e["caller"] for e in _journal_lines(tmp_path)}


def test_every_entry_reaches_the_audit_index_once_even_when_shipped_twice(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path
) -> None:
    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=2048)  # small segments: several are closed, shipped and deleted
        journal.open()
        writer = AuditWriter(journal)
        shipper = AuditShipper(journal, client, names, LIMITS, None)
        for n in range(60):
            await writer.record(AuditEntry("agent", "counter", "search", [f"C{n:012d}"], f"dup{n}"))
        assert await shipper.ship() == 60
        assert journal.slot is not None
        journal.slot.save_cursor(Position(1, 0))  # a crash lost the cursor: everything left goes again
        await shipper.ship()
        return await audit_entries(client, names, None, 500)

    shipped = _run(opensearch_settings, names, scenario)
    assert sorted(e["customer_ids"][0] for e in shipped) == [f"C{n:012d}" for n in range(60)]
    assert len(list(tmp_path.rglob("*.jsonl"))) == 1, "shipped segments are deleted (they hold what agents typed)"


def test_a_dead_process_slot_is_shipped_without_its_torn_last_line_then_removed(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path
) -> None:
    dead = tmp_path / "slot-1-dead"
    dead.mkdir()
    lines = [b"%032d " % n + orjson.dumps({"at": "2026-11-27T06:00:00+00:00", "caller": "agent", "role": "counter",
                           "action": "search", "customer_ids": [f"C{n:012d}"], "query": "dup", "outcome": "found"}) for n in range(3)]  # fmt: skip
    (dead / "000001.jsonl").write_bytes(b"\n".join(lines) + b'\n%032d {"at": "2026-11-27T06:0' % 3)

    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        shipper = AuditShipper(journal, client, names, LIMITS, None)
        shipper.start()
        await shipper.flush(30)
        await shipper.stop(30)
        journal.close()
        return await audit_entries(client, names, None, 500)

    shipped = _run(opensearch_settings, names, scenario)
    assert sorted(e["customer_ids"][0] for e in shipped) == [f"C{n:012d}" for n in range(3)]
    assert not dead.exists() and not list(tmp_path.glob("slot-*")), "shipped slots are removed"


def test_a_live_process_slot_is_left_to_its_process(tmp_path: Path) -> None:
    first = AuditJournal(tmp_path, segment_bytes=1 << 20)
    first.open()
    second = AuditJournal(tmp_path, segment_bytes=1 << 20)
    second.open()
    assert second.orphans() == [], "a slot whose process lives is not shipped by another"
    assert first.slot is not None
    first.slot.release()  # its process is gone
    assert [slot.folder for slot in second.orphans()] == [first.slot.folder]


def test_entries_about_a_customer_erased_meanwhile_reach_the_index_pseudonymized(
    opensearch_settings: Settings, opensearch: OpenSearch, names: IndexNames, tmp_path: Path
) -> None:
    opensearch.index(index=names.redirects, id=ERASED_MARKER.format("C000000000042"), body={"old_id": "C000000000042", "kind": "erased",
                     "at": "2026-11-27T06:00:00+00:00", "pseudonym": "erased-abc"}, refresh=True)  # fmt: skip

    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        writer = AuditWriter(journal)
        await writer.record(AuditEntry("agent", "counter", "search", ["C000000000042", "C000000000043"], "camille martin"))
        await writer.record(AuditEntry("agent", "counter", "search", ["C000000000044"], "dupont"))
        await AuditShipper(journal, client, names, LIMITS, b"key").ship()
        return await audit_entries(client, names, None, 500)

    by_query = {e.get("query"): e for e in _run(opensearch_settings, names, scenario)}
    assert by_query[None]["customer_ids"] == ["C000000000043", "erased-abc"], (
        "the erased id gives way to its pseudonym, what was typed goes"
    )
    assert by_query["dupont"]["customer_ids"] == ["C000000000044"]


def test_look_ups_are_answered_while_the_index_is_away_and_their_entries_follow(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path
) -> None:
    away = opensearch_settings.model_copy(update={"opensearch_url": "http://127.0.0.1:9", "api_opensearch_timeout_s": 0.5})

    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        writer = AuditWriter(journal)
        unreachable = async_client(away)
        try:
            stranded = AuditShipper(journal, unreachable, names, LIMITS, None)
            stranded.start()
            for n in range(5):
                await asyncio.wait_for(writer.record(AuditEntry("agent", "counter", "search", [f"C{n:012d}"], "dup")), timeout=5)
            await asyncio.sleep(0.3)  # it tries, and fails
            await stranded.stop(0.5)
        finally:
            await unreachable.close()
        journal.close()
        assert journal.slot is not None and journal.slot.folder.exists(), "unshipped entries stay on disk"
        journal.slot.release()
        successor = AuditJournal(tmp_path, segment_bytes=1 << 20)
        successor.open()
        shipper = AuditShipper(successor, client, names, LIMITS, None)
        shipper.start()
        await shipper.flush(30)
        await shipper.stop(30)
        successor.close()
        return await audit_entries(client, names, None, 500)

    assert sorted(e["customer_ids"][0] for e in _run(opensearch_settings, names, scenario)) == [f"C{n:012d}" for n in range(5)]


def test_a_slot_folder_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    journal = AuditJournal(tmp_path / "journal", segment_bytes=1 << 20)
    journal.open()
    assert journal.slot is not None
    assert isinstance(journal.slot, JournalSlot)
    assert (journal.slot.folder.stat().st_mode & 0o077) == 0
    assert all((path.stat().st_mode & 0o077) == 0 for path in journal.slot.folder.iterdir())
    journal.close()


def test_an_entry_the_index_refuses_for_good_is_kept_aside_and_does_not_stop_the_others(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path
) -> None:
    dead = tmp_path / "slot-1-dead"
    dead.mkdir()
    good = b"%032d " % 1 + orjson.dumps({"at": "2026-11-27T06:00:00+00:00", "caller": "agent", "role": "counter", "action": "search",
                                         "customer_ids": ["C000000000001"], "query": "dup", "outcome": "found"})  # fmt: skip
    unmapped = b"%032d " % 2 + orjson.dumps({"at": "2026-11-27T06:00:00+00:00", "caller": "agent", "no_such_field": 1})
    (dead / "000001.jsonl").write_bytes(unmapped + b"\n" + good + b"\n")

    assert [e["customer_ids"] for e in _ship_dead_slot(opensearch_settings, names, tmp_path)] == [["C000000000001"]]
    kept = split_line((tmp_path / "refused.jsonl").read_bytes().rstrip(b"\n"))
    assert kept is not None and kept[0] == b"%032d" % 2
    assert orjson.loads(kept[1]).items() >= {"caller": "agent", "no_such_field": 1}.items(), "kept as it was sent, sealed"


def _ship_dead_slot(opensearch_settings: Settings, names: IndexNames, tmp_path: Path) -> list[dict[str, Any]]:
    """What a new API process ships of the dead process's slot under `tmp_path`; the trail then."""

    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        shipper = AuditShipper(journal, client, names, LIMITS, None)
        shipper.start()
        await shipper.flush(30)
        await shipper.stop(30)
        journal.close()
        return await audit_entries(client, names, None, 500)

    return _run(opensearch_settings, names, scenario)


def test_an_entry_kept_aside_holds_neither_the_customer_shown_nor_what_was_typed(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path
) -> None:
    unmapped = {"at": "2026-11-27T06:00:00+00:00", "caller": "agent", "role": "counter", "action": "search",
                "customer_ids": ["C000000000071"], "query": "odile vernet 0633221100", "no_such_field": 1}  # fmt: skip
    (tmp_path / "slot-1-dead").mkdir()
    (tmp_path / "slot-1-dead" / "000001.jsonl").write_bytes(b"%032d " % 0 + orjson.dumps(unmapped) + b"\n")
    _ship_dead_slot(opensearch_settings, names, tmp_path)
    kept = (tmp_path / "refused.jsonl").read_bytes()
    assert kept.startswith(b"%032d " % 0) and b"no_such_field" in kept, "the operator still sees what was refused"
    assert b"C000000000071" not in kept and b"odile" not in kept and b"0633221100" not in kept


def test_an_entry_whose_key_cannot_be_made_waits_in_the_journal_instead_of_shipping_in_clear(
    opensearch_settings: Settings, opensearch: OpenSearch, names: IndexNames, tmp_path: Path
) -> None:
    async def scenario(client: AsyncOpenSearch) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        writer = AuditWriter(journal)
        shipper = AuditShipper(journal, client, names, LIMITS, None)
        await ensure_keyring(client, names)
        opensearch.indices.put_settings(index=names.keyring, body={"index": {"blocks.write": True}})
        try:
            await writer.record(AuditEntry("agent", "counter", "search", ["C000000000051"], "odile vernet"))
            with pytest.raises(AuditFailed):
                await shipper.ship()
            opensearch.indices.refresh(index=names.audit)
            stored = [hit["_source"] for hit in opensearch.search(index=names.audit, body={"size": 10})["hits"]["hits"]]
        finally:
            opensearch.indices.put_settings(index=names.keyring, body={"index": {"blocks.write": False}})
        await shipper.ship()  # the keyring takes writes again: the entry goes, sealed
        journal.close()
        return stored, await audit_entries(client, names, None, 10)

    stored, shipped = _run(opensearch_settings, names, scenario)
    assert stored == [], "nothing reached the audit index while its key could not be made"
    assert [(e["customer_ids"], e["query"]) for e in shipped] == [(["C000000000051"], "odile vernet")]
    opensearch.indices.refresh(index=names.audit)
    assert "C000000000051" not in str(opensearch.search(index=names.audit, body={"size": 10})["hits"]["hits"])


def test_a_key_made_for_a_customer_erased_meanwhile_goes_and_the_entry_takes_the_erasure_s_stand_in(
    opensearch_settings: Settings, opensearch: OpenSearch, names: IndexNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = audit_shipper.async_create_keys

    async def create_while_an_erasure_marks_him(client: AsyncOpenSearch, names: IndexNames, ids: list[str]) -> dict[str, bytes]:
        keys = await real_create(client, names, ids)  # the erasure read the keyring before this key existed
        opensearch.index(index=names.redirects, id=ERASED_MARKER.format("C000000000061"), body={"old_id": "C000000000061", "kind": "erased",
                         "at": "2026-11-27T06:00:00+00:00", "pseudonym": "erased-def"}, refresh=True)  # fmt: skip
        return keys

    monkeypatch.setattr(audit_shipper, "async_create_keys", create_while_an_erasure_marks_him)

    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        await AuditWriter(journal).record(AuditEntry("agent", "counter", "search", ["C000000000061"], "gaspard vernet"))
        await AuditShipper(journal, client, names, LIMITS, None).ship()
        journal.close()
        return await audit_entries(client, names, None, 10)

    assert [(e["customer_ids"], e.get("query")) for e in _run(opensearch_settings, names, scenario)] == [(["erased-def"], None)]
    assert keys_of(opensearch, names, ["C000000000061"]) == {}, "his key, made after the erasure read the keyring, is gone"


def test_rcu_audit_ship_sends_what_a_dead_api_left_in_its_journal(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = tmp_path / "slot-1-dead"
    dead.mkdir()
    entry = {"at": "2026-11-27T06:00:00+00:00", "caller": "agent", "role": "counter", "action": "card",
             "customer_ids": ["C000000000007"], "query": "2900000000017", "outcome": "found"}  # fmt: skip
    (dead / "000001.jsonl").write_bytes(b"%032d " % 7 + orjson.dumps(entry) + b"\n")
    monkeypatch.setenv("RCU_INDEX_PREFIX", names.prefix)
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_settings.opensearch_url)
    monkeypatch.setenv("RCU_AUDIT_JOURNAL_PATH", str(tmp_path))
    get_settings.cache_clear()
    try:
        shipped = CliRunner().invoke(cli, ["audit", "ship"])
    finally:
        get_settings.cache_clear()
    assert shipped.exit_code == 0, shipped.output
    assert "shipped 1 audit entries" in shipped.output
    assert [e["customer_ids"] for e in _run(opensearch_settings, names, lambda client: audit_entries(client, names, None, 10))] == [
        ["C000000000007"]
    ]
    assert not dead.exists()


def test_a_batch_of_keystrokes_showing_the_same_customers_ships_sealed_each_token_computed_once(
    opensearch_settings: Settings, names: IndexNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An agent typing "dup", "dupo", "dupon", "dupont" is shown the same customers entry after entry:
    # their tokens are computed once per batch (search.audit_seal.tokens_of), not once per entry.
    computed: list[str] = []
    real_token = audit_seal.token

    def counted(key: bytes, customer_id: str) -> str:
        computed.append(customer_id)
        return real_token(key, customer_id)

    monkeypatch.setattr(audit_seal, "token", counted)
    shown = [f"CSAME{n:08d}" for n in range(10)]
    typed = ["dup", "dupo", "dupon", "dupont", "dupont j", "dupont je"]

    async def scenario(client: AsyncOpenSearch) -> list[dict[str, Any]]:
        journal = AuditJournal(tmp_path, segment_bytes=1 << 20)
        journal.open()
        writer = AuditWriter(journal)
        shipper = AuditShipper(journal, client, names, LIMITS, None)
        for query in typed:
            await writer.record(AuditEntry("agent-batch", "counter", "search", shown, query))
        computed.clear()  # the keys' creation names each id once too
        assert await shipper.ship() == len(typed)
        assert sorted(computed) == shown, "one token per customer for the whole batch"
        return await audit_entries(client, names, shown[0], 50)

    opened = [e for e in _run(opensearch_settings, names, scenario) if e["caller"] == "agent-batch"]
    assert sorted(e["query"] for e in opened) == sorted(typed), "every entry shipped, its query readable with its customers' keys"
    assert all(e["customer_ids"] == shown for e in opened)
    sealed = sync_client(opensearch_settings).search(index=names.audit, body={"query": {"term": {"caller": "agent-batch"}}, "size": 50})[
        "hits"
    ]["hits"]
    assert len(sealed) == len(typed) and all("customer_ids" not in h["_source"] or not h["_source"]["customer_ids"] for h in sealed)
    assert not any("dup" in str(h["_source"]) for h in sealed), "what was typed is sealed in the index"
