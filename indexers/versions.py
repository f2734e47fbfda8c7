"""A record's external version in OpenSearch: which copy of `source:source_id` wins, decided by
the node itself under any number of concurrent writers, and never losing an update silently.

The version packs two numbers: `(band + milliseconds) << TIE_BITS | tie`.

- A dated record (`updated_at`) is in the upper band, milliseconds since 1970 of `updated_at`:
  the newer copy wins, an older one is `stale`.
- Two copies with the same `updated_at` tie on the milliseconds; `tie` breaks it: a deletion
  wins a tie (its tie is the highest), otherwise the copy whose content hashes higher wins — the
  same copy whatever the order they arrive in. Identical content is the same version:
  `unchanged`. A copy that loses a tie is `stale` and reported as a tie in the run's report.
- An undated record is in the lower band, below every dated one (any dated copy replaces it),
  stamped with the time it was ingested: a later undated copy of different content replaces an
  earlier one, and the same content again is `unchanged` (the writer compares the content hash
  with the indexed copy's tie before writing: `undated_version`).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

TIE_BITS = 18
DELETION_TIE = (1 << TIE_BITS) - 1
DATED_BAND = 1 << 44  # ms; undated ingestion instants stay below it until the year 2527
MAX_VERSION = (1 << 63) - 1

_CONFLICT = re.compile(r"current version \[(\d+)\] is higher or equal to the one provided \[(\d+)\]")


def content_tie(content: dict[str, Any], deleted: bool) -> int:
    """The tie-breaker of a record's content (a deletion wins every tie)."""
    if deleted:
        return DELETION_TIE
    digest = hashlib.blake2b(orjson.dumps(content, option=orjson.OPT_SORT_KEYS), digest_size=8).digest()
    return int.from_bytes(digest, "big") % DELETION_TIE


def dated_version(updated_at: datetime, tie: int) -> int:
    milliseconds = int(updated_at.timestamp() * 1000)
    return (DATED_BAND + milliseconds) << TIE_BITS | tie


def is_dated(version: int) -> bool:
    return version >> TIE_BITS >= DATED_BAND


class UndatedClock:
    """Ingestion instants for undated copies, strictly increasing within a process, so the later of
    two copies written by one writer wins even within a millisecond."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next_ms(self, after: int = 0) -> int:
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1, after + 1)
            return self._last


UNDATED_CLOCK = UndatedClock()


def undated_version(indexed_version: int | None, tie: int, clock: UndatedClock = UNDATED_CLOCK) -> int | None:
    """The version an undated copy is written with, or None when the indexed copy is an undated
    copy of the same content (nothing to write: `unchanged`). A dated indexed copy gets a version
    below its own: the write answers `stale`."""
    if indexed_version is not None and not is_dated(indexed_version) and indexed_version & DELETION_TIE == tie:
        return None
    after = indexed_version >> TIE_BITS if indexed_version is not None and not is_dated(indexed_version) else 0
    return clock.next_ms(after) << TIE_BITS | tie


@dataclass(frozen=True)
class Conflict:
    """OpenSearch refused a write because the indexed version is higher or equal."""

    indexed: int
    provided: int

    @property
    def outcome(self) -> str:
        return "unchanged" if self.indexed == self.provided else "stale"

    @property
    def lost_a_tie(self) -> bool:
        """Same `updated_at` (or both undated at one instant), other content: the other copy won."""
        return self.indexed != self.provided and self.indexed >> TIE_BITS == self.provided >> TIE_BITS


def parse_conflict(message: str) -> Conflict | None:
    """The versions named by a version-conflict error (409) from OpenSearch, if it names them."""
    match = _CONFLICT.search(message)
    return Conflict(int(match.group(1)), int(match.group(2))) if match else None


TIE_REASON = "same updated_at as the indexed copy but other content: the copy whose content hashes higher is kept (README, ties)"
