"""What every benchmark needs: a real node, demo data sets cached on disk, a child process measured."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from provisioning.process import start_node
from search.client import bulk_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import Settings, get_settings

RECORDS_PER_PERSON = 2.4
"""About how many source records the demo generator writes per person."""


def ensure_node() -> Settings:
    settings = get_settings()
    status, started = start_node(settings)
    print(f"node {status.url}: OpenSearch {status.version}, {status.health}{' (started for the benchmark)' if started else ''}")
    return settings


def demo_data(records: int, seed: int = 42) -> Path:
    """A demo data set of about `records` records, generated once under .rcu/bench-data/."""
    folder = get_settings().home / "bench-data" / f"records-{records}-seed-{seed}"
    if not (folder / "truth.tsv").is_file():
        started = time.perf_counter()
        counts = write_demo_data(folder, persons=max(1, round(records / RECORDS_PER_PERSON)), seed=seed)
        print(f"generated {sum(counts.values())} records in {time.perf_counter() - started:.0f} s → {folder}")
    return folder


def resolved_demo(records: int, prefix: str) -> tuple[OpenSearch, IndexNames, ResolutionConfig]:
    """The demo set of about `records` records in fresh indices under `prefix`, ingested and
    resolved as `rcu ingest` and `rcu resolve --full` do: a client, the indices' names, the config."""
    settings = ensure_node()
    client = bulk_client(settings)
    names = IndexNames.for_settings(settings.model_copy(update={"index_prefix": prefix}))
    client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, expand_wildcards="all")
    folder = demo_data(records)
    with RejectsReport(folder.parent / f"{prefix}-rejects.jsonl") as report:
        Ingestion(client, names, report).run(SourceFiles.discover([folder]))
    config = ResolutionConfig()
    resolve_all(client, names, config)
    return client, names, config


@dataclass
class ChildRun:
    seconds: float
    peak_rss_mb: float  # the peak of the child and every process it forked, together
    returncode: int
    output: str
    cpu_s: float = 0.0  # user + system CPU of the child and the children it waited for


def run_measured(command: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run `command`, returning its wall time and peak memory.

    The peak is the larger of the child's own peak resident set and the highest total, sampled
    while it runs, of the child's resident set and the private memory of every process it forked:
    a forked worker shares the parent's pages until it writes them, so adding resident sets would
    count those twice, and the kernel's own peak covers one process only."""
    started = time.perf_counter()
    with subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as child:
        sampler = _TreeMemorySampler(child.pid)
        sampler.start()
        output = child.stdout.read() if child.stdout else ""
        _, status, usage = os.wait4(child.pid, 0)
        sampler.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        time.perf_counter() - started,
        max(usage.ru_maxrss / 1024, sampler.peak_mb),
        child.returncode,
        output,
        usage.ru_utime + usage.ru_stime,
    )


class _TreeMemorySampler(threading.Thread):
    """Samples twice a second; reading a process's page map (its private memory) is only done for
    the forked workers, which live for seconds, so the run measured is not slowed down."""

    def __init__(self, root: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.peak_mb = root, interval, 0.0
        self._done = threading.Event()

    def run(self) -> None:
        page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        while not self._done.wait(self.interval):
            try:
                resident_kb = int(Path(f"/proc/{self.root}/statm").read_text().split()[1]) * page_kb
            except (OSError, IndexError, ValueError):
                continue
            total_kb = resident_kb + sum(_private_kb(pid) for pid in _descendants(self.root))
            self.peak_mb = max(self.peak_mb, total_kb / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The parent pid is the second field after the parenthesised command name.
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: list[int] = []
    frontier = [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def _private_kb(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return sum(int(line.split()[1]) for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:")))


def machine() -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores, {memory_gb:.0f} GiB, {platform.platform()}, Python {platform.python_version()}"


@contextlib.contextmanager
def rights_left_out() -> Iterator[None]:
    """Within it, real-time resolution and pushes run as before the customer's rights: no
    suppression check, no statements applied, no change feed written — the other side of an A/B."""
    from indexers import push
    from search.resolve import pipeline

    kept = (push.lookup_refusal, pipeline.subject_changes)
    push.lookup_refusal = lambda *args, **kwargs: None
    pipeline.subject_changes = lambda *args, **kwargs: []
    try:
        yield
    finally:
        push.lookup_refusal, pipeline.subject_changes = kept


def node_cpu_ms(client: Any) -> int:
    """CPU time the node's process has used so far (all its threads), in ms."""
    nodes = client.nodes.stats(node_id="_local", metric="process")["nodes"]
    return sum(node["process"]["cpu"]["total_in_millis"] for node in nodes.values())
