"""Look-up latency and throughput: `python -m bench.search [--records 1000000] [--clients 10]`.

The demo data set of that size is ingested and resolved once into the `rcu-bench-search` indices
(kept between runs: delete them with `--rebuild`). Then type-ahead queries — an agent typing a
family name letter by letter, then the given name ("dup", "dupo", "dupon", "dupont", "dupont j", …)
— are sent by `--clients` concurrent clients:
1. straight to OpenSearch, the same request bodies the API builds, as the floor;
2. through a bare Python hop (bench/hop.py: uvicorn and the API's OpenSearch client, nothing else),
   what any Python API on the same cores pays on top of the floor;
3. through the API (`rcu serve` in a child process, counter-agent key, audit written per search).
The three run in turn, `--rounds` times (a path measured first or last is not favoured), after
the customers index was force-merged and no merge runs. Printed per round and path: requests,
throughput, p50 / p95 / p99 latency, and the CPU spent per request by the node, by the hop's or the
API's process (/proc) and by the load generator; then each figure's median and spread over the
rounds. The machine is shared: CPU per request is the figure to trust, latencies are loaded.
`--load-cpus` and `--server-cpus` pin the load generator and the servers to cores of their own.

Printed: requests, throughput, p50 / p95 / p99 latency of each, and the ratios of the p95s.

`--compare OTHER_TREE --rounds N`: only the API, this tree's and another rcu source tree's (a
`git archive` of the commit to compare with) in alternating rounds on the same node and indices,
each round's p95 and the node's CPU per search (from /proc), then the spread over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.harness import demo_data, ensure_node, machine

BENCH_PREFIX = "rcu-bench-search"


def prepare(records: int, rebuild: bool) -> None:
    from indexers.ingest import Ingestion
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from search.client import bulk_client
    from search.indices import IndexNames
    from search.resolve.config import ResolutionConfig
    from search.resolve.pipeline import resolve_all

    settings = ensure_node()
    client = bulk_client(settings)
    # Shards and replicas as the CLI sizes them (search/sizing.py), under the benchmark's own prefix.
    names = IndexNames.for_settings(settings.model_copy(update={"index_prefix": BENCH_PREFIX}))
    if rebuild:
        client.indices.delete(index=f"{BENCH_PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")
    if client.indices.exists(index=names.customers) and client.count(index=names.customers)["count"] > 0:
        print(f"reusing {names.customers}: {client.count(index=names.customers)['count']} customers")
        return
    folder = demo_data(records)
    started = time.perf_counter()
    with RejectsReport(folder.parent / f"search-rejects-{records}.jsonl") as report:
        summary = Ingestion(client, names, report, threads=settings.ingest_threads).run(SourceFiles.discover([folder]))
    print(f"ingested in {time.perf_counter() - started:.0f} s: {summary.line()}")
    started = time.perf_counter()
    resolution = resolve_all(client, names, ResolutionConfig())
    print(f"resolved in {time.perf_counter() - started:.0f} s: {resolution.line()}")
    client.indices.forcemerge(index=names.customers, max_num_segments=1, request_timeout=1800)


def typeahead_queries(records: int, count: int, seed: int = 7) -> list[str]:
    """What agents type, keystroke by keystroke, for people of the data set."""
    from bench.datasets import demo_persons

    people = [(row["given_name"], row["family_name"]) for row in demo_persons(demo_data(records))]
    rng = random.Random(seed)
    queries: list[str] = []
    while len(queries) < count:
        given, family = rng.choice(people)
        family = family.lower()
        given = given.lower()
        steps = [family[:k] for k in range(3, len(family) + 1)] + [f"{family} {given[:k]}" for k in range(1, min(len(given), 4) + 1)]
        queries.extend(step for step in steps if len(step.strip()) >= 2)
    return queries[:count]


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    pick = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))]  # noqa: E731
    return f"p50 {statistics.median(ordered):6.1f} ms  p95 {pick(0.95):6.1f} ms  p99 {pick(0.99):6.1f} ms"


async def load(send: Any, queries: list[str], clients: int) -> tuple[list[float], float]:
    """`clients` concurrent loops sending the queries in turn; latencies in ms and wall time."""
    timings: list[float] = []
    pending = iter(queries)

    async def client_loop() -> None:
        for query in pending:
            began = time.perf_counter()
            await send(query)
            timings.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return timings, time.perf_counter() - started


async def over_http(
    base: str, path: str, headers: dict[str, str], params: dict[str, str], queries: list[str], clients: int
) -> tuple[list[float], float]:
    """The queries as `?q=` (plus `params`) to `base` + `path`, after a few per client unmeasured."""
    # aiohttp, as opensearch-py's async client drives the floor: every path pays the same client cost.
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base_url=base, headers=headers, connector=connector) as http:

        async def send(query: str) -> None:
            async with http.get(path, params={"q": query, **params}) as response:
                response.raise_for_status()
                await response.read()

        await load(send, queries[: clients * 5], clients)  # warm-up
        return await load(send, queries, clients)


async def straight_to_opensearch(queries: list[str], clients: int, warm_up: int | None = None) -> tuple[list[float], float]:
    """The floor; `warm_up` queries sent first, unmeasured (default: a few per client)."""
    from api.policy import DEMO_POLICY, Policy
    from search.client import async_client
    from search.customer_query import plan_lookup
    from search.lookup import fallback_needed, search_body
    from search.query_parser import parse_query
    from settings import get_settings

    access = Policy.load(DEMO_POLICY).roles["counter"].field_access()
    client = async_client(get_settings(), maxsize=clients)

    async def send(text: str) -> None:
        plan = plan_lookup(parse_query(text), access)
        assert plan.query is not None, "the counter agent searches by name"
        found = await client.search(index=f"{BENCH_PREFIX}-customers", body=search_body(plan.query, access, 10))
        if fallback_needed(plan, found["hits"]["hits"]):
            assert plan.fallback is not None
            await client.search(index=f"{BENCH_PREFIX}-customers", body=search_body(plan.fallback, access, 10))

    try:
        await load(send, queries[: clients * 5 if warm_up is None else warm_up], clients)
        return await load(send, queries, clients)
    finally:
        await client.close()


def serve(
    command: list[str], port: int, probe: str, prefix: str = BENCH_PREFIX, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A server child process on `port` over the indices of `prefix`, once `probe` answers 200."""
    server = subprocess.Popen(
        command, env={**os.environ, "RCU_INDEX_PREFIX": prefix, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2)
            if answer.status_code == 200:
                return _warmed(server, port, probe, answer)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit(f"{' '.join(command)} did not answer in 60 s")


# How long a served API may take to warm the node (search.warm_up) before a bench measures it:
# 200 rounds took 77–145 s after a restart at 100,000 customers, load 11–16 (bench/RESULTS.md, session 18).
WARM_UP_WAIT_S = 600


def _warmed(server: subprocess.Popen[bytes], port: int, probe: str, answer: httpx.Response) -> subprocess.Popen[bytes]:
    """`server` once its warm-up of the node is over (search.warm_up; `/ready` says), so a
    bench measures what the first agents get, not the warm-up beside them."""
    deadline = time.monotonic() + WARM_UP_WAIT_S
    while answer.headers.get("content-type", "").startswith("application/json") and answer.json().get("warm_up") in ("waiting", "running"):
        if time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"the API on port {port} did not warm the node in {WARM_UP_WAIT_S} s")
        time.sleep(0.5)
        answer = httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2)
    return server


