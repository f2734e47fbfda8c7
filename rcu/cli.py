"""The `rcu` command line: parses arguments, calls the packages, prints. Errors become exit codes here."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from rcu.settings import get_settings
from search.node.errors import NodeSetupError
from search.node.process import NodeStatus, node_status, start_node, stop_node

app = typer.Typer(no_args_is_help=True, help="rcu — Référentiel Client Unique.")
opensearch_app = typer.Typer(no_args_is_help=True, help="The managed local OpenSearch node.")
app.add_typer(opensearch_app, name="opensearch")

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


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info")


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
