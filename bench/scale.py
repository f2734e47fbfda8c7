"""rcu at scale on one machine: `python -m bench.scale --records 1000000 [--stages …]`.

For each size: the demo generator's records plus a share made by the independent corruption model
(bench/corruption, its own people, sources prefixed `cm_`; `--corrupted-share` more) are ingested by a real `rcu ingest`, then
`rcu resolve --full` runs end to end twice as a user runs it (a first run writing every customer,
then a run over unchanged data writing only what changed), each a child process measured for wall
time and peak memory, with the stage times it prints; then the disk each index uses per record,
look-ups through the API at 2 clients and real-time pushes on the result.

Stages (`--stages`, in this order; each reuses what the previous left, so a long run can be split
into several runs under the benchmark lock): ingest, resolve, rerun, disk, lookups, pushes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import RECORDS_PER_PERSON, demo_data, ensure_node, machine, run_measured
from search.client import bulk_client
from search.indices import IndexNames
from settings import get_settings

PREFIX = "rcu-bench-scale"
STAGES = ("ingest", "resolve", "rerun", "disk", "lookups", "pushes")


def corrupted_records(records: int, seed: int = 5) -> Path:
    """About `records` records of the corruption model in one JSON Lines file (generated once)."""
    from bench.corruption.dataset import corpus
    from bench.corruption.knobs import Knobs

    path = get_settings().home / "bench-data" / f"scale-corruption-{records}-seed-{seed}" / "records.jsonl"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = corpus(Knobs(people=max(1, round(records / RECORDS_PER_PERSON))), seed)
        with path.open("w", encoding="utf-8") as stream:
            for record in made.records:
                stream.write(json.dumps({**record.payload, "source": f"cm_{record.payload['source']}"}, ensure_ascii=False) + "\n")
    return path


def _rcu(*arguments: str) -> list[str]:
    return [str(Path(sys.executable).with_name("rcu")), *arguments]


def _env() -> dict[str, str]:
    return {"RCU_INDEX_PREFIX": PREFIX}


def ingest(records: int, corrupted_share: float) -> None:
    client = bulk_client(get_settings())
    client.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")
    # The demo set of that size (cached, shared with the other benchmarks) plus the corruption model's on top.
    corrupted = round(records * corrupted_share)
    demo = demo_data(records)
    paths = [str(demo)] + ([str(corrupted_records(corrupted))] if corrupted else [])
    run = run_measured(
        _rcu("ingest", *paths, "--rejects", str(get_settings().home / "bench-data" / f"scale-rejects-{records}.jsonl")), _env()
    )
    summary = next((line for line in run.output.splitlines() if line.startswith("read=")), run.output.strip()[-400:])
    read = int(summary.split()[0].split("=")[1]) if summary.startswith("read=") else 0
    print(f"ingest: {read} records in {run.seconds:.0f} s ({read / run.seconds:.0f}/s), peak {run.peak_rss_mb:.0f} MB — {summary}")


def forget_resolution() -> None:
    """Every index of the bench's prefix deleted but the records': the next `rcu resolve --full` is
    a first run (trains, writes every customer) over records ingested before."""
    client = bulk_client(get_settings())
    records = set(client.indices.get_alias(name=IndexNames(PREFIX).records))
    for index in sorted(set(client.indices.get(index=f"{PREFIX}-*", expand_wildcards="all")) - records):
        client.indices.delete(index=index)


def as_keyed_by_an_older_rcu() -> None:
    """The records index marked as keyed by an older rcu's rules (its keys version taken out of its
    mapping's _meta): the next full run rewrites every record's blocking keys, as after an upgrade."""
    from search.resolve.store import KEYS_VERSION_META

    client = bulk_client(get_settings())
    records = IndexNames(PREFIX).records
    (mapping,) = client.indices.get_mapping(index=records).values()
    meta = {key: value for key, value in mapping["mappings"].get("_meta", {}).items() if key != KEYS_VERSION_META}
    client.indices.put_mapping(index=records, body={"_meta": meta})


def resolve(label: str) -> None:
    run = run_measured(_rcu("resolve", "--full"), _env())
    line = next((line for line in run.output.splitlines() if line.startswith("records=")), run.output.strip()[-600:])
    records = int(line.split()[0].split("=")[1]) if line.startswith("records=") else 0
    per_record = f", {run.cpu_s / records * 1e6:.0f} µs CPU per record" if records else ""
    print(
        f"{label}: {run.seconds:.0f} s end to end, peak {run.peak_rss_mb:.0f} MB, {run.cpu_s:.0f} s CPU{per_record} "
        f"(rcu resolve --full, exit {run.returncode})"
    )
    print(f"  {line}")


def disk() -> None:
    client = bulk_client(get_settings())
    client.indices.refresh(index=f"{PREFIX}-*")
    names = IndexNames(PREFIX)
    records = client.count(index=names.records)["count"]
    rows = client.cat.indices(index=f"{PREFIX}-*", format="json", bytes="b", h="index,docs.count,store.size")
    print(f"disk per record ({records} records):")
    for row in sorted(rows, key=lambda r: -int(r["store.size"] or 0)):
        size = int(row["store.size"] or 0)
        print(
            f"  {row['index']:<45} {int(row['docs.count'] or 0):>10} docs {size / 2**20:>9.0f} MiB {size / max(records, 1):>8.0f} B/record"
        )


def lookups(records: int, count: int, port: int) -> None:
    import asyncio

    from api.policy import DEMO_KEYS
    from bench.search import over_http, percentiles, serve, typeahead_queries

    queries = typeahead_queries(records, count)
    # One key sends thousands of look-ups: misuse detection would slow it down (as bench.search does).
    env = {"RCU_MISUSE_DELAY_S": "0"}
    server = serve(_rcu("serve", "--port", str(port), "--demo-policy"), port, "/ready", prefix=PREFIX, env=env)
    try:
        base, headers = f"http://127.0.0.1:{port}", {"X-API-Key": DEMO_KEYS["counter"]}
        timings, seconds = asyncio.run(over_http(base, "/v1/search", headers, {"limit": "10"}, queries, 2))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"look-ups through the API at 2 clients: {len(timings)} in {seconds:.0f} s, {percentiles(timings)}")


def pushes(count: int, seed: int = 99) -> None:
    from bench.datasets import demo_dataset
    from indexers.contract import SourceRecord
    from indexers.push import RecordPusher
    from search.resolve.config import ResolutionConfig
    from search.resolve.realtime import RealTimeResolver

    settings = get_settings()
    client = bulk_client(settings)
    names = IndexNames.for_settings(settings.model_copy(update={"index_prefix": PREFIX}))
    pusher = RecordPusher(client, names, RealTimeResolver(client, names, ResolutionConfig()), settings.suppression_key_bytes)
    pusher.resolver.model()
    started = time.time()
    # A seed per run, when runs are compared: the same people pushed again find the earlier run's records.
    newcomers = demo_dataset(demo_data(count * 3, seed=seed)).documents
    random.Random(3).shuffle(newcomers)
    fields = ("given_name", "family_name", "birth_date", "email", "phone", "street", "postcode", "city")
    timings = []
    requests = RequestTimes(client, PREFIX)
    for document in newcomers[:count]:
        payload = {field: str(document[field]) for field in fields if document.get(field)}
        # A source id of this run's own: the same newcomers pushed again by an earlier run would be "unchanged".
        record = SourceRecord.model_validate(
            {"source": "pushed", "source_id": f"{int(started)}-{document['source']}-{document['source_id']}", **payload}
        )
        began = time.perf_counter()
        pusher.push(record)
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    p95, p99 = (timings[max(0, int(len(timings) * share) - 1)] for share in (0.95, 0.99))
    print(
        f"real-time pushes (refreshed, as the API answers): {count}, "
        f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
    )
    print("  where a push waits, per request kind (ms per push, requests per push, median ms):")
    for line in requests.table(count):
        print(f"    {line}")


class RequestTimes:
    """Every request a client sends, timed, by method, path (index `prefix` and document ids taken
    out) and refresh parameter: where a real-time push's time goes. Requests made at once by several
    threads are each counted whole."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.times: dict[tuple[str, str, str], list[float]] = {}
        self.client = client
        send = self.send = client.transport.perform_request

        def timed(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return send(method, url, *args, **kwargs)
            finally:
                path = re.sub(r"/_(doc|update)/[^/?]+", r"/_\1/ID", url.split("?")[0].replace(f"{prefix}-", ""))
                refresh = (kwargs.get("params") or {}).get("refresh", "")
                refresh = refresh.decode() if isinstance(refresh, bytes) else str(refresh)  # the client sends parameters as bytes
                self.times.setdefault((method, path, refresh), []).append((time.perf_counter() - began) * 1000)

        client.transport.perform_request = timed

    def stop(self) -> None:
        self.client.transport.perform_request = self.send

    def table(self, pushes: int) -> list[str]:
        rows = sorted(self.times.items(), key=lambda item: -sum(item[1]))
        return [
            f"{sum(t) / pushes:7.1f} ms {len(t) / pushes:5.2f} × {statistics.median(t):6.1f} ms  {m} {path}{f' refresh={r}' if r else ''}"
            for (m, path, r), t in rows
            if len(t) >= pushes / 10
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--corrupted-share",
        type=float,
        default=0.05,
        help="Records made by bench/corruption, as a share of --records, added to the demo set.",
    )
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument(
        "--forget",
        action="store_true",
        help="Before the resolve stage, delete what an earlier run wrote (records kept): the first full run again.",
    )
    parser.add_argument(
        "--rekey",
        action="store_true",
        help="Before the resolve stage, mark the records as keyed by an older rcu: the run rewrites every record's keys.",
    )
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--push-seed", type=int, default=99, help="The pushed newcomers' seed.")
    parser.add_argument("--port", type=int, default=8391)
    args = parser.parse_args()
    print(machine())
    ensure_node()
    print(f"scale run: {args.records} records, stages {' '.join(args.stages)}")
    if "ingest" in args.stages:
        ingest(args.records, args.corrupted_share)
    if "resolve" in args.stages:
        if args.forget:
            forget_resolution()
        if args.rekey:
            as_keyed_by_an_older_rcu()
        resolve("first full run")
    if "rerun" in args.stages:
        resolve("full run again, nothing changed")
    if "disk" in args.stages:
        disk()
    if "lookups" in args.stages:
        lookups(args.records, args.lookups, args.port)
    if "pushes" in args.stages:
        pushes(args.pushes, args.push_seed)


if __name__ == "__main__":
    main()
