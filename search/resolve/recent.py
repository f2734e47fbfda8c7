"""Records a long-running process wrote without refreshing the records index, for its next
candidate searches (search.resolve.store.candidate_records).

A pushed record must be a candidate of the next push of the same person at once, and a search
sees refreshed documents only. Refreshing the records index on every push made the node cut a
segment of the index each time (bench/RESULTS.md, session 12 scale section); instead the pusher
remembers which records it wrote and under which keys for `keep_s` seconds — longer than the
index's periodic refresh — and the candidate search adds, by a real-time get, those sharing a key
with the new record. The documents are read from the index, never kept here: a record changed or
erased meanwhile is seen as it is now.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RecentRecords:
    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._written: deque[tuple[float, str, frozenset[str]]] = deque()
        self._lock = threading.Lock()  # pushes run in the API's thread pool

    def add(self, record_id: str, keys: list[str]) -> None:
        with self._lock:
            self._written.append((time.monotonic(), record_id, frozenset(keys)))

    def holding(self, keys: set[str]) -> set[str]:
        """The ids of the records written in the last `keep_s` seconds under any of `keys`."""
        with self._lock:
            expired = time.monotonic() - self.keep_s
            while self._written and self._written[0][0] < expired:
                self._written.popleft()
            return {record_id for _, record_id, held in self._written if held & keys}
