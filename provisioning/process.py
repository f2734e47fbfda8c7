"""Starting, stopping and inspecting rcu's managed OpenSearch nodes on 127.0.0.1: one node, or a
cluster of several (provisioning/cluster.py) built from the same pieces."""

from __future__ import annotations

import fcntl
import grp
import logging
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException

from provisioning.distribution import MINIMUM_JAVA, OPENSEARCH_VERSION, ensure_distribution, node_environment
from provisioning.errors import NodeSetupError
from provisioning.java_runtime import find_jdk
from search.client import sync_client
from settings import Settings

log = logging.getLogger(__name__)

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class NodeStatus:
    """What a look at the node at the configured URL found."""

    url: str
    reachable: bool
    health: str | None = None
    version: str | None = None
    plugins: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    managed_pid: int | None = None
    node_count: int | None = None
    managed_pids: dict[int, int] = field(default_factory=dict)
    """port → pid of every node of a managed cluster (provisioning/cluster.py) that is running."""
    error: str | None = None


@dataclass(frozen=True)
class NodeInstance:
    """One managed node's own folder: config, data, logs and the pid of the process rcu started.

    `discovery` holds the node's discovery lines: single-node discovery unless it is one node of a
    cluster (provisioning/cluster.py)."""

    root: Path
    port: int
    cluster_name: str = "rcu-local"
    discovery: tuple[str, ...] = ("discovery.type: single-node",)

    @classmethod
    def for_settings(cls, settings: Settings) -> NodeInstance:
        return cls(root=settings.home.resolve() / f"node-{settings.opensearch_port}", port=settings.opensearch_port)

    @property
    def transport_port(self) -> int:
        return self.port + 100

    @property
    def name(self) -> str:
        return f"{self.cluster_name}-{self.port}"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pid_file(self) -> Path:
        return self.root / "opensearch.pid"

    @property
    def console_log(self) -> Path:
        return self.logs / "console.log"


def _probe_client(settings: Settings) -> OpenSearch:
    # Each of the cluster's URLs is tried once: a node that is down must not hide the others.
    return sync_client(settings, timeout=3, max_retries=len(settings.opensearch_urls) - 1, retry_on_timeout=False)


def node_status(settings: Settings) -> NodeStatus:
    """Health, version and plugins of whatever answers at OPENSEARCH_URL, plus the managed pid if any."""
    status = NodeStatus(url=settings.opensearch_url, reachable=False, managed_pid=running_pid(NodeInstance.for_settings(settings)))
    client = _probe_client(settings)
    try:
        info = client.info()
        status.reachable = True
        status.version = info["version"]["number"]
        health = client.cluster.health()
        status.health = health["status"]
        status.node_count = health["number_of_nodes"]
        nodes = client.nodes.info(metric="plugins")["nodes"].values()
        status.plugins = sorted({plugin["name"] for node in nodes for plugin in node.get("plugins", [])})
        status.modules = sorted({module["name"] for node in nodes for module in node.get("modules", [])})
    except OpenSearchException as error:
        status.error = str(error)
    finally:
        client.close()
    return status


