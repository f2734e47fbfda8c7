"""A steward's decision applied and visible in search: `python -m bench.review [--records 20000] [--samples 60]`.

The demo data set of that size is ingested and resolved into the `rcu-bench-review` indices
(rebuilt each run). Then, for possible matches taken from the queue's index, most probable first:
a steward's `same_person` decision (search.steward.decisions.decide: version checked, claims,
rule stored, neighbourhood re-resolved with the rule, written and refreshed), timed until a search
of the customers index finds both records in one customer; then its undo, timed the same way until
the search finds them apart again. Printed: p50 / p95 / max of each, and how many were visible at
the first search after the answer.
"""

from __future__ import annotations

import argparse
import statistics
import time

from opensearchpy import OpenSearch

from bench.harness import machine, resolved_demo
from search.indices import IndexNames
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
    args = parser.parse_args()
    print(machine())
    client, names, config = resolved_demo(args.records, PREFIX)
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
    for ids in pairs:
        customers = current_customers(client, names, ids)
        version = item_version({c: customer_version(doc) for c, doc in customers.items()})
        probe = [customers[ids[0]]["records"][0], customers[ids[1]]["records"][0]]
        began = time.perf_counter()
        outcome = decide(client, names, config, DecisionRequest("same_person", tuple(ids), version), "bench", "steward", model)
        seen_together += _one_customer(client, names, probe)
        decided.append((time.perf_counter() - began) * 1000)
        for step, seconds in outcome.timings.items():
            steps.setdefault(step, []).append(seconds * 1000)
        began = time.perf_counter()
        undo(client, names, config, outcome.decision["decision_id"], "bench", "", model)
        seen_apart += not _one_customer(client, names, probe)
        undone.append((time.perf_counter() - began) * 1000)
    print(_percentiles("decision → in search", decided, seen_together))
    print(_percentiles("undo → in search", undone, seen_apart))
    print("decision, median per step: " + "  ".join(f"{step} {statistics.median(ms):.1f} ms" for step, ms in steps.items()))
    client.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")


def _one_customer(client: OpenSearch, names: IndexNames, records: list[str]) -> bool:
    """Whether a search of the customers index finds both records in one customer."""
    query = {"bool": {"filter": [{"term": {"records": r}} for r in records]}}
    return bool(client.search(index=names.customers, body={"query": query, "size": 1})["hits"]["hits"])


if __name__ == "__main__":
    main()
