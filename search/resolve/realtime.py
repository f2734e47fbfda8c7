"""Resolution for a long-running process (the API): the match model loaded once, reused by
every real-time call, and reloaded once the stored one changed (a full run retrained it, an
erasure took a person's values out of it), checked at most every `model_check_s` seconds."""

from __future__ import annotations

import threading
import time

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.errors import ModelMissing
from search.resolve.model import MatchModel
from search.resolve.store import customers_of, load_model, model_stamp


class RealTimeResolver:
    def __init__(self, client: OpenSearch, names: IndexNames, config: ResolutionConfig) -> None:
        self.client = client
        self.names = names
        self.config = config
        self._model: MatchModel | None = None
        self._stamp: tuple[int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def model(self) -> MatchModel:
        with self._lock:
            now = time.monotonic()
            if self._model is None or now - self._checked >= self.config.model_check_s:
                self._checked = now
                stamp = model_stamp(self.client, self.names)
                if self._model is None or stamp != self._stamp:
                    # Read after the stamp: a model saved in between is read now and read again
                    # at the next check (its stamp differs), never missed.
                    self._model, self._stamp = load_model(self.client, self.names), stamp
            if self._model is None:
                raise ModelMissing("no match model yet: run `rcu resolve --full` once")
            return self._model

    def identifiers(self) -> tuple[str, ...]:
        """The attributes in use as identifiers: the model's, or the configured ones before any model."""
        try:
            return self.model().identifiers
        except ModelMissing:
            return tuple(self.config.extra_identifiers)

    def customer_of(self, record_id: str) -> str | None:
        return next(iter(customers_of(self.client, self.names, [record_id])), None)
