"""Getting source records in: `rcu ingest`, and `rcu reindex` when an index's schema, shards or replicas changed."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from indexers.contract import ContractClock
from indexers.event_contract import EventClock
from indexers.event_ingest import EventIngestion, EventSummary
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import IngestSummary, RejectsReport
from rcu.commands.resolution import resolution_config
from rcu.errors import EXIT_REJECTED
from search.client import bulk_client, sync_client
from search.indices import IndexNames, index_bodies, legacy_fields, reindex_index
from search.segments.store import refresh_segments_of
from settings import get_settings


def _waiting_message(waited_s: float, budget_s: float) -> str:
    return f"waiting for OpenSearch ({waited_s:.0f} s of {budget_s:.0f} s)"


def _ingest_with_progress(ingestion: Ingestion, files: SourceFiles) -> IngestSummary:
    transport = ingestion.client.transport
    if not sys.stderr.isatty():
        transport.on_wait = lambda waited, budget: typer.echo(_waiting_message(waited, budget) + "…", err=True)  # type: ignore[attr-defined]
        return ingestion.run(files)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} records"),
        TextColumn("[cyan]{task.fields[rate]:,.0f} records/s"),
        TextColumn("{task.fields[rejected]} rejected"),
        TextColumn("[yellow]{task.fields[waiting]}"),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None, rate=0.0, rejected=0, waiting="")

        def tick(summary: IngestSummary) -> None:
            if summary.read % 500 == 0:
                elapsed = progress.tasks[0].elapsed or 1e-9
                progress.update(task, completed=summary.read, rate=summary.read / elapsed, rejected=summary.rejected, waiting="")

        transport.on_wait = lambda waited, budget: progress.update(task, waiting=_waiting_message(waited, budget))  # type: ignore[attr-defined]
        return ingestion.run(files, on_record=tick)


def _default_rejects() -> Path:
    """A dated report under the rcu home: never in the folder being ingested."""
    return get_settings().rejects_folder / f"rejects-{datetime.now():%Y%m%d-%H%M%S}.jsonl"


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="JSON Lines or CSV files, or folders of them.")],
    mapping: Annotated[Path | None, typer.Option(help="CSV mapping for every CSV file (default: FILE.mapping.toml beside each).")] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where rejected records and field warnings are written (JSON Lines; default: a dated file under RCU_HOME/rejects/)."
        ),
    ] = None,
) -> None:
    """Validate, normalize and index source records and events. Exit code 1 when any record or event was rejected."""
    settings = get_settings()
    rejects = rejects or _default_rejects()
    files = SourceFiles.discover(paths, mapping, written=(rejects,))
    if files.skipped:
        typer.echo(f"skipped, not source files: {', '.join(str(p) for p in files.skipped)}")
    if files.own:
        typer.echo(f"skipped, written by rcu: {', '.join(str(p) for p in files.own)}")
    if not (files.jsonl or files.csv or files.events_jsonl or files.events_csv):
        # Not an error (a drop folder may be empty tonight), but never a silent read=0.
        typer.echo(f"nothing to ingest: no .jsonl, .ndjson or .csv file in {', '.join(str(p) for p in paths)}", err=True)
    client = bulk_client(settings)
    summary: IngestSummary | None = None
    events: EventSummary | None = None
    try:
        with RejectsReport(rejects) as report:
            if files.jsonl or files.csv or not (files.events_jsonl or files.events_csv):
                summary = _ingest_with_progress(
                    Ingestion(
                        client,
                        IndexNames.for_settings(settings),
                        report,
                        threads=settings.ingest_threads,
                        config=resolution_config(),
                        clock=ContractClock(timedelta(seconds=settings.future_margin_s)),
                        suppression_key=settings.suppression_key_bytes,
                    ),
                    files,
                )
            if files.events_jsonl or files.events_csv:
                # After the records: an event naming a card finds the record just ingested with it.
                ingestion = EventIngestion(
                    client,
                    IndexNames.for_settings(settings),
                    report,
                    threads=settings.ingest_threads,
                    clock=EventClock(timedelta(seconds=settings.future_margin_s), settings.events_retention_months),
                    suppression_key=settings.suppression_key_bytes,
                )
                events = ingestion.run(files.event_lines())
                # The segments of every customer with a new event follow (search.segments).
                refresh_segments_of(client, settings, IndexNames.for_settings(settings), sorted(ingestion.touched))
    finally:
        client.close()
    if summary:
        typer.echo(summary.line())
    if events:
        typer.echo(events.line())
    rejected = (summary.rejected if summary else 0) + (events.rejected if events else 0)
    if rejected or (summary and (summary.warnings or summary.ties)):
        typer.echo(f"rejected records, field warnings and ties: {rejects}")
    if rejected:
        raise typer.Exit(EXIT_REJECTED)


def reindex() -> None:
    """Rebuild every index of rcu with this rcu's analysis, mappings, shards and replicas, each behind the same alias."""
    settings = get_settings()
    client = sync_client(settings)
    try:
        names = IndexNames.for_settings(settings)
        dropped = legacy_fields(names)
        for alias, body in index_bodies(names).items():
            old, new = reindex_index(client, alias, body, dropped.get(alias, ()), block_writes=alias == names.keyring)
            typer.echo(f"{alias} now in {new}" + (f" (was {old})" if old else ""))
    finally:
        client.close()
