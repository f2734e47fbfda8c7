"""`rcu opensearch start|stop|status`: the managed local node."""

from __future__ import annotations

import typer

from provisioning.process import NodeStatus, node_status, start_node, stop_node
from rcu.errors import EXIT_NODE_DOWN
from settings import get_settings


def _print_status(status: NodeStatus) -> None:
    if not status.reachable:
        typer.echo(f"OpenSearch at {status.url}: down ({status.error or 'no answer'})")
        return
    typer.echo(f"OpenSearch at {status.url}: {status.health}, version {status.version}")
    typer.echo(f"plugins: {', '.join(status.plugins) or '(none)'}")
    typer.echo(f"modules: {', '.join(status.modules) or '(none)'}")
    if status.managed_pid:
        typer.echo(f"managed by rcu, pid {status.managed_pid}")


def start() -> None:
    """Start the local node (assembled from Maven on first use) and wait until it is healthy."""
    status, started = start_node(get_settings())
    if not started:
        typer.echo(f"A node already answers at {status.url}; nothing started.")
    _print_status(status)


def stop() -> None:
    """Stop the node this machine's rcu started (by its recorded pid); any other node is left alone."""
    settings = get_settings()
    pid = stop_node(settings)
    if pid is None:
        typer.echo(f"No node started by rcu is running for {settings.opensearch_url}; nothing stopped.")
    else:
        typer.echo(f"Stopped the node (pid {pid}).")


def status() -> None:
    """Health, version and plugins of the node at OPENSEARCH_URL; exit code 4 when it is down."""
    found = node_status(get_settings())
    _print_status(found)
    if not found.reachable:
        raise typer.Exit(EXIT_NODE_DOWN)
