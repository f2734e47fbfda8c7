"""Interactions at scale: events ingested per second beside the record ingest's, the 360 view with
its timeline at 2 clients, and erasing one customer with 10 records and 1,000 events.

    flock /work/bench.lock .venv/bin/python -m bench.events [--records 100000] [--events 1000000]

A large run is prepared once, unlocked and niced (records ingested and resolved, the events file
written), then measured under the lock on a fresh events family:

    nice -n 15 .venv/bin/python -m bench.events --records 5000 --events 1000000 --build-only

The records (demo data) are ingested and resolved under `<RCU_INDEX_PREFIX>-events-bench-<records>`;
the events are generated for those records (a tenth by loyalty card, the rest by record; purchases,
visits, calls, web orders, subscriptions over the last three years) into a JSON Lines file and
ingested by the same code as `rcu ingest`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from bench.harness import demo_data, ensure_node, machine, node_cpu_ms
from bench.search import load, percentiles, serve

TYPES = ("purchase", "purchase", "visit", "visit", "call", "web_order", "subscription", "cancellation")
SHOPS = ("paris11", "lyon2", "bordeaux", "nantes", "lille")


def prepare_records(prefix: str, records: int) -> float | None:
    """Ingest and resolve the demo records once; returns the records/s of the ingest when it ran."""
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
    if client.indices.exists(index=names.customers) and client.count(index=names.customers)["count"] > 0:
        print(f"reusing {prefix}: {client.count(index=names.records)['count']} records")
        return None
    folder = demo_data(records)
    started = time.perf_counter()
    with RejectsReport(Path(tempfile.gettempdir()) / f"events-bench-rejects-{records}.jsonl") as report:
        summary = Ingestion(client, names, report, threads=settings.ingest_threads).run(SourceFiles.discover([folder]))
    seconds = time.perf_counter() - started
    print(f"records ingested in {seconds:.0f} s: {summary.line()} = {summary.read / seconds:,.0f} records/s")
    started = time.perf_counter()
    resolution = resolve_all(client, names, ResolutionConfig())
    print(f"resolved in {time.perf_counter() - started:.0f} s: {resolution.line()}")
    return summary.read / seconds


def write_events(prefix: str, count: int, path: Path, seed: int = 5) -> int:
    """`count` events over the live records of `prefix`, written as JSON Lines."""
    from opensearchpy.helpers import scan

    from search.client import bulk_client
    from search.indices import IndexNames
    from settings import get_settings

    client = bulk_client(get_settings())
    records = [
        (hit["_id"], hit["_source"].get("loyalty_card"))
        for hit in scan(client, index=IndexNames(prefix).records, query={"query": {"match_all": {}}, "_source": ["loyalty_card"]})
    ]
    client.close()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with path.open("wb") as stream:
        for number in range(count):
            record_id, card = records[rng.randrange(len(records))]
            kind = TYPES[rng.randrange(len(TYPES))]
            event: dict[str, object] = {
                "source": "bench",
                "event_id": f"E{number}",
                "at": (now - timedelta(minutes=rng.randrange(3 * 365 * 24 * 60 - 60 * 24 * 31))).isoformat(),
                "type": kind,
            }
            if card and rng.random() < 0.1:
                event["loyalty_card"] = card
            else:
                event["record"] = record_id
            if kind in ("purchase", "web_order"):
                event["amount"] = round(rng.uniform(2, 300), 2)
                event["products"] = [f"produit {rng.randrange(500)}" for _ in range(rng.randrange(1, 4))]
            if kind in ("purchase", "visit"):
                event["shop"] = SHOPS[rng.randrange(len(SHOPS))]
            if kind in ("subscription", "cancellation"):
                event["offer"] = ("carte premium", "livraison illimitée", "assurance")[rng.randrange(3)]
            stream.write(orjson.dumps(event) + b"\n")
    return count


def ingest_events(prefix: str, path: Path) -> tuple[str, float, str]:
    """Ingest an events file as `rcu ingest` does: its summary line, events/s, and the CPU per
    event of this process (rcu's loader) and of the node."""
    from indexers.event_ingest import EventIngestion
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from search.client import bulk_client
    from search.indices import IndexNames
    from settings import get_settings

    settings = get_settings()
    client = bulk_client(settings)
    cpu, node = time.process_time(), node_cpu_ms(client)
    started = time.perf_counter()
    with RejectsReport(path.with_suffix(".rejects.jsonl")) as report:
        summary = EventIngestion(client, IndexNames(prefix), report, threads=settings.ingest_threads).run(
            SourceFiles.discover([path]).event_lines()
        )
    seconds = time.perf_counter() - started
    events = max(summary.read, 1)
    rcu_us, node_us = (time.process_time() - cpu) / events * 1e6, (node_cpu_ms(client) - node) / events * 1e3
    costs = f"CPU per event: rcu {rcu_us:.0f} µs, node {node_us:.0f} µs; {projected(rcu_us, node_us)}"
    client.close()
    return summary.line(), summary.read / seconds, costs


def projected(rcu_us: float, node_us: float, events: int = 10_000_000, cores: int = 2) -> str:
    """What `events` cost at this CPU per event, and the wall time they need at least on `cores`
    otherwise idle cores: the loader is one Python process (one core at most, the GIL), the node
    takes what is left; a loaded machine's wall time says more about the load than the work."""
    rcu_s, node_s = rcu_us * events / 1e6, node_us * events / 1e6
    floor = max(rcu_s, (rcu_s + node_s) / cores)
    return f"{events:,} events: {rcu_s:,.0f} s rcu + {node_s:,.0f} s node CPU, at least {floor / 60:.0f} min on {cores} idle cores"


def drop_events(prefix: str) -> None:
    """Delete the events family of `prefix` (every period's index behind the alias)."""
    from search.client import bulk_client
    from search.indices import IndexNames
    from settings import get_settings

    client = bulk_client(get_settings())
    names = IndexNames(prefix)
    if client.indices.exists_alias(name=names.events):
        client.indices.delete(index=list(client.indices.get_alias(name=names.events)))
    client.close()


def busy_customers(prefix: str, count: int) -> list[str]:
    """Customers with events, for the 360 view's timeline to show something."""
    from search.client import bulk_client
    from search.events.attach import customers_of
    from search.indices import IndexNames
    from settings import get_settings

    client = bulk_client(get_settings())
    names = IndexNames(prefix)
    body = {"size": 0, "aggs": {"records": {"terms": {"field": "record_id", "size": count * 2}}}}
    buckets = client.search(index=names.events, body=body)["aggregations"]["records"]["buckets"]
    customers = sorted(set(customers_of(client, names, [b["key"] for b in buckets]).values()))[:count]
    client.close()
    return customers


async def view_360(port: int, customers: list[str], clients: int) -> tuple[list[float], float]:
    import httpx

    from api.policy import DEMO_KEYS

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": DEMO_KEYS["counter"]}, timeout=30) as http:

        async def send(customer_id: str) -> None:
            answer = await http.get(f"/v1/customers/{customer_id}")
            assert answer.status_code == 200 and answer.json()["interactions"] is not None, answer.text

        await load(send, customers[: clients * 5], clients)
        return await load(send, customers, clients)


def measure_erasure(prefix: str, events: int, samples: int) -> list[float]:
    """Erase a customer of 10 records holding `events` events (bench.rights's person)."""
    from bench.rights import measure_erasures

    return [seconds for seconds, _ in measure_erasures(prefix, samples, 0, events)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--erasures", type=int, default=3)
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--build-only", action="store_true", help="ingest and resolve the records, write the events file, measure nothing")
    parser.add_argument("--fresh-events", action="store_true", help="delete the events family first, so every event is new again")
    parser.add_argument(
        "--once", action="store_true", help="ingest the file once: no second pass of unchanged events (a large file in one booking)"
    )
    args = parser.parse_args()
    from settings import get_settings

    prefix = f"{get_settings().index_prefix}-events-bench-{args.records}"
    print(machine())
    records_rate = prepare_records(prefix, args.records)
    path = Path(tempfile.gettempdir()) / f"events-bench-{args.records}-{args.events}.events.jsonl"
    if path.exists():
        print(f"reusing {path}")
    else:
        started = time.perf_counter()
        write_events(prefix, args.events, path)
        print(f"generated {args.events:,} events in {time.perf_counter() - started:.0f} s")
    if args.build_only:
        return
    if args.fresh_events:
        drop_events(prefix)
    line, rate, costs = ingest_events(prefix, path)
    print(f"{line} = {rate:,.0f} events/s; {costs}" + (f" (records: {records_rate:,.0f} records/s)" if records_rate else ""))
    if not args.once:
        line, again, costs = ingest_events(prefix, path)
        print(f"the same file again: {line} = {again:,.0f} events/s; {costs}")
    customers = busy_customers(prefix, args.views)
    server = serve(
        [str(Path(sys.executable).with_name("rcu")), "serve", "--demo-policy", "--port", str(args.port)], args.port, "/ready", prefix
    )
    try:
        timings, seconds = asyncio.run(view_360(args.port, customers, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"360 view with timeline and figures, {args.clients} clients: {len(timings)} views, {len(timings) / seconds:.0f}/s  {percentiles(timings)}"
    )
    if args.erasures:
        erasures = sorted(measure_erasure(prefix, 1000, args.erasures))
        print(
            f"erasure of one customer (10 records, 1,000 events): median {statistics.median(erasures) * 1000:.0f} ms, max {erasures[-1] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
