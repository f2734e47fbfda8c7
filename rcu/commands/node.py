"""`rcu opensearch start|stop|status`: the managed local node, or a local cluster of several."""

from __future__ import annotations

from typing import Annotated

import typer

from provisioning.cluster import LocalCluster, cluster_status, start_cluster, stop_cluster
from provisioning.process import NodeStatus, node_status, start_node, stop_node
from rcu.errors import EXIT_NODE_DOWN
from settings import get_settings


def _print_status(status: NodeStatus) -> None:
    if not status.reachable:
        typer.echo(f"OpenSearch at {status.url}: down ({status.error or 'no answer'})")
        return
    typer.echo(f"OpenSearch at {status.url}: {status.health}, version {status.version}, {status.node_count} node(s)")
    typer.echo(f"plugins: {', '.join(status.plugins) or '(none)'}")
    typer.echo(f"modules: {', '.join(status.modules) or '(none)'}")
    if status.managed_pid:
        typer.echo(f"managed by rcu, pid {status.managed_pid}")
    for port, pid in sorted(status.managed_pids.items()):
        typer.echo(f"cluster node on port {port} managed by rcu, pid {pid}")


def start(
    nodes: Annotated[int, typer.Option("--nodes", min=1, help="Nodes of a local cluster (ports from OPENSEARCH_URL's port up).")] = 1,
) -> None:
    """Start the local node, or a local cluster of several (assembled from Maven on first use), and wait until it is healthy."""
    settings = get_settings()
    if nodes == 1:
        status, started = start_node(settings)
        if not started:
            typer.echo(f"A node already answers at {status.url}; nothing started.")
    else:
        status, ports = start_cluster(settings, nodes)
        typer.echo(
            f"started nodes on ports {', '.join(map(str, ports))}" if ports else "Every node of the cluster already runs; nothing started."
        )
        typer.echo(f"point rcu at every node: export OPENSEARCH_URL={LocalCluster.for_settings(settings, nodes).urls}")
    _print_status(status)


def stop() -> None:
    """Stop the node, or the cluster's nodes, this machine's rcu started (by their recorded pids); any other node is left alone."""
    settings = get_settings()
    pid = stop_node(settings)
    cluster_pids = stop_cluster(settings)
    if pid is None and not cluster_pids:
        typer.echo(f"No node started by rcu is running for {settings.opensearch_url}; nothing stopped.")
    if pid is not None:
        typer.echo(f"Stopped the node (pid {pid}).")
    for port, cluster_pid in sorted(cluster_pids.items()):
        typer.echo(f"Stopped the cluster node on port {port} (pid {cluster_pid}).")


def status() -> None:
    """Health, version, nodes and plugins of the node or cluster at OPENSEARCH_URL; exit code 4 when it is down."""
    settings = get_settings()
    found = cluster_status(settings) if LocalCluster.for_settings(settings).size else node_status(settings)
    _print_status(found)
    if not found.reachable:
        raise typer.Exit(EXIT_NODE_DOWN)
