"""Push latency and read-your-writes: `python -m bench.push [--records 20000] [--samples 200]`.

The demo data set of that size is ingested and resolved into the `rcu-bench-push` indices (rebuilt
each run). Then new people's records are pushed one at a time as `POST /v1/records` does
(indexers.push.RecordPusher: indexed, resolved in real time, the customer written), once per way of
making the record and the customer written visible to searches: not waited for, `wait_for` the
next periodic refresh, or refreshed at once (what the API does). Printed per way: p50 / p95 / max of a push, and how many pushed records a search of the
customers index found right after the push answered (read-your-writes).

`--reuse` pushes into the indices an earlier run left under `--prefix` (built by `--build-only`, or
by `bench.scale --stages ingest resolve` with `--prefix rcu-bench-scale`) and keeps them: build
unlocked, measure under the benchmark lock. `--ways` picks the ways measured, `--seed` the newcomers
(a seed per run: the same people pushed twice find each other's records). After each way, where a
push waits: every request kind, its time per push and median.

`--rights-ab ROUNDS` measures instead what the customer's rights add to a push as the API makes it
(refreshed at once): rounds alternate a batch with the suppression check, statements and change
feed, and one without (bench.harness.rights_left_out), on the same index, with a few customers
erased and a suppression key set as in production; per round and side, p50 / p95 of a push, and CPU
per push in this process (the API's part) and in the node — the spread across rounds is the noise.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable

from opensearchpy import OpenSearch

from bench.datasets import demo_dataset
from bench.harness import demo_data, ensure_node, machine, node_cpu_ms, resolved_demo, rights_left_out
from bench.scale import RequestTimes
from indexers.contract import SourceRecord
from indexers.push import RecordPusher
from search.client import bulk_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import Refresh

PREFIX = "rcu-bench-push"
WAYS: dict[str, Refresh] = {"not waited for": False, "wait_for": "wait_for", "refresh now": True}
PAYLOAD_FIELDS = ("given_name", "family_name", "birth_date", "email", "phone", "street", "postcode", "city")


KEY = b"bench-push-suppression-key"


def _record(document: dict) -> SourceRecord:
    payload = {field: str(document[field]) for field in PAYLOAD_FIELDS if document.get(field)}
    return SourceRecord.model_validate({"source": "pushed", "source_id": f"{document['source']}-{document['source_id']}", **payload})


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def rights_ab(client: OpenSearch, names: IndexNames, pusher: RecordPusher, newcomers: list[dict], rounds: int, samples: int) -> None:
    """Rounds alternating pushes with the customer's rights and without; which side goes first alternates too."""
    from search.rights.erasure import erase_customer

    for hit in client.search(index=names.customers, body={"size": 3, "sort": [{"customer_id": "asc"}]})["hits"]["hits"]:
        erase_customer(client, names, pusher.resolver.config, hit["_id"], KEY, "bench")  # a suppression list to check
    pusher.suppression_key = KEY
    sides: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
        "with rights": contextlib.nullcontext,
        "without": rights_left_out,
    }
    figures: dict[str, list[tuple[float, float, float, float]]] = {side: [] for side in sides}
    batches = iter(newcomers[i : i + samples] for i in range(0, len(newcomers), samples))
    for number in range(rounds):
        for side in sorted(sides, reverse=number % 2 == 1):
            timings = []
            cpu, node = time.process_time(), node_cpu_ms(client)
            with sides[side]():
                for document in next(batches):
                    began = time.perf_counter()
                    pusher.push(_record(document))
                    timings.append((time.perf_counter() - began) * 1000)
            cpu_ms = (time.process_time() - cpu) * 1000 / len(timings)
            node_ms = (node_cpu_ms(client) - node) / len(timings)
            figures[side].append((statistics.median(timings), _p95(timings), cpu_ms, node_ms))
            print(
                f"round {number + 1} {side:<12} p50 {figures[side][-1][0]:6.1f} ms  p95 {figures[side][-1][1]:6.1f} ms  "
                f"CPU per push: rcu {cpu_ms:5.1f} ms, node {node_ms:5.1f} ms"
            )
    for side, rows in figures.items():
        columns = list(zip(*rows, strict=True))
        spread = "  ".join(
            f"{label} {statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"
            for label, values in zip(("p50", "p95", "rcu CPU", "node CPU"), columns, strict=True)
        )
        print(f"{side:<12} median of {rounds} rounds (min–max), ms: {spread}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=200, help="Records pushed per way (per round and side with --rights-ab).")
    parser.add_argument(
        "--rights-ab", type=int, default=0, metavar="ROUNDS", help="Rounds of pushes with and without the customer's rights."
    )
    parser.add_argument("--prefix", default=PREFIX, help="The indices' prefix (rebuilt unless --reuse).")
    parser.add_argument("--build-only", action="store_true", help="Build the resolved demo set under --prefix and stop.")
    parser.add_argument("--reuse", action="store_true", help="Push into the indices an earlier run left under --prefix; keep them.")
    parser.add_argument("--ways", nargs="+", choices=list(WAYS), default=list(WAYS))
    parser.add_argument("--seed", type=int, default=99, help="The newcomers' seed.")
    args = parser.parse_args()
    print(machine())
    if args.reuse:
        settings = ensure_node()
        client = bulk_client(settings)
        names = IndexNames.for_settings(settings.model_copy(update={"index_prefix": args.prefix}))
        config = ResolutionConfig()
        print(f"reused: {client.count(index=names.records)['count']} records under {args.prefix}")
    else:
        client, names, config = resolved_demo(args.records, args.prefix)
        if args.build_only:
            return
    batches = 2 * args.rights_ab if args.rights_ab else len(args.ways)
    newcomers = demo_dataset(demo_data(batches * args.samples * 2, seed=args.seed)).documents
    # Ids of this run's own: newcomers pushed again by an earlier run into a kept index would be "unchanged".
    newcomers = [{**document, "source_id": f"{args.seed}-{document['source_id']}"} for document in newcomers]
    pusher = RecordPusher(client, names, RealTimeResolver(client, names, config))
    pusher.resolver.model()  # loaded once, as the API process keeps it
    if args.rights_ab:
        print(f"{args.records} records resolved; {args.rights_ab} rounds of {args.samples} pushes per side")
        rights_ab(client, names, pusher, newcomers, args.rights_ab, args.samples)
        client.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")
        return
    print(f"{args.samples} new records pushed per way")
    for index, way in enumerate(args.ways):
        pusher.refresh = WAYS[way]
        timings, visible = [], 0
        requests = RequestTimes(client, args.prefix)
        for document in newcomers[index * args.samples : (index + 1) * args.samples]:
            record = _record(document)
            began = time.perf_counter()
            pushed = pusher.push(record)
            timings.append((time.perf_counter() - began) * 1000)
            found = client.search(index=names.customers, body={"query": {"term": {"records": pushed.record_id}}, "size": 1})
            visible += bool(found["hits"]["hits"])
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"{way:<16} p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  max {timings[-1]:6.1f} ms  "
            f"found by a search right after: {visible}/{len(timings)}"
        )
        requests.stop()
        print("  where a push waits, per request kind (ms per push, requests per push, median ms; the search after each push included):")
        for line in requests.table(len(timings)):
            print(f"    {line}")
    if not args.reuse:
        client.indices.delete(index=f"{args.prefix}-*", ignore_unavailable=True, expand_wildcards="all")


if __name__ == "__main__":
    main()
