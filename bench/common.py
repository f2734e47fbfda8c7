"""What every benchmark needs: a real node, demo data sets cached on disk, a child process measured."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from indexers.demo.sources import write_demo_data
from rcu.settings import Settings, get_settings
from search.node.process import start_node

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


@dataclass
class ChildRun:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_measured(command: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run `command`, returning its wall time and its own peak resident memory."""
    started = time.perf_counter()
    with subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as child:
        output = child.stdout.read() if child.stdout else ""
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(time.perf_counter() - started, usage.ru_maxrss / 1024, child.returncode, output)


def machine() -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores, {memory_gb:.0f} GiB, {platform.platform()}, Python {platform.python_version()}"
