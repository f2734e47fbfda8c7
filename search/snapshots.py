"""Backups of rcu's indices: snapshots to a filesystem repository, listed and restored.

The repository (RCU_SNAPSHOT_REPOSITORY, type `fs`) lives in RCU_SNAPSHOT_PATH, a folder every node
of the cluster lists in `path.repo` (the managed nodes do). A snapshot holds every index under the
prefix with its aliases, so a restore gives back the same records, customers, redirects, model and
audit trail behind the same names; rcu refuses to restore over indices that exist.

Restoring a snapshot older than an erasure would bring the erased person back: the suppression
list is therefore never rolled back (restore_snapshot), and the erasures it records are applied
again to what was restored. What else an older snapshot rolls back is said in the README (Backups).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.rights.erasure import reapply_erasures
from search.rights.suppression import SuppressionKeyMissing
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


@dataclass(frozen=True)
class RestoreReport:
    indices: list[str]  # restored from the snapshot asked for
    suppression_from: str | None  # where the suppression list came from: None when the cluster's own was kept
    erased_again: list[str]  # customers the snapshot held that the suppression list says were erased since


def restore_snapshot(
    client: OpenSearch, names: IndexNames, settings: Settings, name: str, config: ResolutionConfig | None = None
) -> RestoreReport:
    """Restore the prefix's indices and aliases from snapshot `name` into a cluster that has none of
    them, with this deployment's replicas, and wait until they are usable.

    The suppression list is the exception: an older snapshot predates erasures made since, so the
    list is never rolled back. The cluster's own is kept when it has one; otherwise it comes from
    the newest snapshot in the repository that holds one. Then every customer the restored indices
    hold and the list says was erased is erased again (search.rights.erasure.reapply_erasures)."""
    ensure_repository(client, settings)
    kept = _suppression_indices(names, client.indices.get(index=f"{names.suppression}*", expand_wildcards="all", ignore=[404]))
    existing = sorted(set(client.indices.get(index=_pattern(names), expand_wildcards="all")) - set(kept))
    if existing:
        raise SnapshotError(
            f"This cluster already holds {', '.join(existing)}: restore into an empty cluster, or delete those indices first "
            f"(keep {names.suppression}: the erasures made since the snapshot are applied again from it)."
        )
    source = None
    if not kept:
        source = _newest_with_suppression(client, names, settings) or name
        _restore(client, names, settings, source, f"{names.suppression}*")
    if settings.suppression_key_bytes is None and _holds_entries(client, names):
        raise SuppressionKeyMissing("the suppression list holds erased people: set RCU_SUPPRESSION_KEY to apply it to what is restored")
    restored = _restore(client, names, settings, name, f"{_pattern(names)},-{names.suppression}*")
    erased = reapply_erasures(client, names, config or ResolutionConfig(), settings.suppression_key_bytes, f"restore of {name}")
    log.info("snapshot_restored name=%s indices=%s erased_again=%s", name, len(restored), len(erased))
    return RestoreReport(restored, source, erased)


def _suppression_indices(names: IndexNames, found: dict) -> list[str]:
    return [index for index in found if index == names.suppression or index.startswith(f"{names.suppression}-v")]


def _holds_entries(client: OpenSearch, names: IndexNames) -> bool:
    return bool(client.indices.exists(index=names.suppression) and client.count(index=names.suppression)["count"])


def _newest_with_suppression(client: OpenSearch, names: IndexNames, settings: Settings) -> str | None:
    """The newest complete snapshot holding the prefix's suppression list."""
    snapshots = client.snapshot.get(repository=settings.snapshot_repository, snapshot="_all")["snapshots"]
    holding = [
        snapshot
        for snapshot in snapshots
        if snapshot["state"] == "SUCCESS" and _suppression_indices(names, dict.fromkeys(snapshot.get("indices", [])))
    ]
    return max(holding, key=lambda snapshot: snapshot.get("start_time_in_millis", 0))["snapshot"] if holding else None


def _restore(client: OpenSearch, names: IndexNames, settings: Settings, name: str, indices: str) -> list[str]:
    try:
        response = client.snapshot.restore(
            repository=settings.snapshot_repository,
            snapshot=name,
            body={
                "indices": indices,
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
    if restored:
        client.cluster.health(index=restored, wait_for_status="yellow", params={"timeout": "120s"}, request_timeout=130)
    return restored


def _info(snapshot: dict) -> SnapshotInfo:
    return SnapshotInfo(
        name=snapshot["snapshot"],
        state=snapshot["state"],
        started=snapshot.get("start_time", ""),
        indices=len(snapshot.get("indices", [])),
        failed_shards=snapshot.get("shards", {}).get("failed", 0),
    )