def serve_api(port: int, source: Path | None = None) -> subprocess.Popen[bytes]:
    """`rcu serve` of this tree, or of the rcu source tree at `source` (put first on PYTHONPATH)."""
    # One key sends thousands of look-ups: misuse detection would slow it past its role's hourly
    # customers (README, Detecting misuse) and measure the delay instead of the search.
    env = {"RCU_MISUSE_DELAY_S": "0", **({"PYTHONPATH": str(source)} if source else {})}
    command = [
        str(Path(sys.executable).with_name("rcu")),
        "serve",
        "--port",
        str(port),
        *([] if os.environ.get("RCU_POLICY") else ["--demo-policy"]),
    ]
    return serve(command, port, "/ready", env=env)


def compare(other: Path, queries: list[str], clients: int, rounds: int, port: int) -> None:
    """The API of this tree and of `other` in alternating rounds (ABBA...), same node, indices and
    queries: p95, the node's and the API process's CPU per search of each, then the spread over the rounds."""
    from api.policy import DEMO_KEYS
    from search.client import sync_client
    from settings import get_settings

    node = sync_client(get_settings())
    settle(node)
    counter = {"X-API-Key": DEMO_KEYS["counter"]}
    seen: dict[str, list[Round]] = {"this tree": [], "other": []}
    for round_ in range(rounds):
        order = [("this tree", None), ("other", other)]
        for label, source in order if round_ % 2 == 0 else order[::-1]:
            server = serve_api(port, source)
            try:
                run = measured(
                    label,
                    lambda: asyncio.run(over_http(f"http://127.0.0.1:{port}", "/v1/search", counter, {"limit": "10"}, queries, clients)),
                    node,
                    server.pid,
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
            seen[label].append(run)
            print(run.line(round_ + 1), flush=True)
    for label, runs in seen.items():
        print(
            f"{label:<9}: p95 {spread([p95(r.timings) for r in runs], ' ms')}, "
            f"node CPU {spread([r.node_cpu_s / len(r.timings) * 1000 for r in runs], ' ms/search')}, "
            f"API process CPU {spread([(r.server_cpu_s or 0) / len(r.timings) * 1000 for r in runs], ' ms/search')}"
        )


def serve_hop(port: int) -> subprocess.Popen[bytes]:
    """bench/hop.py under uvicorn, logging as `rcu serve` does."""
    return serve([sys.executable, "-m", "uvicorn", "bench.hop:app", "--port", str(port), "--log-level", "info"], port, "/?q=dupont")


def p95(timings: list[float]) -> float:
    return sorted(timings)[int(len(timings) * 0.95)]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def node_cpu_s(client: Any) -> float:
    """CPU seconds the OpenSearch node has used so far: from /proc for the managed node (exact), else
    as the nodes report it (their figure is refreshed about once a second)."""
    from provisioning.process import NodeInstance
    from settings import get_settings

    pid_file = NodeInstance.for_settings(get_settings()).pid_file
    if pid_file.is_file():
        return process_cpu_s(int(pid_file.read_text().strip()))
    nodes = client.nodes.stats(metric="process")["nodes"].values()
    return sum(node["process"]["cpu"]["total_in_millis"] for node in nodes) / 1000


def settle(client: Any, timeout_s: float = 600) -> None:
    """No merge running before anything is measured: the customers index, read-only during the
    benchmark, force-merged to one segment, then wait until no node merges anything."""
    client.indices.forcemerge(index=f"{BENCH_PREFIX}-customers", max_num_segments=1, request_timeout=1800)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        nodes = client.nodes.stats(metric="indices", index_metric="merge")["nodes"].values()
        if all(node["indices"]["merges"]["current"] == 0 for node in nodes):
            return
        time.sleep(1)


@dataclass
class Round:
    """One path's share of one round: latencies, wall time, and the CPU each process spent."""

    path: str
    timings: list[float]
    wall_s: float
    node_cpu_s: float
    server_cpu_s: float | None  # the hop's or the API's process; None for the floor
    load_cpu_s: float  # the load generator (this process)

    def line(self, round_number: int) -> str:
        n = len(self.timings)
        server = f"  server {self.server_cpu_s / n * 1000:5.2f} ms CPU/req" if self.server_cpu_s is not None else ""
        return (
            f"round {round_number} {self.path:<5} {n} req {n / self.wall_s:5.0f} req/s  {percentiles(self.timings)}  "
            f"node {self.node_cpu_s / n * 1000:5.2f} ms CPU/req{server}  load generator {self.load_cpu_s / n * 1000:5.2f} ms CPU/req"
        )


def measured(path: str, run: Any, node: Any, server_pid: int | None) -> Round:
    node_before, load_before = node_cpu_s(node), time.process_time()
    server_before = process_cpu_s(server_pid) if server_pid else 0.0
    timings, wall_s = run()
    return Round(
        path,
        timings,
        wall_s,
        node_cpu_s(node) - node_before,
        process_cpu_s(server_pid) - server_before if server_pid else None,
        time.process_time() - load_before,
    )


def spread(values: list[float], unit: str = "") -> str:
    return f"median {statistics.median(values):.2f}{unit} (min {min(values):.2f}, max {max(values):.2f})"


def pin(pid: int, cpus: set[int] | None) -> None:
    if cpus:
        os.sched_setaffinity(pid, cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--queries", type=int, default=3000, help="Queries per path and round.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Rounds of floor, hop, API in turn, or of each API with --compare (at least 3 for a spread)."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--load-cpus", default="", help="Cores the load generator (this process) is pinned to, e.g. 1 (taskset-like).")
    parser.add_argument("--server-cpus", default="", help="Cores the hop and the API are pinned to, e.g. 0.")
    parser.add_argument("--rebuild", action="store_true", help="Ingest and resolve again.")
    parser.add_argument(
        "--compare",
        type=Path,
        help="Another rcu source tree: its API and this one's in alternating rounds (API only, node CPU per search).",
    )
    args = parser.parse_args()
    load_cpus = {int(c) for c in args.load_cpus.split(",") if c}
    server_cpus = {int(c) for c in args.server_cpus.split(",") if c}
    print(machine())
    prepare(args.records, args.rebuild)
    queries = typeahead_queries(args.records, args.queries)
    if args.compare:
        print(
            f"{len(queries)} type-ahead queries, {args.clients} concurrent clients, {args.rounds} rounds, this tree against {args.compare}"
        )
        compare(args.compare, queries, args.clients, args.rounds, args.port)
        return
    print(f"{len(queries)} type-ahead queries, {args.clients} concurrent clients, e.g. {', '.join(queries[:6])}")
    from api.policy import DEMO_KEYS
    from search.client import sync_client
    from settings import get_settings

    node = sync_client(get_settings())
    settle(node)
    hop_server, api_server = serve_hop(args.port + 1), serve_api(args.port)
    for server in (hop_server, api_server):
        pin(server.pid, server_cpus)
    pin(0, load_cpus)
    print(f"pinned: load generator {sorted(load_cpus) or 'all cores'}, hop and API {sorted(server_cpus) or 'all cores'}, node unpinned")
    counter = {"X-API-Key": DEMO_KEYS["counter"]}
    paths = {
        "floor": (lambda: asyncio.run(straight_to_opensearch(queries, args.clients)), None),
        "hop": (lambda: asyncio.run(over_http(f"http://127.0.0.1:{args.port + 1}", "/", {}, {}, queries, args.clients)), hop_server.pid),
        "api": (
            lambda: asyncio.run(over_http(f"http://127.0.0.1:{args.port}", "/v1/search", counter, {"limit": "10"}, queries, args.clients)),
            api_server.pid,
        ),
    }
    # Every query once before anything is measured: the node's caches hold the same data for all three paths.
    asyncio.run(straight_to_opensearch(queries, args.clients, warm_up=0))
    rounds: list[dict[str, Round]] = []
    try:
        for number in range(1, args.rounds + 1):
            rounds.append({})
            for path, (run, pid) in paths.items():
                rounds[-1][path] = measured(path, run, node, pid)
                print(rounds[-1][path].line(number), flush=True)
    finally:
        for server in (hop_server, api_server):
            server.terminate()
            server.wait(timeout=30)
    print(f"over {len(rounds)} rounds:")
    for path in paths:
        print(f"  {path:<5} p95 {spread([p95(r[path].timings) for r in rounds], ' ms')}")
    print(f"  API p95 / hop p95: {spread([p95(r['api'].timings) / p95(r['hop'].timings) for r in rounds])}")
    print(f"  API p95 / floor p95: {spread([p95(r['api'].timings) / p95(r['floor'].timings) for r in rounds])}")
    for path in ("hop", "api"):
        cpu = [(r[path].server_cpu_s or 0) / len(r[path].timings) * 1000 for r in rounds]
        print(f"  {path} process CPU per look-up: {spread(cpu, ' ms')}")
    for path in paths:
        print(f"  node CPU per look-up via {path}: {spread([r[path].node_cpu_s / len(r[path].timings) * 1000 for r in rounds], ' ms')}")


if __name__ == "__main__":
    main()
