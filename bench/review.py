"""A steward's decision applied and visible in search: `python -m bench.review [--records 20000] [--samples 60]`.

The demo data set of that size is ingested and resolved into the `rcu-bench-review` indices
(rebuilt each run, removed after unless `--keep`); `--reuse PREFIX` measures on indices built
before instead (`--keep`'s, or bench.rights's `<RCU_INDEX_PREFIX>-rights-<records>`), so a large
index is built once without the benchmark lock and measured under it. Then, for possible matches taken from the queue's index, most probable first:
a steward's `same_person` decision (search.steward.decisions.decide: version checked, claims,
rule stored, neighbourhood re-resolved with the rule, written and refreshed), timed until a search
of the customers index finds both records in one customer; then its undo, timed the same way until
the search finds them apart again. Printed: p50 / p95 / max of each, how many were visible at
the first search after the answer, the median per step, the requests each decision sent to the
node, and the CPU each decision cost this process and the node.
"""

from __future__ import annotations

import argparse
import statistics
import time

from opensearchpy import OpenSearch

from bench.harness import ensure_node, machine, node_cpu_ms, resolved_demo
from search.client import bulk_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.store import load_model
from search.steward.decisions import DecisionRequest, current_customers, customer_version, decide, item_version, undo

PREFIX = "rcu-bench-review"


def _percentiles(label: str, timings: list[float], visible: int) -> str:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return (
        f"{label:<22} p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  max {timings[-1]:6.1f} ms  "
        f"visible at the first search: {visible}/{len(timings)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=60, help="Decisions taken (and undone).")
    parser.add_argument("--reuse", metavar="PREFIX", help="Measure on the resolved indices under PREFIX (not rebuilt, not removed).")
    parser.add_argument("--keep", action="store_true", help="Leave the indices built for a later --reuse rcu-bench-review.")
    args = parser.parse_args()
    print(machine())
    if args.reuse:
        client, names, config = bulk_client(ensure_node()), IndexNames(args.reuse), ResolutionConfig()
    else:
        client, names, config = resolved_demo(args.records, PREFIX)
    requests = _count_requests(client)
    model = load_model(client, names)
    hits = client.search(index=names.possible_matches, body={"sort": [{"probability": "desc"}], "size": args.samples * 3})["hits"]["hits"]
    pairs: list[list[str]] = []
    used: set[str] = set()
    for hit in hits:
        ids = hit["_source"]["customer_ids"]
        if used.isdisjoint(ids):
            pairs.append(ids)
            used.update(ids)
    pairs = pairs[: args.samples]
    records = client.count(index=names.records)["count"]
    print(f"{records} records resolved; {len(pairs)} possible matches decided on, then undone")
    decided, undone, seen_together, seen_apart = [], [], 0, 0
    steps: dict[str, list[float]] = {}
    sent, cpu_here, cpu_node = [], [], []
    for ids in pairs:
        customers = current_customers(client, names, ids)
        version = item_version({c: customer_version(doc) for c, doc in customers.items()})
        probe = [customers[ids[0]]["records"][0], customers[ids[1]]["records"][0]]
        node_before, requests[0] = node_cpu_ms(client), 0
        here_before = time.process_time()
        began = time.perf_counter()
        outcome = decide(client, names, config, DecisionRequest("same_person", tuple(ids), version), "bench", "steward", model)
        seen_together += _one_customer(client, names, probe)
        decided.append((time.perf_counter() - began) * 1000)
        cpu_here.append((time.process_time() - here_before) * 1000)
        sent.append(requests[0] - 1)  # the search that checks it is the benchmark's
        cpu_node.append(node_cpu_ms(client) - node_before)
        for step, seconds in outcome.timings.items():
            steps.setdefault(step, []).append(seconds * 1000)
        began = time.perf_counter()
        undo(client, names, config, outcome.decision["decision_id"], "bench", "", model)
        seen_apart += not _one_customer(client, names, probe)
        undone.append((time.perf_counter() - began) * 1000)
    print(_percentiles("decision → in search", decided, seen_together))
    print(_percentiles("undo → in search", undone, seen_apart))
    print("decision, median per step: " + "  ".join(f"{step} {statistics.median(ms):.1f} ms" for step, ms in steps.items()))
    print(
        f"decision, median: {statistics.median(sent):.0f} requests to the node, CPU {statistics.median(cpu_here):.1f} ms here "
        f"and {statistics.median(cpu_node):.0f} ms in the node (the node's counter also counts whatever else it served)"
    )
    if not args.reuse and not args.keep:
        client.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")


def _count_requests(client: OpenSearch) -> list[int]:
    """A counter of the requests `client` sends (its first item), reset by the caller."""
    counter = [0]
    perform = client.transport.perform_request

    def counted(*args: object, **kwargs: object) -> object:
        counter[0] += 1
        return perform(*args, **kwargs)

    client.transport.perform_request = counted  # type: ignore[method-assign]
    return counter


def _one_customer(client: OpenSearch, names: IndexNames, records: list[str]) -> bool:
    """Whether a search of the customers index finds both records in one customer."""
    query = {"bool": {"filter": [{"term": {"records": r}} for r in records]}}
    return bool(client.search(index=names.customers, body={"query": query, "size": 1})["hits"]["hits"])


if __name__ == "__main__":
    main()
