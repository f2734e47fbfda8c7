"""`rcu segments` speed: every customer's profile recomputed (figures of their events, household,
profile written; segments are their conditions searched, search.segments.membership), and one
customer's live recompute after an event.

The customers are written straight into a customers index (synthetic golden customers: birth
dates, postcodes, shared addresses, consents, restriction) and their events straight into the
events indices, with the documents rcu itself writes — resolution is not what is measured
here. Build a large set once, unlocked and niced, then measure it under the shared lock:

    nice -n 15 .venv/bin/python -m bench.segments --customers 1000000 --build-only
    flock /work/bench.lock .venv/bin/python -m bench.segments --customers 1000000 --keep

The rcu process's CPU and the node's CPU are printed per customer beside the wall time, so a figure
taken on a loaded machine still says what the work costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from opensearchpy.helpers import parallel_bulk

from bench.events import view_360
from bench.harness import ensure_node, node_cpu_ms
from bench.search import percentiles, serve
from search.actions.rules import load_rules_file
from search.actions.sheet import customer_sheet
from search.client import bulk_client
from search.events.model import Event
from search.events.store import ensure_period
from search.indices import IndexNames, ensure_records_index
from search.resolve.store import ensure_resolution_indices
from search.segments.conditions import definitions_in_force, ensure_conditions_index, store_definitions
from search.segments.daily import bring_up_to_date, reevaluate_all
from search.segments.definitions import load_segments
from search.segments.store import recompute_all, refresh_profiles

SEGMENTS = Path(__file__).resolve().parents[1] / "api" / "demo_segments.toml"
ACTIONS = SEGMENTS.with_name("demo_actions.toml")
SHOPS = ("lyon2", "nantes", "bordeaux", "lille", "paris11")
OFFERS = ("compte_courant", "livret", "carte_premium", "assurance_habitation")


def _customers(count: int, rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(count):
        # Born 1935–2015: about one in ten a minor, so some households have children.
        born = date(rng.randint(1935, 2015), rng.randint(1, 12), rng.randint(1, 28))
        postcode = f"{rng.randint(1, 95):02d}{rng.randint(0, 999):03d}"
        household = f"{rng.randint(1, 300)} rue de la paix|{postcode}" if rng.random() < 0.6 else f"{i} avenue unique|{postcode}"
        granted = sorted(p for p in ("marketing_email", "marketing_sms", "marketing_post", "profiling") if rng.random() < 0.6)
        customer = {
            "customer_id": f"C{i:012X}",
            "records": [f"crm:{i}"],
            "sources": ["crm"],
            "record_count": 1,
            "birth_date": born.isoformat(),
            "postcode": postcode,
            "city": "Ville",
            "household_key": household,
            "restricted": rng.random() < 0.02,
            "consents_granted": granted,
            "consents_refused": sorted({"marketing_email", "marketing_sms", "marketing_post", "profiling"} - set(granted)),
            "updated_at": now.isoformat(),
        }
        yield customer


def _events(count: int, per_customer: int, rng: random.Random, now: datetime) -> Iterator[Event]:
    for i in range(count):
        for n in range(rng.randint(0, 2 * per_customer)):
            kind = rng.choice(("purchase", "purchase", "visit", "subscription", "call"))
            yield Event(
                source="caisse",
                event_id=f"B{i}-{n}",
                at=now - timedelta(days=rng.uniform(0, 700)),
                type=kind,  # type: ignore[arg-type]
                record_id=f"crm:{i}",
                amount=round(rng.uniform(5, 300), 2) if kind == "purchase" else None,
                shop=rng.choice(SHOPS) if kind in ("purchase", "visit") else None,
                offer=rng.choice(OFFERS) if kind == "subscription" else None,
            )


def _events_of_existing(client: Any, names: IndexNames, per_customer: int, rng: random.Random, now: datetime) -> Iterator[Event]:
    """Events for customers already in `names`' customers index (`--prefix`), on each one's first record."""
    from opensearchpy.helpers import scan

    hits = scan(client, index=names.customers, query={"_source": ["records"]}, size=5000)
    for i, hit in enumerate(hits):
        record = (hit["_source"].get("records") or [None])[0]
        for event in _events(1, per_customer, rng, now) if record else ():
            yield Event(**{**event.__dict__, "event_id": f"B{i}-{event.event_id}", "record_id": record})


def _write(client: Any, actions: Iterator[dict[str, Any]]) -> int:
    written = 0
    for ok, item in parallel_bulk(client, actions, thread_count=2, chunk_size=2000, raise_on_error=False):
        if not ok:
            raise RuntimeError(f"bulk write failed: {item}")
        written += 1
    return written


def _timed(call: Callable[[str], object], sample: list[str]) -> str:
    latencies = []
    for i in sample:
        started = time.perf_counter()
        call(i)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    return f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms ({len(sample)} customers, one client)"


def _cpu(cpu_before: float, node_before: int, client: Any, customers: int) -> str:
    """CPU per customer since the marks: this process's (rcu's own work) and the node's."""
    rcu_us = (time.process_time() - cpu_before) / max(customers, 1) * 1e6
    node_us = (node_cpu_ms(client) - node_before) / max(customers, 1) * 1e3
    return f"CPU per customer: rcu {rcu_us:.0f} µs, node {node_us:.0f} µs"


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def views_360(prefix: str, customers: list[str], clients: int, port: int, source: Path | None = None) -> str:
    """The whole 360 view (`GET /v1/customers/{id}`, counter key: identity, records, household,
    timeline, figures, holdings, segments and actions) over `rcu serve` at `clients` clients, of
    this tree or of the rcu source tree at `source` (first on PYTHONPATH); latency, and the CPU of
    the API's process and of the node per view."""
    from search.client import sync_client
    from settings import get_settings

    command = [str(Path(sys.executable).with_name("rcu")), "serve", "--demo-policy", "--port", str(port)]
    env = {"RCU_ACTIONS": str(ACTIONS), "RCU_MISUSE_DELAY_S": "0", **({"PYTHONPATH": str(source)} if source else {})}
    server = serve(command, port, "/ready", prefix, env=env)
    node = sync_client(get_settings())
    try:
        asyncio.run(view_360(port, customers[:10], clients))  # connections, caches and the rules file warm
        api_cpu, node_cpu = _process_cpu_s(server.pid), node_cpu_ms(node)
        timings, seconds = asyncio.run(view_360(port, customers, clients))
        api_ms = (_process_cpu_s(server.pid) - api_cpu) * 1000 / len(timings)
        node_ms = (node_cpu_ms(node) - node_cpu) / len(timings)
    finally:
        server.terminate()
        server.wait(timeout=30)
        node.close()
    return (
        f"360 view with timeline, segments and actions, {clients} clients: {len(timings)} views, {len(timings) / seconds:.0f}/s  "
        f"{percentiles(timings)}; CPU per view: API {api_ms:.1f} ms, node {node_ms:.1f} ms"
    )


