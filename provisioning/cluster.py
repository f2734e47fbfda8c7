"""A managed cluster of several OpenSearch nodes on 127.0.0.1: real discovery, one data path each.

For tests and for anyone trying clustering on one machine (`rcu opensearch start --nodes 3`). With
OPENSEARCH_URL's first port P, node i listens on HTTP port P+i and transport port P+100+i; every node
seeds its discovery with the others' transport ports and the first start bootstraps the cluster with
all of them as cluster-manager-eligible nodes (`cluster.initial_cluster_manager_nodes`). Each node
has its own folder under `RCU_HOME/cluster-P/node-<port>/` (config, data, logs, pid file); they share
the snapshot folder (`path.repo`), as nodes of one cluster must.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from provisioning.errors import NodeSetupError
from provisioning.process import (
    NodeInstance,
    NodeStatus,
    instance_lock,
    launch_node,
    node_status,
    prepare_node,
    running_pid,
    terminate,
    wait_until_healthy,
)
from settings import Settings

log = logging.getLogger(__name__)

TRANSPORT_OFFSET = 100
"""A node's transport port is its HTTP port plus this (9221 → 9321), as for the single node."""


@dataclass(frozen=True)
class LocalCluster:
    """The nodes of the managed cluster whose first node listens on `base_port`."""

    root: Path
    base_port: int
    size: int

    @classmethod
    def for_settings(cls, settings: Settings, size: int | None = None) -> LocalCluster:
        """The cluster of `size` nodes, or, without a size, of as many nodes as were ever set up."""
        root = settings.home.resolve() / f"cluster-{settings.opensearch_port}"
        if size is None:
            size = len(list(root.glob("node-*")))
        return cls(root=root, base_port=settings.opensearch_port, size=size)

    @property
    def name(self) -> str:
        return f"rcu-cluster-{self.base_port}"

    @property
    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.size)]

    @property
    def urls(self) -> str:
        """The OPENSEARCH_URL that names every node of this cluster."""
        return ",".join(f"http://127.0.0.1:{port}" for port in self.ports)

    def instance(self, port: int) -> NodeInstance:
        seeds = ", ".join(f'"127.0.0.1:{p + TRANSPORT_OFFSET}"' for p in self.ports)
        managers = ", ".join(f"{self.name}-{p}" for p in self.ports)
        return NodeInstance(
            root=self.root / f"node-{port}",
            port=port,
            cluster_name=self.name,
            discovery=(f"discovery.seed_hosts: [{seeds}]", f"cluster.initial_cluster_manager_nodes: [{managers}]"),
        )

    @property
    def instances(self) -> list[NodeInstance]:
        return [self.instance(port) for port in self.ports]

    def running(self) -> dict[int, int]:
        """port → pid of every node of this cluster that rcu started and that still runs."""
        pids = {instance.port: running_pid(instance) for instance in self.instances}
        return {port: pid for port, pid in pids.items() if pid is not None}


def _cluster_settings(settings: Settings, cluster: LocalCluster) -> Settings:
    return settings.model_copy(update={"opensearch_url": cluster.urls})


def cluster_status(settings: Settings) -> NodeStatus:
    """The cluster's health, seen through any of its nodes, with the pids of the nodes rcu runs."""
    cluster = LocalCluster.for_settings(settings)
    status = node_status(_cluster_settings(settings, cluster) if cluster.size else settings)
    status.managed_pids = cluster.running()
    return status


def start_cluster(settings: Settings, size: int, ports: list[int] | None = None) -> tuple[NodeStatus, list[int]]:
    """Start every node of the cluster (or only `ports`) that is not running, then wait until the
    cluster has all its nodes and is yellow or green. Returns its status and the ports started."""
    if size < 2:
        raise NodeSetupError("A cluster needs at least 2 nodes; for one node run `rcu opensearch start` without --nodes.")
    cluster = LocalCluster.for_settings(settings, size)
    existing = LocalCluster.for_settings(settings).size
    if existing and existing != size:
        raise NodeSetupError(
            f"{cluster.root} holds a cluster of {existing} nodes, not {size}.",
            hint=f"Start it with --nodes {existing}, or stop it and delete {cluster.root} to make a new one.",
        )
    clustered = _cluster_settings(settings, cluster)
    with instance_lock(NodeInstance(root=cluster.root, port=cluster.base_port)):
        running = cluster.running()
        wanted = [port for port in (ports or cluster.ports) if port not in running]
        launched: dict[NodeInstance, subprocess.Popen[bytes]] = {}
        try:
            for port in wanted:
                instance = cluster.instance(port)
                distribution = prepare_node(instance, settings)
                launched[instance] = launch_node(instance, distribution, settings)
            status = wait_until_healthy(clustered, launched, node_count=size if ports is None else len(running) + len(wanted))
        except NodeSetupError:
            for process in launched.values():
                terminate(process.pid)
            raise
        status.managed_pids = cluster.running()
        return status, wanted


def stop_cluster(settings: Settings, ports: list[int] | None = None) -> dict[int, int]:
    """Stop the cluster's nodes rcu started (or only those on `ports`), all at once; returns port → pid stopped."""
    cluster = LocalCluster.for_settings(settings)
    with instance_lock(NodeInstance(root=cluster.root, port=cluster.base_port)):
        stopping = {port: pid for port, pid in cluster.running().items() if ports is None or port in ports}
        # SIGTERM to all first: nodes that leave one after another would each wait for a new election.
        for pid in stopping.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and cluster.running().keys() & stopping.keys():
            time.sleep(0.3)
        for port in cluster.running().keys() & stopping.keys():
            terminate(stopping[port])
        for instance in cluster.instances:
            if instance.port in stopping:
                instance.pid_file.unlink(missing_ok=True)
        log.info("cluster_stop name=%s ports=%s", cluster.name, ",".join(map(str, stopping)))
        return stopping
