"""Failures of resolution that callers turn into exit codes and HTTP answers."""

from __future__ import annotations


class ModelMissing(Exception):
    """Incremental resolution needs the model a full run trains: run `rcu resolve --full` first."""

    def __init__(self, message: str = "no match model yet: run `rcu resolve --full` once") -> None:
        super().__init__(message)


class ModelStale(ModelMissing):
    """The stored model was trained on other comparison levels than this version's (stored by an
    older rcu): unusable until a full run retrains it. A ModelMissing, so every caller that maps
    ModelMissing (api/errors.py: 503, the CLI: a usage error) answers it, with this reason."""

    def __init__(self, message: str = "the stored match model predates this version's comparison levels: run `rcu resolve --full`") -> None:
        super().__init__(message)


class ModelCountsVanished(Exception):
    """The stored model's term frequencies were replaced under every read (full runs saving new
    models meanwhile): the model is not handed out with partial counts. Transient: retry."""

    def __init__(self, message: str = "the match model's term frequencies changed during every read: retry") -> None:
        super().__init__(message)


class SpoolOutOfMemory(Exception):
    """A full run's on-disk spool (DuckDB) needed more memory than `[scale] spool_memory_mb` lets it
    hold for an operation it cannot spill to disk: the run stops where it is (the model and the
    partitions written before stay; no watermark is saved, so the next full run does it all again)."""

    def __init__(self, limit_mb: int) -> None:
        super().__init__(
            f"the full run's spool ran out of its {limit_mb} MB of memory: raise `[scale] spool_memory_mb` in the "
            "resolution configuration (RCU_RESOLUTION_CONFIG) and run `rcu resolve --full` again"
        )
