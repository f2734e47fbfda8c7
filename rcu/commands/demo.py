"""The demo: `rcu demo-data` writes a French data set, `rcu demo` runs all of rcu on one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from provisioning.process import start_node
from rcu.commands.api import serve
from rcu.commands.resolution import resolution_config
from search.client import bulk_client
from search.indices import IndexNames
from settings import get_settings


def demo_data(
    persons: Annotated[int, typer.Option(min=1, help="How many people to make up.")] = 2000,
    out: Annotated[Path, typer.Option(help="Folder for the source files and the ground truth.")] = Path("demo-data"),
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 42,
) -> None:
    """Generate a French demo data set across several sources, with its ground truth."""
    from indexers.demo.sources import write_demo_data

    counts = write_demo_data(out, persons, seed)
    typer.echo(
        f"{sum(counts.values())} records for {persons} people in {out}/: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    )


def demo(
    persons: Annotated[int, typer.Option(min=1, help="People in the demo data set.")] = 2000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API once the data is resolved.")] = True,
    port: Annotated[int, typer.Option(help="Port of the API.")] = 8000,
) -> None:
    """The whole demo on this machine: a node, demo data generated, ingested and resolved, the API served."""
    from api.policy import DEMO_SEGMENTS
    from indexers.demo.showcase import write_showcase
    from indexers.demo.sources import write_demo_data
    from search.resolve.pipeline import resolve_all
    from search.segments.conditions import store_definitions
    from search.segments.definitions import load_segments
    from search.segments.store import recompute_all

    settings = get_settings()
    status, started = start_node(settings)
    typer.echo(f"OpenSearch {status.version} at {status.url}: {status.health}{' (started)' if started else ''}")
    folder = settings.home / "demo-data" / f"persons-{persons}"
    if not (folder / "truth.tsv").is_file():
        counts = write_demo_data(folder, persons)
        typer.echo(f"generated {sum(counts.values())} demo records for {persons} people in {folder}")
    write_showcase(folder)
    client = bulk_client(settings)
    names = IndexNames.for_settings(settings)
    try:
        with RejectsReport(folder.parent / "rejects.jsonl") as report:
            ingestion = Ingestion(
                client,
                names,
                report,
                threads=settings.ingest_threads,
                config=resolution_config(),
                suppression_key=settings.suppression_key_bytes,
            )
            summary = ingestion.run(SourceFiles.discover([folder]))
        typer.echo(f"ingest: {summary.line()} (rejects and warnings: {folder.parent / 'rejects.jsonl'})")
        resolution = resolve_all(client, names, resolution_config())
        typer.echo(f"resolve: {resolution.line()}")
        segments = settings.segments or DEMO_SEGMENTS
        store_definitions(client, names, "segment", load_segments(segments), segments)
        typer.echo(f"segments ({segments.name}): {recompute_all(client, settings, names).line()}")
    finally:
        client.close()
    typer.echo("Try: rcu explain crm:CRM00000001 ecommerce:ECO00000001 · rcu xref --out xref.csv · rcu opensearch status")
    if serve_api:
        from api.policy import DEMO_KEYS

        base = f"http://127.0.0.1:{port}"
        typer.echo(f"API: {base}/docs · try: curl -H 'X-API-Key: {DEMO_KEYS['counter']}' '{base}/v1/search?q=dup+jea'")
        typer.echo("demo API keys (demo only): " + " · ".join(f"{role}={key}" for role, key in DEMO_KEYS.items()))
        serve(host="127.0.0.1", port=port, demo_policy=True)
