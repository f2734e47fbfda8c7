"""Resolution for a long-running process (the API): the match model loaded once, reused by
every real-time call, and reloaded once the stored one changed (a full run retrained it, an
erasure took a person's values out of it), checked at most every `model_check_s` seconds. A stored
model this version cannot use (ModelStale) is judged once per stored version, like a usable one."""

from __future__ import annotations

import threading
import time

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.errors import ModelCountsVanished, ModelMissing, ModelStale
from search.resolve.model import MatchModel
from search.resolve.store import customers_of, model_stamp, read_model


class RealTimeResolver:
    def __init__(self, client: OpenSearch, names: IndexNames, config: ResolutionConfig, suppression_key: bytes | None = None) -> None:
        self.client = client
        self.suppression_key = suppression_key  # settles an erasure's debt found beside the model (read_model)
        self.names = names
        self.config = config
        self._model: MatchModel | None = None
        self._stale = False  # the stored model of `_stamp` predates this version's comparison levels
        self._stamp: tuple[int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def model(self) -> MatchModel:
        with self._lock:
            now = time.monotonic()
            judged = self._model is not None or self._stale
            if not judged or now - self._checked >= self.config.model_check_s:
                self._checked = now
                stamp = model_stamp(self.client, self.names)
                if not judged or stamp != self._stamp:
                    # Read after the stamp: a model saved in between is read now and read again
                    # at the next check (its stamp differs), never missed.
                    self._stamp = stamp
                    self._read()
            if self._stale:
                raise ModelStale()
            if self._model is None:
                raise ModelMissing()
            return self._model

    def _read(self) -> None:
        self._model, self._stale = None, False
        try:
            self._model = read_model(self.client, self.names, self.suppression_key)
        except ModelStale:
            self._stale = True
        except ModelMissing:
            pass

    def unsettled_erasures(self) -> int:
        """Erasures the model's counts still hold (no suppression key to settle them); 0 without a model."""
        try:
            return self.model().unsettled_erasures
        except (ModelMissing, ModelCountsVanished):
            return 0

    def identifiers(self) -> tuple[str, ...]:
        """The attributes in use as identifiers: the model's, or the configured ones before any model."""
        try:
            return self.model().identifiers
        except ModelMissing:
            return tuple(self.config.extra_identifiers)

    def customer_of(self, record_id: str) -> str | None:
        return next(iter(customers_of(self.client, self.names, [record_id])), None)
