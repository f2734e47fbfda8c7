"""`rcu snapshot create|list|restore`: backups of rcu's indices in the filesystem snapshot repository."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer

from rcu.commands.resolution import resolution_config
from search.client import sync_client
from search.indices import IndexNames
from search.snapshots import create_snapshot, list_snapshots, restore_snapshot
from settings import get_settings


def create(name: Annotated[str | None, typer.Argument(help="Snapshot name (default: prefix and UTC time).")] = None) -> None:
    """Snapshot every index under RCU_INDEX_PREFIX, with its aliases, and wait until it is complete."""
    settings = get_settings()
    with closing(sync_client(settings)) as client:
        info = create_snapshot(client, IndexNames.for_settings(settings), settings, name)
    typer.echo(f"snapshot {info.name}: {info.state}, {info.indices} indices, in {settings.snapshot_location}")


def list_all() -> None:
    """The repository's snapshots, oldest first."""
    settings = get_settings()
    with closing(sync_client(settings)) as client:
        snapshots = list_snapshots(client, settings)
    for info in snapshots:
        typer.echo(f"{info.name}  {info.state}  {info.started}  {info.indices} indices")
    if not snapshots:
        typer.echo(f"no snapshot in {settings.snapshot_location}")


def restore(name: Annotated[str, typer.Argument(help="The snapshot to restore (`rcu snapshot list`).")]) -> None:
    """Restore rcu's indices and aliases from a snapshot into a cluster that holds none of them but
    the suppression list; erasures made since the snapshot are applied again."""
    settings = get_settings()
    with closing(sync_client(settings)) as client:
        report = restore_snapshot(client, IndexNames.for_settings(settings), settings, name, resolution_config())
    typer.echo(f"restored {len(report.indices)} indices from {name}: {', '.join(report.indices)}")
    origin = f"from snapshot {report.suppression_from}" if report.suppression_from else "kept from this cluster"
    typer.echo(f"suppression list {origin}; customers erased again: {len(report.erased_again)}")
