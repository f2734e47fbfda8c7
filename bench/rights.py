"""The customer's rights at scale: erasing one customer (10 records across systems, 1,000 events,
1,000 audit entries naming it) from a large index, and reading the change feed through the API.

    flock /work/bench.lock .venv/bin/python -m bench.rights [--records 1000000] [--erasures 5]

The indices are built once per size under `<RCU_INDEX_PREFIX>-rights-<records>` (demo data ingested
and resolved: the full run's `created` changes are the feed read) and reused by later runs.
`--prefix` measures on indices built by another benchmark instead (bench.scale's `rcu-bench-scale`
at 1M: build unlocked once, measure locked), nothing built:

    flock /work/1m.lock flock /work/bench.lock .venv/bin/python -m bench.rights --prefix rcu-bench-scale \
        --erasures 5 --realtime 0 --no-feed
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.harness import demo_data, ensure_node, machine, node_cpu_ms, rights_left_out
from bench.search import serve

KEY = b"bench-suppression-key"


def prepare(prefix: str, records: int) -> None:
    from indexers.ingest import Ingestion
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from search.client import bulk_client
    from search.indices import IndexNames
    from search.resolve.config import ResolutionConfig
    from search.resolve.pipeline import resolve_all

    settings = ensure_node()
    client = bulk_client(settings)
    names = IndexNames(prefix)
    if client.indices.exists(index=names.changes) and client.count(index=names.customers)["count"] > 0:
        print(
            f"reusing {prefix}: {client.count(index=names.records)['count']} records, {client.count(index=names.customers)['count']} customers"
        )
        return
    folder = demo_data(records)
    started = time.perf_counter()
    with RejectsReport(Path(tempfile.gettempdir()) / f"rights-rejects-{records}.jsonl") as report:
        summary = Ingestion(client, names, report, threads=settings.ingest_threads).run(SourceFiles.discover([folder]))
    print(f"ingested in {time.perf_counter() - started:.0f} s: {summary.line()}")
    started = time.perf_counter()
    resolution = resolve_all(client, names, ResolutionConfig())
    print(f"resolved in {time.perf_counter() - started:.0f} s: {resolution.line()}")


def existing(prefix: str) -> None:
    """Say what the indices under `prefix` hold; stop when they hold no resolved customer."""
    from search.client import bulk_client
    from search.indices import IndexNames

    client = bulk_client(ensure_node())
    names = IndexNames(prefix)
    customers = client.count(index=names.customers, ignore=[404]).get("count", 0)
    if not customers:
        sys.exit(f"{prefix} holds no resolved customer: build it first")
    print(f"measuring on {prefix}: {client.count(index=names.records)['count']} records, {customers} customers")
    client.close()


def store_model_as(prefix: str, storage: str) -> None:
    """Store the model's term frequencies inside its document (`inline`, as rcu before session 12
    did) or in buckets beside it (`documents`, search.resolve.term_frequencies), whichever the
    indices hold now: an A/B between the two codes runs each on its own storage, same counts.
    Raw requests only, so that the code before runs this too."""
    from opensearchpy.helpers import bulk, scan

    from search.client import bulk_client
    from search.indices import IndexNames
    from settings import get_settings

    client = bulk_client(get_settings())
    state = IndexNames(prefix).resolution_state
    document = client.get(index=state, id="model")
    source = document["_source"]
    generation = source.pop("tf_generation", None)
    source.pop("tf_buckets", None)
    if storage == "documents" and generation is None:
        from search.resolve.term_frequencies import stored_counts

        stored_counts(client, IndexNames(prefix))
    elif storage == "inline" and generation is not None:
        tables: dict[str, dict[str, int]] = {}
        stale = []
        for hit in scan(client, index=state, query={"query": {"match_all": {}}}, size=10_000):
            if hit["_id"].startswith("tf:"):
                stale.append(hit["_id"])
                if hit["_id"].startswith(f"tf:{generation}:") and "counts" in hit["_source"]:  # a bucket
                    for column, counts in hit["_source"]["counts"].items():
                        tables.setdefault(column, {}).update(counts)
                elif hit["_id"].startswith(f"tf:{generation}:"):  # a value's own document (an earlier version of this branch)
                    tables.setdefault(hit["_source"]["column"], {})[hit["_source"]["value"]] = hit["_source"]["count"]
        source["model"]["term_frequencies"] = tables
        client.index(index=state, id="model", body=source, refresh=True)
        bulk(client, ({"_op_type": "delete", "_index": state, "_id": doc_id} for doc_id in stale), refresh=True)
    counted = client.get(index=state, id="model")["_source"]
    print(
        f"model stored {storage}: generation {counted.get('tf_generation', '-')}, inline values "
        f"{sum(len(v) for v in counted['model'].get('term_frequencies', {}).values())}"
    )
    client.close()


def time_model_load(prefix: str) -> None:
    """One load of the stored model, as a process starting (or seeing it changed) does."""
    from search.client import bulk_client
    from search.indices import IndexNames
    from search.resolve.store import load_model
    from settings import get_settings

    client = bulk_client(get_settings())
    started = time.perf_counter()
    model = load_model(client, IndexNames(prefix))
    seconds = time.perf_counter() - started
    counted = sum(len(v) for v in model.term_frequencies.values()) if model else 0
    print(f"model load: {seconds * 1000:.0f} ms, {counted} counted values")
    client.close()


def person(number: int) -> list[dict[str, object]]:
    """Ten records of one made-up person across five systems, identifiers unique to this run."""
    tag = uuid.uuid4().hex[:8]
    sources = [
        "crm",
        "crm",
        "ecommerce",
        "ecommerce",
        "loyalty_paris11",
        "loyalty_lyon2",
        "callcenter",
        "callcenter",
        "legacy",
        "ecommerce",
    ]
    return [
        {
            "source": source,
            "source_id": f"ERASE-{tag}-{i}",
            "given_name": "Eulalie",
            "family_name": f"Benchmark{tag}",
            "birth_date": "1970-01-01",
            "email": f"eulalie.{tag}@example.org",
            "phone": f"07{number:02d}{int(tag[:6], 16) % 1_000_000:06d}",
            "loyalty_card": f"29{int(tag, 16) % 10**11:011d}" if source.startswith("loyalty") else None,
            "postcode": "75011",
            "city": "Paris",
            "updated_at": f"2026-01-{i + 1:02d}T10:00:00Z",
        }
        for i, source in enumerate(sources)
    ]


def measure_erasures(prefix: str, count: int, audit_entries: int, events: int = 0) -> list[tuple[float, dict[str, float]]]:
    """Erase `count` customers of 10 records (person()), each named by `audit_entries` audit entries
    and holding `events` events; (seconds, seconds per step) of each erasure."""
    from datetime import timedelta

    from opensearchpy.helpers import bulk

    from indexers.ingest import Ingestion
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from search.client import bulk_client
    from search.events.model import Event
    from search.events.store import EventWriter
    from search.indices import IndexNames
    from search.resolve.config import ResolutionConfig
    from search.resolve.pipeline import resolve_since_last_run
    from search.rights.erasure import erase_customer
    from search.rights.trail import record_operator_action
    from settings import get_settings

    if hasattr(IndexNames, "keyring"):  # the audit trail sealed per customer (session 14)
        from search.audit_keys import keys_for
        from search.audit_seal import seal_entry
    else:  # an older rcu, measured with this bench (A/B): its entries in clear
        keys_for, seal_entry = (lambda client, names, ids: {}), (lambda document, keys, stand_ins: document)

    client = bulk_client(get_settings())
    names = IndexNames(prefix)
    config = ResolutionConfig()
    results = []
    for number in range(count):
        folder = Path(tempfile.mkdtemp(prefix="rights-bench-"))
        records = person(number)
        (folder / "person.jsonl").write_bytes(b"\n".join(orjson.dumps({k: v for k, v in r.items() if v is not None}) for r in records))
        with RejectsReport(folder / "rejects.jsonl") as report:
            Ingestion(client, names, report, suppression_key=KEY).run(SourceFiles.discover([folder / "person.jsonl"]))
        resolve_since_last_run(client, names, config)
        record_ids = [f"{r['source']}:{r['source_id']}" for r in records]
        customer_id = client.get(index=names.record_customers, id=record_ids[0])["_source"]["customer_id"]
        members = client.get(index=names.customers, id=customer_id)["_source"]["records"]
        assert sorted(members) == sorted(record_ids), f"the ten records resolved into {len(members)}"
        record_operator_action(client, names, "customer", [customer_id])  # the audit index exists, the customer's key too
        now_at = datetime.now(UTC)
        now = now_at.isoformat()
        # As the API's shipper writes them: sealed under the customer's key (search.audit_seal).
        keys = keys_for(client, names, [customer_id])
        looked = {"at": now, "caller": "bench", "role": "counter", "action": "customer", "customer_ids": [customer_id], "query": "eulalie"}
        entries = ({"_index": names.audit, "_source": seal_entry(looked, keys, {})} for _ in range(audit_entries))
        bulk(client, entries, chunk_size=1000, refresh=True)
        if events:
            batch = [
                Event("bench", f"X{number}-{i}-{record_ids[0]}", now_at - timedelta(days=i % 700), "visit", record_id=record_ids[i % 10])
                for i in range(events)
            ]
            EventWriter(client, names).store(batch, refresh=True)
        time.sleep(1.1)  # the node's process figures are refreshed every second: read them after the set-up's
        refreshes = _refresh_ms(client)
        node_before, started = node_cpu_ms(client), time.perf_counter()
        receipt = erase_customer(client, names, config, customer_id, KEY, "bench")
        seconds = time.perf_counter() - started
        refreshed = _refresh_ms(client)
        slow = sorted(((refreshed[i] - refreshes.get(i, 0), i) for i in refreshed), reverse=True)[:3]
        print("  refresh time per index during the erasure: " + ", ".join(f"{index} {ms} ms" for ms, index in slow if ms > 0))
        time.sleep(1.1)  # and after the erasure's (merges it started included)
        receipt.timings["node_cpu"] = (node_cpu_ms(client) - node_before) / 1000
        forgotten = getattr(receipt, "audit_keys_forgotten", None)  # None: an rcu that rewrites its entries
        assert (
            receipt.records == 10
            and receipt.events == events
            and (forgotten or getattr(receipt, "audit_entries_pseudonymized", 0) >= audit_entries)
        ), receipt.as_dict()
        results.append((seconds, receipt.timings))
        print(
            f"erasure {number + 1}: {seconds * 1000:.0f} ms, {receipt.events} events, "
            + (
                f"{forgotten} audit keys forgotten "
                if forgotten is not None
                else f"{getattr(receipt, 'audit_entries_pseudonymized', 0)} audit entries rewritten "
            )
            + f"({', '.join(f'{k} {v * 1000:.0f}' for k, v in receipt.timings.items())})"
        )
    client.close()
    return results


def _refresh_ms(client: Any) -> dict[str, int]:
    """index → the milliseconds its shards have spent refreshing so far (explicit and scheduled)."""
    stats = client.indices.stats(metric="refresh", level="indices")["indices"]
    return {index: values["total"]["refresh"]["total_time_in_millis"] for index, values in stats.items()}


@dataclass
class FeedRead:
    """One read of the whole change feed through the API: changes returned (those of the integrator's
    sources), positions passed, pages, wall seconds, and the CPU seconds the API process, the node and
    this client spent on it."""

    limit: int
    changes: int
    positions: int
    pages: int
    wall_s: float
    api_cpu_s: float
    node_cpu_s: float
    client_cpu_s: float
    node_search_s: float  # the changes index's query + fetch time (the node's own figure, this index only)

    def line(self) -> str:
        per = 1e6 / max(self.changes, 1)
        return (
            f"change feed through the API, pages of {self.limit}: {self.changes} changes ({self.positions} positions, "
            f"{self.pages} pages) in {self.wall_s:.2f} s = {self.changes / self.wall_s:,.0f} changes/s; CPU per change: "
            f"API {self.api_cpu_s * per:.0f} µs, node {self.node_cpu_s * per:.0f} µs, client {self.client_cpu_s * per:.0f} µs; "
            f"node search time per change {self.node_search_s * per:.0f} µs"
        )


def feed_summary(label: str, reads: list[FeedRead]) -> str:
    """The median rate and CPU per change of one tree's reads at one page size."""
    rates = sorted(r.changes / r.wall_s for r in reads)
    api = statistics.median(r.api_cpu_s / max(r.changes, 1) * 1e6 for r in reads)
    node = statistics.median(r.node_cpu_s / max(r.changes, 1) * 1e6 for r in reads)
    search = statistics.median(r.node_search_s / max(r.changes, 1) * 1e6 for r in reads)
    return (
        f"{label}: change feed, pages of {reads[0].limit}, {len(reads)} reads: median {statistics.median(rates):,.0f} changes/s "
        f"(min {rates[0]:,.0f}, max {rates[-1]:,.0f}); CPU per change, median: API {api:.0f} µs, node {node:.0f} µs; node search time {search:.0f} µs"
    )


