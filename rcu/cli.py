"""The `rcu` command line: parses arguments, calls the packages, prints. Errors become exit codes here."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from opensearchpy.exceptions import OpenSearchException

from indexers.ingest import Ingestion
from indexers.readers import ReaderError, SourceFiles
from indexers.report import IngestSummary, RejectsReport
from provisioning.errors import NodeSetupError
from provisioning.process import NodeStatus, node_status, start_node, stop_node
from rcu.rights import audit_app, retention, subject_app
from search.client import bulk_client, sync_client
from search.indices import IndexNames, SchemaOutdated, reindex_records
from search.rights.suppression import SuppressionKeyMissing
from settings import get_settings

app = typer.Typer(no_args_is_help=True, help="rcu — Référentiel Client Unique.")
opensearch_app = typer.Typer(no_args_is_help=True, help="The managed local OpenSearch node.")
app.add_typer(opensearch_app, name="opensearch")
app.add_typer(subject_app, name="subject")
app.command("retention")(retention)
app.add_typer(audit_app, name="audit")

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_SETUP_FAILED = 3
EXIT_NODE_DOWN = 4


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every step.")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    # opensearch-py logs every refused connection with a traceback; a node that is down is reported plainly.
    logging.getLogger("opensearch").setLevel(logging.ERROR)


def _print_status(status: NodeStatus) -> None:
    if not status.reachable:
        typer.echo(f"OpenSearch at {status.url}: down ({status.error or 'no answer'})")
        return
    typer.echo(f"OpenSearch at {status.url}: {status.health}, version {status.version}")
    typer.echo(f"plugins: {', '.join(status.plugins) or '(none)'}")
    typer.echo(f"modules: {', '.join(status.modules) or '(none)'}")
    if status.managed_pid:
        typer.echo(f"managed by rcu, pid {status.managed_pid}")


def _fail(error: NodeSetupError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_SETUP_FAILED)


def _ingest_with_progress(ingestion: Ingestion, files: SourceFiles) -> IngestSummary:
    if not sys.stderr.isatty():
        return ingestion.run(files)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} records"),
        TextColumn("[cyan]{task.fields[rate]:,.0f} records/s"),
        TextColumn("{task.fields[rejected]} rejected"),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None, rate=0.0, rejected=0)

        def tick(summary: IngestSummary) -> None:
            if summary.read % 500 == 0:
                elapsed = progress.tasks[0].elapsed or 1e-9
                progress.update(task, completed=summary.read, rate=summary.read / elapsed, rejected=summary.rejected)

        return ingestion.run(files, on_record=tick)


@app.command("ingest")
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="JSON Lines or CSV files, or folders of them.")],
    mapping: Annotated[Path | None, typer.Option(help="CSV mapping for every CSV file (default: FILE.mapping.toml beside each).")] = None,
    rejects: Annotated[Path, typer.Option(help="Where rejected records and field warnings are written (JSON Lines).")] = Path(
        "rejects.jsonl"
    ),
) -> None:
    """Validate, normalize and index source records. Exit code 1 when any record was rejected."""
    settings = get_settings()
    try:
        files = SourceFiles.discover(paths, mapping)
    except ReaderError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if files.skipped:
        typer.echo(f"skipped, not source files: {', '.join(str(p) for p in files.skipped)}")
    client = bulk_client(settings)
    try:
        with RejectsReport(rejects) as report:
            summary = _ingest_with_progress(
                Ingestion(
                    client,
                    IndexNames(settings.index_prefix),
                    report,
                    settings.records_shards,
                    settings.ingest_threads,
                    tuple(_resolution_config().extra_identifiers),
                    settings.suppression_key_bytes,
                ),
                files,
            )
    except (ReaderError, SchemaOutdated, SuppressionKeyMissing) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except OpenSearchException as error:
        typer.echo(f"error: OpenSearch at {settings.opensearch_url} failed and retries did not help: {error}", err=True)
        typer.echo("Nothing is half-written; run the same command again when the cluster is back.", err=True)
        raise typer.Exit(EXIT_NODE_DOWN) from None
    finally:
        client.close()
    typer.echo(summary.line())
    if summary.rejected or summary.warnings:
        typer.echo(f"rejected records and field warnings: {rejects}")
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _resolution_config():
    from search.resolve.config import ResolutionConfig

    return ResolutionConfig.load(get_settings().resolution_config)


@app.command("resolve")
def resolve(
    full: Annotated[bool, typer.Option("--full", help="Resolve every record and retrain the model (the first run always does).")] = False,
) -> None:
    """Group records into golden customers: incrementally (records ingested since the last run), or all."""
    from search.resolve.pipeline import resolve_all, resolve_since_last_run

    settings = get_settings()
    client = bulk_client(settings)
    names = IndexNames(settings.index_prefix)
    try:
        report = resolve_all(client, names, _resolution_config()) if full else resolve_since_last_run(client, names, _resolution_config())
    except OpenSearchException as error:
        typer.echo(f"error: OpenSearch at {settings.opensearch_url}: {error}", err=True)
        raise typer.Exit(EXIT_NODE_DOWN) from None
    finally:
        client.close()
    typer.echo(report.line())
    for key, size in sorted(report.frequent_keys.items(), key=lambda item: -item[1])[:10]:
        typer.echo(f"too common to link on: {key} ({size} records)")
    for rule, reason in report.relaxed_rules.items():
        typer.echo(f"never-merge rule left to the weights for this data: {rule} — {reason}")


@app.command("explain")
def explain(
    first: Annotated[str, typer.Argument(help="A record id, source:source_id.")],
    second: Annotated[str, typer.Argument(help="Another record id.")],
) -> None:
    """Why two records are, or are not, the same customer: field by field."""
    from search.resolve.explain import explain_pair
    from search.resolve.features import features_from_document
    from search.resolve.store import get_records, load_model

    settings = get_settings()
    config = _resolution_config()
    client = sync_client(settings)
    names = IndexNames(settings.index_prefix)
    try:
        documents = {d["record_id"]: d for d in get_records(client, names, [first, second])}
        model = load_model(client, names)
    finally:
        client.close()
    missing = [r for r in (first, second) if r not in documents]
    if missing:
        typer.echo(f"error: no live record {', '.join(missing)}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if model is None:
        typer.echo("error: no match model yet: run `rcu resolve --full` first", err=True)
        raise typer.Exit(EXIT_USAGE)
    extra = tuple(config.extra_identifiers)
    result = explain_pair(features_from_document(documents[first], extra), features_from_document(documents[second], extra), model, config)
    typer.echo(f"{first}  vs  {second}")
    for evidence in result.fields:
        typer.echo(f"  {evidence.field:<14} {evidence.level:<26} {evidence.weight_bits:+7.2f} bits")
    typer.echo(f"  {'prior':<14} {'':<26} {result.prior_bits:+7.2f} bits")
    typer.echo(f"match weight {result.match_weight_bits:+.2f} bits, probability {result.probability:.4f} (threshold {result.threshold})")
    if result.different_people:
        typer.echo(f"never linked: {result.different_people}")
    typer.echo(f"decision: {result.decision}; deciding fields: {', '.join(result.deciding_fields) or 'none'}")


@app.command("xref")
def xref(out: Annotated[Path, typer.Option(help="CSV file to write: source,source_id,customer_id.")] = Path("xref.csv")) -> None:
    """Write the cross-reference of every resolved record to its customer."""
    import csv

    from search.resolve.store import scan_customers

    settings = get_settings()
    client = sync_client(settings)
    rows = 0
    try:
        with out.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["source", "source_id", "customer_id"])
            for customer in scan_customers(client, IndexNames(settings.index_prefix)):
                for record_id in customer["records"]:
                    source, _, source_id = record_id.partition(":")
                    writer.writerow([source, source_id, customer["customer_id"]])
                    rows += 1
    finally:
        client.close()
    typer.echo(f"{rows} records → {out}")


@app.command("demo-data")
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


@app.command("demo")
def demo(
    persons: Annotated[int, typer.Option(min=1, help="People in the demo data set.")] = 2000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API once the data is resolved.")] = True,
    port: Annotated[int, typer.Option(help="Port of the API.")] = 8000,
) -> None:
    """The whole demo on this machine: a node, demo data generated, ingested and resolved, the API served."""
    from indexers.demo.showcase import write_showcase
    from indexers.demo.sources import write_demo_data
    from search.resolve.pipeline import resolve_all

    settings = get_settings()
    try:
        status, started = start_node(settings)
    except NodeSetupError as error:
        raise _fail(error) from None
    typer.echo(f"OpenSearch {status.version} at {status.url}: {status.health}{' (started)' if started else ''}")
    folder = settings.home / "demo-data" / f"persons-{persons}"
    if not (folder / "truth.tsv").is_file():
        counts = write_demo_data(folder, persons)
        typer.echo(f"generated {sum(counts.values())} demo records for {persons} people in {folder}")
    write_showcase(folder)
    client = bulk_client(settings)
    names = IndexNames(settings.index_prefix)
    try:
        with RejectsReport(folder.parent / "rejects.jsonl") as report:
            summary = Ingestion(
                client, names, report, settings.records_shards, settings.ingest_threads, suppression_key=settings.suppression_key_bytes
            ).run(SourceFiles.discover([folder]))
        typer.echo(f"ingest: {summary.line()} (rejects and warnings: {folder.parent / 'rejects.jsonl'})")
        resolution = resolve_all(client, names, _resolution_config())
        typer.echo(f"resolve: {resolution.line()}")
    except (SchemaOutdated, OpenSearchException) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    finally:
        client.close()
    typer.echo("Try: rcu explain crm:CRM00000001 ecommerce:ECO00000001 · rcu xref --out xref.csv · rcu opensearch status")
    if serve_api:
        from api.policy import DEMO_KEYS

        base = f"http://127.0.0.1:{port}"
        typer.echo(f"API: {base}/docs · try: curl -H 'X-API-Key: {DEMO_KEYS['counter']}' '{base}/v1/search?q=dup+jea'")
        typer.echo("demo API keys (demo only): " + " · ".join(f"{role}={key}" for role, key in DEMO_KEYS.items()))
        serve(host="127.0.0.1", port=port)


@app.command("reindex")
def reindex() -> None:
    """Rebuild the records index with this rcu's analysis and mappings, behind the same alias."""
    settings = get_settings()
    client = sync_client(settings)
    try:
        old, new = reindex_records(client, IndexNames(settings.index_prefix))
    finally:
        client.close()
    typer.echo(f"records now in {new}" + (f" (was {old})" if old else ""))


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from api.app import create_app

    application = create_app(get_settings())
    # What start-up built lives as long as the process: out of the cyclic collector's full passes,
    # which otherwise stall a look-up now and then (bench/RESULTS.md: p99 ~100 → ~55 ms at 10 clients).
    gc.collect()
    gc.freeze()
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command("hash-key")
def hash_key(key: Annotated[str, typer.Argument(help="An API key to put in an access policy.")]) -> None:
    """Print the SHA-256 an access policy stores for an API key."""
    from api.policy import hash_key as digest

    typer.echo(digest(key))


@opensearch_app.command("start")
def opensearch_start() -> None:
    """Start the local node (assembled from Maven on first use) and wait until it is healthy."""
    try:
        status, started = start_node(get_settings())
    except NodeSetupError as error:
        raise _fail(error) from None
    if not started:
        typer.echo(f"A node already answers at {status.url}; nothing started.")
    _print_status(status)


@opensearch_app.command("stop")
def opensearch_stop() -> None:
    """Stop the node this machine's rcu started (by its recorded pid); any other node is left alone."""
    settings = get_settings()
    try:
        pid = stop_node(settings)
    except NodeSetupError as error:
        raise _fail(error) from None
    if pid is None:
        typer.echo(f"No node started by rcu is running for {settings.opensearch_url}; nothing stopped.")
    else:
        typer.echo(f"Stopped the node (pid {pid}).")


@opensearch_app.command("status")
def opensearch_status() -> None:
    """Health, version and plugins of the node at OPENSEARCH_URL; exit code 4 when it is down."""
    status = node_status(get_settings())
    _print_status(status)
    if not status.reachable:
        raise typer.Exit(EXIT_NODE_DOWN)
