"""Push latency and read-your-writes: `python -m bench.push [--records 20000] [--samples 200]`.

The demo data set of that size is ingested and resolved into the `rcu-bench-push` indices (rebuilt
each run). Then new people's records are pushed one at a time as `POST /v1/records` does
(indexers.push.RecordPusher: indexed, resolved in real time, the customer written), once per way of
making the record and the customer written visible to searches: not waited for, `wait_for` the
next periodic refresh, or refreshed at once (what the API does). Printed per way: p50 / p95 / max of a push, and how many pushed records a search of the
customers index found right after the push answered (read-your-writes).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.datasets import demo_dataset
from bench.harness import demo_data, ensure_node, machine
from indexers.contract import SourceRecord
from indexers.ingest import Ingestion
from indexers.push import RecordPusher
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.client import bulk_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import Refresh

PREFIX = "rcu-bench-push"
WAYS: dict[str, Refresh] = {"not waited for": False, "wait_for": "wait_for", "refresh now": True}
PAYLOAD_FIELDS = ("given_name", "family_name", "birth_date", "email", "phone", "street", "postcode", "city")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=200, help="Records pushed per way.")
    args = parser.parse_args()
    print(machine())
    settings = ensure_node()
    client = bulk_client(settings)
    names = IndexNames.for_settings(settings.model_copy(update={"index_prefix": PREFIX}))
    client.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")
    folder = demo_data(args.records)
    with RejectsReport(folder.parent / "push-rejects.jsonl") as report:
        Ingestion(client, names, report).run(SourceFiles.discover([folder]))
    config = ResolutionConfig()
    resolve_all(client, names, config)
    newcomers = demo_dataset(demo_data(len(WAYS) * args.samples * 2, seed=99)).documents
    pusher = RecordPusher(client, names, RealTimeResolver(client, names, config))
    pusher.resolver.model()  # loaded once, as the API process keeps it
    print(f"{args.records} records resolved; {args.samples} new records pushed per way")
    for index, (way, refresh) in enumerate(WAYS.items()):
        pusher.refresh = refresh
        timings, visible = [], 0
        for document in newcomers[index * args.samples : (index + 1) * args.samples]:
            payload = {field: str(document[field]) for field in PAYLOAD_FIELDS if document.get(field)}
            record = SourceRecord.model_validate(
                {"source": "pushed", "source_id": f"{document['source']}-{document['source_id']}", **payload}
            )
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
    client.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, expand_wildcards="all")


if __name__ == "__main__":
    main()
