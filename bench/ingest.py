"""Ingest throughput and peak memory: `python -m bench.ingest [--records 100000 1000000]`.

Each size is generated once (cached under .rcu/bench-data/), then ingested by a real `rcu ingest`
child process into a fresh index; the figures are the child's wall time and peak RSS, and the CPU
per record of the loader (the child, from its rusage) and of the node (from /proc, until the
index is refreshed and no merge runs). On a shared machine the CPU figures are the ones to trust.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.harness import demo_data, ensure_node, machine, run_measured
from bench.ingest_fields import settle as settle_index
from bench.search import node_cpu_s
from search.client import sync_client

BENCH_PREFIX = "rcu-bench-ingest"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    settings = ensure_node()
    client = sync_client(settings)
    print(machine())
    rcu = str(Path(sys.executable).with_name("rcu"))
    print(f"{'records':>10} {'seconds':>8} {'records/s':>10} {'peak MB':>8} {'loader µs/rec':>13} {'node µs/rec':>11}  summary")
    for size in args.records:
        folder = demo_data(size)
        client.indices.delete(index=f"{BENCH_PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")
        node_before = node_cpu_s(client)
        run = run_measured(
            [rcu, "ingest", str(folder), "--rejects", str(folder.parent / f"rejects-{size}.jsonl")],
            env={"RCU_INDEX_PREFIX": BENCH_PREFIX},
        )
        summary = next((line for line in run.output.splitlines() if line.startswith("read=")), run.output.strip()[-300:])
        read = int(summary.split()[0].split("=")[1]) if summary.startswith("read=") else 0
        settle_index(client, f"{BENCH_PREFIX}-records")
        node = node_cpu_s(client) - node_before
        loader_us, node_us = run.cpu_s / max(read, 1) * 1e6, node / max(read, 1) * 1e6
        print(
            f"{read:>10} {run.seconds:>8.1f} {read / run.seconds:>10.0f} {run.peak_rss_mb:>8.0f} {loader_us:>13.0f} {node_us:>11.0f}  {summary}"
        )
    client.indices.delete(index=f"{BENCH_PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")


if __name__ == "__main__":
    main()
