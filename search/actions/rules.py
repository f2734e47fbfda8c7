"""The next-best-action rules file, reloaded when it changes without restarting the service: a
file that cannot be used is refused with its line and the rules in force stay."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.segments.conditions import store_definitions
from search.segments.definitions import DefinitionsRefused, load_rules

log = logging.getLogger(__name__)


def load_rules_file(client: OpenSearch, names: IndexNames, path: Path) -> str:
    """Read, check and store a rules file as the rules in force; returns its generation.
    DefinitionsRefused (with the line) leaves the rules in force untouched."""
    return store_definitions(client, names, "action", load_rules(path), path)


@dataclass(frozen=True)
class RulesStatus:
    path: str | None
    generation: str | None
    refused: str | None  # the last refusal of a changed file, with its line; None once a file loads


class RulesWatcher:
    """Keeps the rules in force in step with the rules file: `check` reloads it when its
    modification time or size changed since the last look (a stat per call)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen: tuple[float, int] | None = None
        self._generation: str | None = None
        self._refused: DefinitionsRefused | None = None
        self._lock = threading.Lock()

    def changed(self) -> bool:
        """Whether `check` has a file to load: a stat, no request (the API looks before it hops
        to a thread for `check`)."""
        return self.path is not None and self._stat() != self._seen

    def _stat(self) -> tuple[float, int] | None:
        assert self.path is not None
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)

    def check(self, client: OpenSearch, names: IndexNames) -> RulesStatus:
        if self.path is None:
            return RulesStatus(None, None, None)
        seen = self._stat()
        with self._lock:
            if seen != self._seen:
                self._seen = seen
                try:
                    self._generation = load_rules_file(client, names, self.path)
                    self._refused = None
                    log.info("action_rules_loaded generation=%s", self._generation)
                except DefinitionsRefused as error:
                    self._refused = error
                    log.warning("action_rules_refused line=%s reason=%s", error.line, error.reason)
            return RulesStatus(str(self.path), self._generation, str(self._refused) if self._refused else None)