def running_pid(instance: NodeInstance) -> int | None:
    """The pid recorded for this instance if that process is still an OpenSearch node of this instance."""
    try:
        pid = int(instance.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return None
    # A recycled pid must never be signalled: check it is a node of this very instance.
    if "org.opensearch.bootstrap.OpenSearch" not in cmdline:
        return None
    environ = Path(f"/proc/{pid}/environ")
    try:
        if str(instance.config).encode() not in environ.read_bytes():
            return None
    except PermissionError:
        pass
    return pid


def _ensure_is_local(settings: Settings) -> None:
    if settings.opensearch_host not in LOCAL_HOSTS:
        raise NodeSetupError(
            f"OPENSEARCH_URL={settings.opensearch_url} names a remote cluster; the managed node only runs on 127.0.0.1.",
            hint="Unset OPENSEARCH_URL (or set it to http://127.0.0.1:PORT) to run a local node.",
        )


def _node_account(settings: Settings) -> tuple[int, int] | None:
    """OpenSearch refuses to run as root: as root, run it as a system user (created if missing)."""
    if os.geteuid() != 0:
        return None
    name = settings.node_system_user
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        account = pwd.getpwnam(name)
    return account.pw_uid, grp.getgrgid(account.pw_gid).gr_gid


def _write_config(instance: NodeInstance, distribution: Path, settings: Settings) -> None:
    if instance.config.exists():
        shutil.rmtree(instance.config)
    shutil.copytree(distribution / "config", instance.config)
    for folder in (instance.data, instance.logs):
        folder.mkdir(parents=True, exist_ok=True)
    (instance.config / "opensearch.yml").write_text(
        "\n".join(
            [
                f"cluster.name: {instance.cluster_name}",
                f"node.name: {instance.name}",
                "network.host: 127.0.0.1",
                f"http.port: {instance.port}",
                f"transport.port: {instance.transport_port}",
                *instance.discovery,
                f"path.data: {instance.data}",
                f"path.logs: {instance.logs}",
                # Where `rcu snapshot` keeps its filesystem repository: one folder every node of the cluster sees.
                f"path.repo: [{snapshot_folder(settings)}]",
                # A developer disk that fills up must not turn the indices read-only under the tests.
                "cluster.routing.allocation.disk.threshold_enabled: false",
                "",
            ]
        )
    )
    # The shipped jvm.options write GC logs, heap dumps and crash files relative to the distribution,
    # which the node's user may not write to: point them into this instance.
    jvm_options = instance.config / "jvm.options"
    jvm_options.write_text(
        jvm_options.read_text()
        .replace("file=logs/", f"file={instance.logs}/")
        .replace("-XX:ErrorFile=logs/", f"-XX:ErrorFile={instance.logs}/")
        .replace("-XX:HeapDumpPath=data", f"-XX:HeapDumpPath={instance.data}")
    )
    options = instance.config / "jvm.options.d"
    options.mkdir(exist_ok=True)
    (options / "rcu-heap.options").write_text(f"-Xms{settings.node_heap}\n-Xmx{settings.node_heap}\n")


def snapshot_folder(settings: Settings) -> Path:
    """The filesystem snapshot repository's folder (`path.repo` of every managed node), created here."""
    folder = settings.snapshot_location
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chown_tree(root: Path, account: tuple[int, int]) -> None:
    uid, gid = account
    for folder, dirs, files in os.walk(root):
        os.chown(folder, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def log_tail(instance: NodeInstance, lines: int = 30) -> str:
    chunks = []
    for log_file in (instance.console_log, instance.logs / f"{instance.cluster_name}.log"):
        if log_file.is_file():
            tail = log_file.read_text(errors="replace").splitlines()[-lines:]
            chunks.append(f"--- last lines of {log_file} ---\n" + "\n".join(tail))
    return "\n".join(chunks) or "(the node wrote no log)"


@contextmanager
def instance_lock(instance: NodeInstance) -> Iterator[None]:
    instance.root.parent.mkdir(parents=True, exist_ok=True)
    with open(instance.root.parent / f".{instance.root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def wait_until_healthy(settings: Settings, launched: dict[NodeInstance, subprocess.Popen[bytes]], node_count: int = 1) -> NodeStatus:
    """Wait until the cluster at the settings' URLs has `node_count` nodes and is yellow or green;
    a launched process that exits, or the time-out, raises with the last lines of its log."""
    deadline = time.monotonic() + settings.node_start_timeout_s
    while time.monotonic() < deadline:
        for instance, process in launched.items():
            if process.poll() is not None:
                raise NodeSetupError(
                    f"The OpenSearch node on port {instance.port} exited during start-up (exit {process.returncode}).",
                    hint=f"Read {instance.logs}; delete {instance.root} to start from a clean state.",
                    details=log_tail(instance),
                )
        status = node_status(settings)
        if status.reachable and status.health in {"yellow", "green"} and (status.node_count or 0) >= node_count:
            return status
        time.sleep(1)
    raise NodeSetupError(
        f"The OpenSearch cluster did not have {node_count} healthy node(s) within {settings.node_start_timeout_s:.0f} s.",
        hint="Raise RCU_NODE_START_TIMEOUT_S on a slow machine, or read the logs below.",
        details="\n".join(log_tail(instance) for instance in launched),
    )


def prepare_node(instance: NodeInstance, settings: Settings) -> Path:
    """The distribution (assembled on first use), with this instance's config written and owned by the
    node's account: everything up to launching the process."""
    _ensure_is_local(settings)
    jdk = find_jdk(MINIMUM_JAVA, settings.java_home, settings.environment_java_homes)
    distribution = ensure_distribution(settings.home.resolve(), jdk)
    _write_config(instance, distribution, settings)
    account = _node_account(settings)
    if account:
        _chown_tree(instance.root, account)
        os.chown(snapshot_folder(settings), *account)
    return distribution


def launch_node(instance: NodeInstance, distribution: Path, settings: Settings) -> subprocess.Popen[bytes]:
    """Start the node's process in its own session (not waited for); its pid file appears once it runs."""
    jdk = find_jdk(MINIMUM_JAVA, settings.java_home, settings.environment_java_homes)
    account = _node_account(settings)
    instance.pid_file.unlink(missing_ok=True)
    env = {**node_environment(jdk), "OPENSEARCH_PATH_CONF": str(instance.config)}
    with open(instance.console_log, "ab") as console:
        process = subprocess.Popen(
            [str(distribution / "bin" / "opensearch"), "-p", str(instance.pid_file)],
            cwd=instance.root,
            env=env,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=account[0] if account else None,
            group=account[1] if account else None,
        )
    log.info("node_start pid=%s port=%s version=%s", process.pid, instance.port, OPENSEARCH_VERSION)
    return process


def start_node(settings: Settings) -> tuple[NodeStatus, bool]:
    """Start the managed node unless one already answers; returns its status and whether it was started."""
    instance = NodeInstance.for_settings(settings)
    with instance_lock(instance):
        status = node_status(settings)
        if status.reachable:
            return status, False
        distribution = prepare_node(instance, settings)
        process = launch_node(instance, distribution, settings)
        try:
            status = wait_until_healthy(settings, {instance: process})
        except NodeSetupError:
            terminate(process.pid)
            raise
        status.managed_pid = running_pid(instance) or process.pid
        return status, True


def terminate(pid: int, grace_s: float = 60.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except FileNotFoundError:
        return False
    return state != "Z"


def stop_node(settings: Settings) -> int | None:
    """Stop the node rcu started for these settings (by its recorded pid); returns that pid, or None."""
    instance = NodeInstance.for_settings(settings)
    with instance_lock(instance):
        pid = running_pid(instance)
        if pid is None:
            instance.pid_file.unlink(missing_ok=True)
            return None
        terminate(pid)
        instance.pid_file.unlink(missing_ok=True)
        log.info("node_stop pid=%s port=%s", pid, instance.port)
        return pid
