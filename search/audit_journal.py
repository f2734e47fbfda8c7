"""The audit journal: where an audit entry is made durable before the answer it records leaves.

An append-only file on the API's own disk, written with group commit: the entries of the look-ups
arriving while one write-and-fsync is under way wait and go together in the next one, and each
look-up waits for the fsync that holds its entry — a local disk sync, not a network round trip.
`search.audit_shipper` sends the entries to the audit index in the background.

On disk, one folder per API process (a *slot*) under the journal folder:

    <journal>/<slot>/lock            held (flock) by the process writing the slot
    <journal>/<slot>/000001.jsonl    segments, one entry a line: its id (32 hex digits), a space,
                                     the audit index's document as JSON
    <journal>/refused.jsonl          entries the audit index refused for good (kept, never dropped)
    <journal>/<slot>/shipped         how far the shipper got: "<segment> <byte offset>"

A slot whose lock nobody holds belongs to a process that died (or stopped before shipping all):
the next process ships what it holds, then removes it. Several API workers on one machine each
write their own slot. A crash mid-write can leave a torn last line; it was never fsynced, so its
look-up was never answered: it is cut off when the slot is read again.

Entries hold personal data (the query an agent typed): files are created readable by their owner
only, and a segment is deleted as soon as the audit index holds all its entries.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".jsonl"


class AuditFailed(Exception):
    """The audit trail refused an entry: the look-up it records is not served."""


@dataclass(frozen=True, order=True)
class Position:
    """A place in a slot: a segment number and a byte offset in it."""

    segment: int
    offset: int


def segment_name(number: int) -> str:
    return f"{number:06d}{SEGMENT_SUFFIX}"


ID_LENGTH = 32


def split_line(line: bytes) -> tuple[bytes, bytes] | None:
    """A journal line's entry id and document, or None for a line that is not one."""
    if len(line) <= ID_LENGTH + 1 or line[ID_LENGTH : ID_LENGTH + 1] != b" ":
        return None
    return line[:ID_LENGTH], line[ID_LENGTH + 1 :]


class JournalSlot:
    """One slot's folder: its segments, its shipping cursor and its lock."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock_fd: int | None = None

    def try_lock(self) -> bool:
        """Holds the slot's lock if nobody does; False when a live process writes or ships it."""
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    def segments(self) -> list[int]:
        return sorted(int(path.stem) for path in self.folder.glob(f"*{SEGMENT_SUFFIX}") if path.stem.isdigit())

    def path(self, segment: int) -> Path:
        return self.folder / segment_name(segment)

    def cursor(self) -> Position:
        """How far the shipper got; the first segment's start when it never shipped."""
        try:
            segment, offset = (self.folder / "shipped").read_text().split()
            return Position(int(segment), int(offset))
        except (OSError, ValueError):
            segments = self.segments()
            return Position(segments[0] if segments else 1, 0)

    def save_cursor(self, position: Position) -> None:
        """Written atomically, not synced: a cursor lost in a crash only ships entries again, and
        the audit index keeps one copy of each (entries are created under their own ids)."""
        temporary = self.folder / "shipped.tmp"
        temporary.write_text(f"{position.segment} {position.offset}")
        os.replace(temporary, self.folder / "shipped")

    def cut_torn_tail(self) -> int:
        """Cuts a torn last line (a write the crash interrupted) off the last segment; bytes cut."""
        segments = self.segments()
        if not segments:
            return 0
        path = self.path(segments[-1])
        data = path.read_bytes()
        kept = data.rfind(b"\n") + 1
        if kept < len(data):
            os.truncate(path, kept)
        return len(data) - kept

    def remove(self) -> None:
        self.release()
        shutil.rmtree(self.folder, ignore_errors=True)


class AuditJournal:
    """Appends entries to this process's slot with group-commit fsync (see the module docstring)."""

    def __init__(self, folder: Path, segment_bytes: int, max_batch: int = 10_000) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        self.max_batch = max_batch
        self.slot: JournalSlot | None = None
        self.durable = Position(1, 0)  # everything before this is on disk, fsynced
        self.written = asyncio.Event()  # set after each fsync, for the shipper
        self._fd: int | None = None
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-journal")

    def open(self) -> None:
        """A new slot of this process's own, locked."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        slot_folder = self.folder / f"slot-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        slot_folder.mkdir(mode=0o700)
        self.slot = JournalSlot(slot_folder)
        if not self.slot.try_lock():  # a fresh folder nobody else knows: cannot happen
            raise AuditFailed(f"the journal slot {slot_folder.name} is locked by another process")
        self._open_segment(1)

    def orphans(self) -> list[JournalSlot]:
        """Slots of processes gone (their lock is free), locked for this process to ship."""
        found = []
        for folder in sorted(self.folder.glob("slot-*")):
            if (self.slot is not None and folder == self.slot.folder) or not folder.is_dir():
                continue
            slot = JournalSlot(folder)
            if slot.try_lock():
                torn = slot.cut_torn_tail()
                if torn:
                    log.warning("audit_journal_torn_line slot=%s bytes_cut=%s", folder.name, torn)
                found.append(slot)
        return found

    async def append(self, entry: dict[str, Any], entry_id: str | None = None) -> str:
        """Writes `entry` under `entry_id` (a new one if None) and returns once it is fsynced;
        AuditFailed if the disk refuses it. Entries written twice under one id, by any process, are
        kept once in the audit index (the shipper creates, a second create is a 409)."""
        entry_id = entry_id or uuid.uuid4().hex
        if len(entry_id) != ID_LENGTH:
            raise ValueError(f"a journal entry id is {ID_LENGTH} characters")
        line = b"%s %s\n" % (entry_id.encode(), orjson.dumps(entry))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((line, future))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_batches())
        await future
        return entry_id

    async def _commit_batches(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(0)  # the look-ups already under way join the first batch
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    await loop.run_in_executor(self._disk, self._write_and_sync, b"".join(line for line, _ in batch))
                except Exception as error:  # noqa: BLE001 - every look-up of the batch is refused, none answered unaudited
                    failure = AuditFailed(f"the audit journal could not be written: {type(error).__name__}")
                    for _line, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    continue
                for _line, future in batch:
                    if not future.done():  # a look-up cancelled meanwhile (its client went away) waits no more
                        future.set_result(None)
                self.written.set()
        finally:
            self._committer = None

    def _write_and_sync(self, data: bytes) -> None:
        """In the journal's own thread: one write, one fsync; on failure the segment is cut back so
        a partial write never glues itself to the next batch."""
        assert self._fd is not None and self.slot is not None
        try:
            remaining = memoryview(data)
            while remaining:
                remaining = remaining[os.write(self._fd, remaining) :]
            os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, self.durable.offset)
            raise
        self.durable = Position(self.durable.segment, self.durable.offset + len(data))
        if self.durable.offset >= self.segment_bytes:
            os.close(self._fd)
            self._open_segment(self.durable.segment + 1)

    def _open_segment(self, number: int) -> None:
        assert self.slot is not None
        self._fd = os.open(self.slot.path(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # The new segment's name must survive a crash too, or its entries would be out of reach.
        directory = os.open(self.slot.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.durable = Position(number, 0)

    def close(self) -> None:
        """Stops writing; the slot stays for the shipper (or the next process) to finish."""
        self._disk.shutdown(wait=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
