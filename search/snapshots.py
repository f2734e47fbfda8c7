"""Backups of rcu's indices: snapshots to a filesystem repository, listed and restored.

The repository (RCU_SNAPSHOT_REPOSITORY, type `fs`) lives in RCU_SNAPSHOT_PATH, a folder every node
of the cluster lists in `path.repo` (the managed nodes do). A snapshot holds every index under the
prefix with its aliases, so a restore gives back the same records, customers, redirects, model and
audit trail behind the same names; rcu refuses to restore over indices that exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from search.indices import IndexNames
from settings import Settings

log = logging.getLogger(__name__)


class SnapshotError(Exception):
    """A snapshot could not be taken, found or restored; the message says why and what to do."""


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    state: str
    started: str
    indices: int
    failed_shards: int


def _pattern(names: IndexNames) -> str:
    return f"{names.prefix}-*"


def ensure_repository(client: OpenSearch, settings: Settings) -> None:
    """Register the filesystem repository (idempotent): the cluster checks every node can write to it."""
    location = str(settings.snapshot_location)
    try:
        client.snapshot.create_repository(repository=settings.snapshot_repository, body={"type": "fs", "settings": {"location": location}})
    except OpenSearchConnectionError:
        raise  # an unreachable cluster is not a refused repository: the CLI says so with exit 4
    except TransportError as error:
        raise SnapshotError(
            f"The cluster refused the snapshot repository at {location} ({error.error}): every node needs that folder in its "
            "`path.repo` (rcu's managed nodes have RCU_SNAPSHOT_PATH there) and write access to it."
        ) from None


def create_snapshot(client: OpenSearch, names: IndexNames, settings: Settings, name: str | None = None) -> SnapshotInfo:
    """Snapshot every index under the prefix, with its aliases, and wait until it is complete."""
    ensure_repository(client, settings)
    name = name or f"{names.prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    response = client.snapshot.create(
        repository=settings.snapshot_repository,
        snapshot=name,
        body={"indices": _pattern(names), "include_global_state": False},
        wait_for_completion=True,
        request_timeout=3600,
    )
    info = _info(response["snapshot"])
    if info.state != "SUCCESS":
        raise SnapshotError(f"Snapshot {name} ended {info.state} with {info.failed_shards} failed shard(s).")
    log.info("snapshot_created name=%s indices=%s", name, info.indices)
    return info


def list_snapshots(client: OpenSearch, settings: Settings) -> list[SnapshotInfo]:
    """The repository's snapshots, oldest first."""
    ensure_repository(client, settings)
    response = client.snapshot.get(repository=settings.snapshot_repository, snapshot="_all")
    return [_info(snapshot) for snapshot in response["snapshots"]]


def restore_snapshot(client: OpenSearch, names: IndexNames, settings: Settings, name: str) -> list[str]:
    """Restore the prefix's indices and aliases from snapshot `name` into a cluster that has none of
    them, with this deployment's replicas; returns the indices restored, once they are usable."""
    ensure_repository(client, settings)
    existing = sorted(client.indices.get(index=_pattern(names), expand_wildcards="all"))
    if existing:
        raise SnapshotError(
            f"This cluster already holds {', '.join(existing)}: restore into an empty cluster, or delete those indices first."
        )
    try:
        response = client.snapshot.restore(
            repository=settings.snapshot_repository,
            snapshot=name,
            body={
                "indices": _pattern(names),
                "include_aliases": True,
                "include_global_state": False,
                "index_settings": {"index.number_of_replicas": settings.index_replicas},
            },
            wait_for_completion=True,
            request_timeout=3600,
        )
    except NotFoundError:
        raise SnapshotError(f"No snapshot {name} in repository {settings.snapshot_repository}: `rcu snapshot list` names them.") from None
    restored = sorted(response["snapshot"]["indices"])
    client.cluster.health(index=restored, wait_for_status="yellow", params={"timeout": "120s"}, request_timeout=130)
    log.info("snapshot_restored name=%s indices=%s", name, len(restored))
    return restored


def _info(snapshot: dict) -> SnapshotInfo:
    return SnapshotInfo(
        name=snapshot["snapshot"],
        state=snapshot["state"],
        started=snapshot.get("start_time", ""),
        indices=len(snapshot.get("indices", [])),
        failed_shards=snapshot.get("shards", {}).get("failed", 0),
    )