def _search_s(client: Any, index: str) -> float:
    """Seconds the node has spent in the query and fetch phases of searches of `index` so far."""
    stats = client.indices.stats(index=index, metric="search")["_all"]["total"]["search"]
    return (stats["query_time_in_millis"] + stats["fetch_time_in_millis"]) / 1000


def measure_feed(prefix: str, limits: list[int], rounds: int, source: Path | None = None, port: int = 8791) -> list[FeedRead]:
    """Read the whole feed `rounds` times per page size, sizes alternating (ABAB…), one API process:
    this tree's, or that of the rcu source tree at `source` (put first on PYTHONPATH, an A/B)."""
    from api.policy import DEMO_KEYS
    from bench.search import node_cpu_s, process_cpu_s
    from search.client import sync_client
    from search.indices import IndexNames
    from settings import get_settings

    node = sync_client(get_settings())
    changes_index = IndexNames(prefix).changes
    command = [str(Path(sys.executable).with_name("rcu")), "serve", "--demo-policy", "--port", str(port)]
    server = serve(command, port, "/health", prefix, env={"PYTHONPATH": str(source)} if source else None)
    reads = []
    try:
        headers = {"X-API-Key": DEMO_KEYS["integrator"]}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
            for limit in limits:  # connections, caches and the code paths of each size warm
                http.get("/v1/changes", params={"since": 0, "limit": limit})
            for _round in range(rounds):
                for limit in limits if _round % 2 == 0 else limits[::-1]:
                    search_before = _search_s(node, changes_index)
                    api_before, node_before, client_before = process_cpu_s(server.pid), node_cpu_s(node), time.process_time()
                    read, pages, cursor, started = 0, 0, 0, time.perf_counter()
                    while True:
                        page = http.get("/v1/changes", params={"since": cursor, "limit": limit}).json()
                        read, pages, cursor = read + len(page["changes"]), pages + 1, page["cursor"]
                        if not page["more"]:
                            break
                    wall = time.perf_counter() - started
                    reads.append(
                        FeedRead(
                            limit,
                            read,
                            cursor,
                            pages,
                            wall,
                            process_cpu_s(server.pid) - api_before,
                            node_cpu_s(node) - node_before,
                            time.process_time() - client_before,
                            _search_s(node, changes_index) - search_before,
                        )
                    )
                    print(reads[-1].line())
    finally:
        server.terminate()
        server.wait(timeout=30)
        node.close()
    return reads