def cold_views(prefix: str, customers: list[str], port: int) -> str:
    """The first 360 views `rcu serve` answers (one client, one view at a time), right after it
    starts — after a node restart, the views the JVM's warm-up is paid on unless the API warmed the
    node first (search.warm_up, RCU_WARM_UP_ROUNDS; `serve` waits for it): latency of each, the
    node's CPU per view, and the node's CPU the warm-up took."""
    import httpx

    from api.policy import DEMO_KEYS
    from search.client import sync_client
    from settings import get_settings

    node = sync_client(get_settings())
    before_start = node_cpu_ms(node)
    command = [str(Path(sys.executable).with_name("rcu")), "serve", "--demo-policy", "--port", str(port)]
    started = time.perf_counter()
    server = serve(command, port, "/ready", prefix, env={"RCU_ACTIONS": str(ACTIONS), "RCU_MISUSE_DELAY_S": "0"})
    warm_s, warm_ms = time.perf_counter() - started, node_cpu_ms(node) - before_start
    latencies: list[float] = []
    try:
        node_before = node_cpu_ms(node)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": DEMO_KEYS["counter"]}, timeout=60) as http:
            for customer_id in customers:
                began = time.perf_counter()
                answer = http.get(f"/v1/customers/{customer_id}")
                latencies.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text
        node_ms = (node_cpu_ms(node) - node_before) / len(customers)
    finally:
        server.terminate()
        server.wait(timeout=30)
        node.close()
    first = ", ".join(f"{ms:.0f}" for ms in latencies[:5])
    return (
        f"first {len(latencies)} 360 views after `rcu serve` started (one client): median {statistics.median(latencies):.1f} ms, "
        f"max {max(latencies):.1f} ms (first five {first} ms); node CPU per view {node_ms:.1f} ms; "
        f"start to ready and warmed {warm_s:.1f} s, node CPU {warm_ms / 1000:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=3, help="on average (0 to twice this, uniform)")
    parser.add_argument("--keep", action="store_true", help="keep the indices (and reuse them on the next run)")
    parser.add_argument("--build-only", action="store_true", help="write the customers and events, keep them, measure nothing")
    parser.add_argument("--samples", type=int, default=200, help="customers timed one by one (live recompute, 360 view's part)")
    parser.add_argument(
        "--steps",
        default="live,recompute,daily,reevaluate,sheet",
        help="of live,recompute,daily,reevaluate,full,sheet,views,cold (cold: the first --samples views "
        "after `rcu serve` starts, one at a time; restart the node before it)",
    )
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients of the 360 views (step views)")
    parser.add_argument("--port", type=int, default=8794, help="port of the API served for the 360 views")
    parser.add_argument("--other", type=Path, help="step views: also serve the rcu source tree at this path, round after round")
    parser.add_argument("--rounds", type=int, default=1, help="step views: rounds of views (of each tree)")
    parser.add_argument(
        "--prefix",
        help="use the customers of this index prefix (e.g. the shared 1M index, rcu-bench-scale) instead of building them; "
        "events are written for their records (--events-per-customer) when the prefix has none yet",
    )
    args = parser.parse_args()
    settings = ensure_node()
    client = bulk_client(settings)
    names = IndexNames(args.prefix or f"{settings.index_prefix}-bench-segments-{args.customers}")
    now = datetime.now(UTC)
    rng = random.Random(7)
    if not client.indices.exists_alias(name=names.customers):
        ensure_resolution_indices(client, names)
        started = time.perf_counter()
        customers = _write(
            client, ({"_index": names.customers, "_id": c["customer_id"], "_source": c} for c in _customers(args.customers, rng, now))
        )
        months: set[str] = set()

        def event_actions() -> Iterator[dict[str, Any]]:
            for event in _events(args.customers, args.events_per_customer, rng, now):
                index = ensure_period(client, names, event.at.year, event.at.month, months)
                yield {"_index": index, "_id": event.key, "_source": event.document(event.record_id or "", now)}

        events = _write(client, event_actions())
        client.indices.refresh(index=[names.customers, names.events])
        print(f"wrote {customers} customers and {events} events in {time.perf_counter() - started:.0f} s")
    no_events = not client.indices.exists_alias(name=names.events) or client.count(index=names.events)["count"] == 0
    if args.prefix and args.events_per_customer and no_events:
        started = time.perf_counter()
        months = set()

        def existing_actions() -> Iterator[dict[str, Any]]:
            for event in _events_of_existing(client, names, args.events_per_customer, rng, now):
                index = ensure_period(client, names, event.at.year, event.at.month, months)
                yield {"_index": index, "_id": event.key, "_source": event.document(event.record_id or "", now)}

        events = _write(client, existing_actions())
        client.indices.refresh(index=names.events)
        print(f"wrote {events} events for the customers of {names.prefix} in {time.perf_counter() - started:.0f} s")
    ensure_records_index(client, names)  # empty (customers written straight in), for the API to be ready
    if args.build_only:
        client.close()
        return
    sample = rng.sample(range(args.customers), args.samples)
    if args.prefix:  # customers' ids are not C{i:012X}: a sample of those stored
        random_query = {"function_score": {"random_score": {"seed": 7, "field": "_seq_no"}}}
        found = client.search(index=names.customers, body={"size": args.samples, "_source": False, "query": random_query})
        shown_ids = [hit["_id"] for hit in found["hits"]["hits"]]
    else:
        shown_ids = [f"C{i:012X}" for i in sample]
    steps = set(args.steps.split(","))
    definitions = load_segments(SEGMENTS)
    if "live" in steps:
        # What a push pays for segments when none is defined: the definitions in force taken away first.
        ensure_conditions_index(client, names)
        client.delete(index=names.conditions, id="active:segment", refresh=True, ignore=[404])
        print(f"live recompute, no segment defined: {_timed(lambda i: refresh_profiles(client, settings, names, [i]), shown_ids)}")
    store_definitions(client, names, "segment", definitions, SEGMENTS)
    if "recompute" in steps:
        # The first run: no profile stored yet (every membership is new).
        client.indices.delete(index=f"{names.profiles}*", ignore=[404], expand_wildcards="all")
        cpu, node = time.process_time(), node_cpu_ms(client)
        report = recompute_all(client, settings, names, now)
        rate = report.customers / report.seconds
        print(f"rcu segments: {report.line()}")
        print(
            f"recompute: {rate:.0f} customers/s; 1,000,000 customers at this rate: {1_000_000 / rate:.0f} s; {_cpu(cpu, node, client, report.customers)}"
        )
    if "daily" in steps:
        # The next day's `rcu segments`: days_since_seen moves for everyone seen, a few profiles come due.
        cpu, node = time.process_time(), node_cpu_ms(client)
        daily = bring_up_to_date(client, settings, names, now + timedelta(days=1))
        rate = daily.customers / daily.seconds
        print(f"rcu segments, the next day: {daily.line()}")
        print(
            f"next day: {rate:.0f} customers/s; 1,000,000 customers at this rate: {1_000_000 / rate:.0f} s; {_cpu(cpu, node, client, daily.customers)}"
        )
    if "reevaluate" in steps:
        # A definition change: "senior" from 65 to 70; the stored profiles' memberships settled again.
        changed = [d.model_copy(update={"condition": "age:>=70"}) if d.name == "senior" else d for d in definitions]
        before = definitions_in_force(client, names, "segment")
        store_definitions(client, names, "segment", changed, SEGMENTS)
        cpu, node = time.process_time(), node_cpu_ms(client)
        again = reevaluate_all(client, names, before=before)
        rate = again.customers / again.seconds
        print(f"rcu segments --definitions-only: {again.line()}")
        print(
            f"re-evaluation: {rate:.0f} customers/s; 1,000,000 customers at this rate: {1_000_000 / rate:.0f} s; {_cpu(cpu, node, client, again.customers)}"
        )
        store_definitions(client, names, "segment", definitions, SEGMENTS)
        print(f"back to the file's definitions: {reevaluate_all(client, names).line()}")
    if "full" in steps:
        # `rcu segments --full` after a definition change ("senior" from 65 to 70, and a new segment
        # holding half the customers): memberships settled on the node, no figure read again.
        changed = [d.model_copy(update={"condition": "age:>=70"}) if d.name == "senior" else d for d in definitions]
        wider = definitions[0].model_copy(update={"name": "moins_de_50_ans", "label": "Moins de 50 ans", "condition": "age:<50"})
        store_definitions(client, names, "segment", [*changed, wider], SEGMENTS)
        cpu, node = time.process_time(), node_cpu_ms(client)
        full = bring_up_to_date(client, settings, names, now + timedelta(days=1))
        print(f"rcu segments --full after a definition change: {full.line()}")
        print(
            f"full after a definition change: 1,000,000 customers at this rate: {1_000_000 * full.seconds / full.customers:.0f} s; "
            f"{_cpu(cpu, node, client, full.customers)}"
        )
        store_definitions(client, names, "segment", definitions, SEGMENTS)
        print(f"back to the file's definitions: {bring_up_to_date(client, settings, names, now + timedelta(days=1)).line()}")
    if "live" in steps:
        print(f"live recompute of one customer: {_timed(lambda i: refresh_profiles(client, settings, names, [i]), shown_ids)}")
    load_rules_file(client, names, ACTIONS)
    if "sheet" in steps:
        print(f"the 360 view's segments and actions: {_timed(lambda i: customer_sheet(client, settings, names, i, True), shown_ids)}")
    if "cold" in steps:
        print(cold_views(names.prefix, shown_ids, args.port))
    if "views" in steps:
        shown = shown_ids
        for round_ in range(args.rounds):
            print(f"round {round_ + 1}, this tree: {views_360(names.prefix, shown, args.clients, args.port)}")
            if args.other:
                print(f"round {round_ + 1}, {args.other}: {views_360(names.prefix, shown, args.clients, args.port, args.other)}")
    if not args.keep and not args.prefix:  # never the indices of a prefix this run did not build
        client.indices.delete(index=f"{names.prefix}-*", expand_wildcards="all")
    client.close()


if __name__ == "__main__":
    main()
