"""Ships the audit journal (search.audit_journal) to the audit index in the background.

At least once, nothing lost: entries are sent in bulk `create` requests under their journal ids, so
an entry sent twice (a crash between the bulk and the cursor's save) is kept once — the second
create answers 409, taken as shipped. The cursor moves only past entries the index acknowledged;
a failed bulk is sent again, later, from the same place. A segment the index holds entirely is
deleted. Slots left by a process that died are shipped first, then removed.

Every entry is sealed on the way (search.audit_seal): each customer id becomes its keyed token,
the query typed is encrypted under the shown customers' keys; ids seen for the first time get
their key here (search.audit_keys). The journal on the API's disk holds entries in clear until
they are shipped (about a second, settings.audit_ship_interval_s). An entry about a customer
erased in the meantime (by the CLI, or before a crash) takes the pseudonym the erasure gave it and
loses its query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass

import orjson
from opensearchpy import AsyncOpenSearch

from search.audit_journal import AuditFailed, AuditJournal, JournalSlot, Position, split_line
from search.audit_keys import async_create_keys, async_forget_keys, async_keys_of, ensure_keyring
from search.audit_seal import is_pseudonym, seal_entry, tokens_of
from search.indices import IndexNames
from search.redirects import ERASED_MARKER
from search.rights.trail import pseudonym

log = logging.getLogger(__name__)

SHIPPER_TASK = "audit_shipper"  # the background task's name: its requests are nobody's answer's


@dataclass(frozen=True)
class ShippingLimits:
    batch_bytes: int  # journal bytes per bulk request
    interval_s: float  # least time between two bulks while entries keep coming
    retry_s: float  # wait after a failed bulk


class AuditShipper:
    """Sends each slot's entries from its cursor to what is durable, in order."""

    def __init__(
        self, journal: AuditJournal, client: AsyncOpenSearch, names: IndexNames, limits: ShippingLimits, suppression_key: bytes | None
    ) -> None:
        self.journal = journal
        self.client = client
        self.names = names
        self.limits = limits
        self.suppression_key = suppression_key
        self.orphans: list[JournalSlot] = []
        self.shipped_entries = 0
        self._lock = asyncio.Lock()
        self._keyring_ready = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.orphans = self.journal.orphans()
        if self.orphans:
            log.info("audit_journal_replay slots=%s", len(self.orphans))
        self._task = asyncio.create_task(self._run(), name=SHIPPER_TASK)

    async def _run(self) -> None:
        while True:
            try:
                await self.ship()
            except Exception as error:  # noqa: BLE001 - the node is away or busy: the journal keeps the entries
                log.warning("audit_ship_failed error=%s", type(error).__name__)
                await asyncio.sleep(self.limits.retry_s)
                continue
            await self.journal.written.wait()
            self.journal.written.clear()
            await asyncio.sleep(self.limits.interval_s)  # entries keep coming: the next bulk carries them all

    async def ship(self) -> int:
        """Ships everything durable now (the orphans' entries first); entries shipped."""
        async with self._lock:
            shipped = 0
            for slot in list(self.orphans):
                shipped += await self._ship_slot(slot, None)
                slot.remove()
                self.orphans.remove(slot)
            if self.journal.slot is not None:
                shipped += await self._ship_slot(self.journal.slot, self.journal.durable)
            self.shipped_entries += shipped
            return shipped

    async def flush(self, timeout_s: float) -> None:
        """Everything written so far is in the audit index on return (AuditFailed after `timeout_s`):
        what a reader of the trail in this process must see."""
        try:
            await asyncio.wait_for(self.ship(), timeout_s)
        except Exception as error:
            raise AuditFailed(f"the audit journal could not be shipped: {type(error).__name__}") from error

    async def stop(self, timeout_s: float) -> None:
        """Stops shipping after a last attempt; the process's slot goes if everything was shipped."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.wait_for(self.ship(), timeout_s)
        except Exception as error:  # noqa: BLE001 - the slot stays; the next process ships it
            log.warning("audit_ship_at_stop_failed error=%s", type(error).__name__)
            return
        finally:
            for slot in self.orphans:
                slot.release()
        if self.journal.slot is not None:
            self.journal.slot.remove()

    async def _ship_slot(self, slot: JournalSlot, durable: Position | None) -> int:
        """From the slot's cursor to `durable` (to the end of every segment for a dead process's slot)."""
        shipped = 0
        for segment in slot.segments():
            cursor = slot.cursor()
            if segment < cursor.segment:
                slot.path(segment).unlink(missing_ok=True)  # shipped before a crash, not yet deleted
                continue
            start = cursor.offset if segment == cursor.segment else 0
            end = durable.offset if durable is not None and segment == durable.segment else None
            with slot.path(segment).open("rb") as file:
                while True:
                    file.seek(start)
                    chunk = file.read(self.limits.batch_bytes if end is None else min(self.limits.batch_bytes, end - start))
                    complete = chunk[: chunk.rfind(b"\n") + 1]
                    if not complete:
                        break
                    shipped += await self._send(complete)
                    start += len(complete)
                    slot.save_cursor(Position(segment, start))
            if durable is not None and segment == durable.segment:
                break  # the segment being written: more comes
            slot.save_cursor(Position(segment + 1, 0))
            slot.path(segment).unlink(missing_ok=True)
        return shipped

    async def _send(self, lines: bytes) -> int:
        """One bulk request for `lines`, each entry sealed (_seal): one real-time read of the keyring
        per request, and a second (creating keys, looking for erasures) when an id has no key yet."""
        entries = []
        for line in lines.splitlines():
            if (entry := split_line(line)) is not None:
                entries.append(entry)
            else:
                log.warning("audit_journal_unreadable_line bytes=%s", len(line))  # never the line: it holds personal data
        if not entries:
            return 0
        entries = await self._seal(entries)
        index = orjson.dumps(self.names.audit)
        body = b"".join(b'{"create":{"_index":%s,"_id":"%s"}}\n%s\n' % (index, entry_id, document) for entry_id, document in entries)
        response = await self.client.bulk(body=body)
        refused = []
        for (entry_id, sealed), item in zip(entries, response["items"], strict=True):
            status = item["create"].get("status", 500)
            if status < 300 or status == 409:  # 409: shipped before (a replay)
                continue
            if status == 429 or status >= 500:
                raise AuditFailed(f"the audit index is busy or failing ({status})")
            refused.append((entry_id, sealed, item["create"].get("error", {}).get("type", "unknown")))
        if refused:
            self._keep_refused(refused)
        return len(entries)

    def _keep_refused(self, refused: list[tuple[bytes, bytes, str]]) -> None:
        """Entries the index refuses for good (a mapping it no longer accepts) would stop the
        shipper forever: they are kept aside in the journal folder, for an operator, and reported —
        sealed as they were sent: neither a customer id nor what was typed stays on disk in clear."""
        path = self.journal.folder / "refused.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, b"".join(b"%s %s\n" % (entry_id, document) for entry_id, document, _ in refused))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        log.error("audit_entries_refused count=%s error=%s kept_in=%s", len(refused), refused[0][2], path)

    async def _seal(self, entries: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The entries sealed under their customers' keys (search.audit_seal), keys created for
        ids that have none yet; an id erased meanwhile (its key gone, its `erased` marker there)
        gets no new key: it becomes the pseudonym the erasure gave it and the query goes."""
        documents = [orjson.loads(document) for _, document in entries]
        ids = sorted({c for document in documents for c in document.get("customer_ids") or [] if not is_pseudonym(c)})
        keys: dict[str, bytes] = {}
        stand_ins: dict[str, str] = {}
        if ids:
            if not self._keyring_ready:
                await ensure_keyring(self.client, self.names)
                self._keyring_ready = True
            keys = await async_keys_of(self.client, self.names, ids)
            missing = [i for i in ids if i not in keys]
            if missing:
                stand_ins = await self._erased(missing)
                created = [i for i in missing if i not in stand_ins]
                keys |= await async_create_keys(self.client, self.names, created)
                # An erasure that read the keyring before these keys existed has written its markers
                # since: the key goes, the stand-in is used (the erasure, reading the keyring again
                # after its markers, deletes it too, whichever of the two comes second).
                late = await self._erased(created) if created else {}
                if late:
                    await async_forget_keys(self.client, self.names, sorted(late))
                    keys = {i: k for i, k in keys.items() if i not in late}
                    stand_ins |= late
        tokens = tokens_of(keys)  # once per batch: the entries of one agent's keystrokes show the same customers
        return [
            (entry_id, orjson.dumps(seal_entry(document, keys, stand_ins, tokens)))
            for (entry_id, _), document in zip(entries, documents, strict=True)
        ]

    async def _erased(self, ids: list[str]) -> dict[str, str]:
        """id → pseudonym of the ids among `ids` an erasure took (their `erased` markers)."""
        response = await self.client.mget(index=self.names.redirects, body={"ids": [ERASED_MARKER.format(i) for i in ids]}, ignore=[404])
        return {
            customer_id: doc["_source"].get("pseudonym")
            or (pseudonym(self.suppression_key, customer_id) if self.suppression_key else "erased")
            for customer_id, doc in zip(ids, response.get("docs", []), strict=True)
            if doc.get("found")
        }