def measure_realtime(prefix: str, samples: int) -> dict[str, list[float]]:
    """One new record resolved in real time (as POST /v1/records does), with the customer's rights
    applied and the change feed written, and with both left out — alternating, same index."""
    import contextlib

    from bench.datasets import demo_dataset
    from search.client import bulk_client
    from search.indices import IndexNames
    from search.resolve import pipeline
    from search.resolve.blocking import blocking_keys
    from search.resolve.config import ResolutionConfig
    from search.resolve.features import features_from_document
    from search.resolve.store import load_model
    from settings import get_settings

    client = bulk_client(get_settings())
    names = IndexNames(prefix)
    model = load_model(client, names)
    newcomers = demo_dataset(demo_data(4_800, seed=99)).documents[: samples * 2]
    timings: dict[str, list[float]] = {"with rights and change feed": [], "without": []}
    for number, document in enumerate(newcomers):
        with_rights = number % 2 == 0
        document = {**document, "record_id": f"new{uuid.uuid4().hex[:6]}:{document['record_id']}", "source": "new"}
        document["blocking_keys"] = blocking_keys(features_from_document(document))
        client.index(index=names.records, id=document["record_id"], body=document, refresh=False)
        with contextlib.nullcontext() if with_rights else rights_left_out():
            began = time.perf_counter()
            pipeline.resolve_touched(client, names, ResolutionConfig(), [document["record_id"]], model=model, documents=[document])
            timings["with rights and change feed" if with_rights else "without"].append((time.perf_counter() - began) * 1000)
    client.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--prefix", help="Measure on these existing, resolved indices (nothing built; --records ignored).")
    parser.add_argument("--erasures", type=int, default=5)
    parser.add_argument("--audit-entries", type=int, default=1000)
    parser.add_argument("--events", type=int, default=1000, help="Events of the erased customer.")
    parser.add_argument("--feed", action=argparse.BooleanOptionalAction, default=True, help="Read the change feed through the API.")
    parser.add_argument("--feed-limits", type=int, nargs="+", default=[1000, 5000], help="Page sizes of the feed reads (limit).")
    parser.add_argument("--feed-rounds", type=int, default=3, help="Whole-feed reads per page size, sizes alternating.")
    parser.add_argument("--compare", type=Path, help="Also read the feed through the API of this rcu source tree (A/B, ABBA rounds).")
    parser.add_argument(
        "--model-storage",
        choices=["inline", "documents"],
        help="Store the model's term frequencies so before measuring (A/B, bench docstring).",
    )
    parser.add_argument("--time-load", type=int, default=0, help="Time this many loads of the stored model (a process reading it).")
    parser.add_argument("--realtime", type=int, default=200, help="Real-time resolutions measured each way (0: none).")
    args = parser.parse_args()
    from settings import get_settings

    prefix = args.prefix or f"{get_settings().index_prefix}-rights-{args.records}"
    print(machine())
    if args.prefix:
        existing(prefix)
    else:
        prepare(prefix, args.records)
    if args.model_storage:
        store_model_as(prefix, args.model_storage)
    for _ in range(args.time_load):
        time_model_load(prefix)
    if args.erasures:
        measured = measure_erasures(prefix, args.erasures, args.audit_entries, args.events)
        times = sorted(seconds for seconds, _ in measured)
        print(
            f"erasure of one customer (10 records, {args.events} events, {args.audit_entries} audit entries): "
            f"median {statistics.median(times) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; per step median/max: "
            + ", ".join(
                f"{step} {statistics.median(t[step] for _, t in measured) * 1000:.0f}/{max(t[step] for _, t in measured) * 1000:.0f} ms"
                for step in measured[0][1]
            )
        )
    if args.realtime:
        for mode, timings in measure_realtime(prefix, args.realtime).items():
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(
                f"one new record resolved in real time, {mode}: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {len(timings)}"
            )
    trees: list[tuple[str, Path | None]] = [("this tree", None), *([("other", args.compare)] if args.compare else [])]
    reads: dict[str, list[FeedRead]] = {label: [] for label, _ in trees}
    for _round in range(args.feed_rounds if args.feed else 0):
        for label, source in trees if _round % 2 == 0 else trees[::-1]:  # ABBA…: the load drifts alike for both
            print(f"{label}:")
            reads[label] += measure_feed(prefix, args.feed_limits, 1, source)
    for label, _ in trees:
        for limit in args.feed_limits if args.feed else ():
            print(feed_summary(label, [r for r in reads[label] if r.limit == limit]))


if __name__ == "__main__":
    main()
