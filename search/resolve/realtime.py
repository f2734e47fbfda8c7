"""Resolution for a long-running process (the API): the match model loaded once, reused by
every real-time call, reloaded after a full run replaces it."""

from __future__ import annotations

import threading

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.errors import ModelMissing
from search.resolve.model import MatchModel
from search.resolve.store import customers_of, load_model


class RealTimeResolver:
    def __init__(self, client: OpenSearch, names: IndexNames, config: ResolutionConfig) -> None:
        self.client = client
        self.names = names
        self.config = config
        self._model: MatchModel | None = None
        self._lock = threading.Lock()

    def model(self) -> MatchModel:
        with self._lock:
            if self._model is None:
                self._model = load_model(self.client, self.names)
            if self._model is None:
                raise ModelMissing("no match model yet: run `rcu resolve --full` once")
            return self._model

    def identifiers(self) -> tuple[str, ...]:
        """The attributes in use as identifiers: the model's, or the configured ones before any model."""
        try:
            return self.model().identifiers
        except ModelMissing:
            return tuple(self.config.extra_identifiers)

    def forget_model(self) -> None:
        with self._lock:
            self._model = None

    def customer_of(self, record_id: str) -> str | None:
        return next(iter(customers_of(self.client, self.names, [record_id])), None)
