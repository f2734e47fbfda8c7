"""What each analyzed sub-field of the records index costs the node: `python -m bench.ingest_fields
[--records 20000] [--rounds 2]`.

The same normalized record documents (taken from the `rcu-bench-search` records index, built by
bench.search) are bulk-indexed into fresh indices whose mappings differ by one field or sub-field
taken out; the node's CPU per record (from /proc, the indexing, the refresh and the merges that
follow until none runs) is measured for each, in turn, `--rounds` times. A field's cost is the
full mapping's CPU minus the CPU without it. The machine is shared: CPU per record is the figure
to trust; the rounds give its spread.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

from opensearchpy.helpers import bulk, scan

from analyzers.index_settings import NAME_FIELDS, analysis, records_mappings
from bench.harness import ensure_node, machine
from bench.search import BENCH_PREFIX, node_cpu_s
from search.client import bulk_client

PREFIX = "rcu-bench-fields"

Variant = Callable[[dict[str, Any]], None]


def _drop_full_name_sub(name: str) -> Variant:
    def change(properties: dict[str, Any]) -> None:
        properties["full_name"]["fields"].pop(name, None)

    return change


def _drop_name_sub(name: str) -> Variant:
    def change(properties: dict[str, Any]) -> None:
        for field in NAME_FIELDS:
            properties[field]["fields"].pop(name, None)

    return change


def _no_full_name(properties: dict[str, Any]) -> None:
    properties.pop("full_name")
    for field in NAME_FIELDS:
        properties[field].pop("copy_to")


def _no_address_text(properties: dict[str, Any]) -> None:
    for field in ("street", "city"):
        properties[field] = properties[field]["fields"]["keyword"]


def _names_as_keywords(properties: dict[str, Any]) -> None:
    _no_full_name(properties)
    for field in NAME_FIELDS:
        properties[field] = properties[field]["fields"]["keyword"]


def _lean(properties: dict[str, Any]) -> None:
    """What resolution and the record-level views read: keywords, dates, _source."""
    _names_as_keywords(properties)
    _no_address_text(properties)


VARIANTS: dict[str, Variant | None] = {
    "full": None,
    "-full_name.prefix": _drop_full_name_sub("prefix"),
    "-full_name.phonetic": _drop_full_name_sub("phonetic"),
    "-full_name.dmetaphone": _drop_full_name_sub("dmetaphone"),
    "-full_name.compact": _drop_full_name_sub("compact"),
    "-full_name (all)": _no_full_name,
    "-names.compact": _drop_name_sub("compact"),
    "-street/city text": _no_address_text,
    "names as keywords": _names_as_keywords,
    "lean (current)": None,  # records_mappings() as this rcu builds it
}


def mapping_of(variant: str, base: dict[str, Any]) -> dict[str, Any]:
    mappings = copy.deepcopy(base)
    change = VARIANTS[variant]
    if change is not None:
        change(mappings["properties"])
    return mappings


def settle(client: Any, index: str) -> None:
    client.indices.refresh(index=index)
    while True:
        stats = client.indices.stats(index=index, metric="merge")["_all"]["total"]["merges"]
        if stats["current"] == 0:
            return
        time.sleep(0.5)


def index_once(client: Any, index: str, mappings: dict[str, Any], documents: list[dict[str, Any]]) -> float:
    """Node CPU seconds to index `documents` into a fresh `index` with `mappings`."""
    client.indices.delete(index=index, ignore_unavailable=True)
    body = {
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}, "analysis": analysis()},
        "mappings": mappings,
    }
    client.indices.create(index=index, body=body)
    before = node_cpu_s(client)
    actions = ({"_index": index, "_id": doc["record_id"], "_source": doc} for doc in documents)
    bulk(client, actions, chunk_size=1000, request_timeout=600)
    settle(client, index)
    spent = node_cpu_s(client) - before
    client.indices.delete(index=index)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    client = bulk_client(ensure_node())
    source = f"{BENCH_PREFIX}-records"
    documents = [hit["_source"] for _, hit in zip(range(args.records), scan(client, index=source, size=2000), strict=False)]
    print(f"{len(documents)} record documents from {source}")
    legacy = legacy_mappings()
    current = records_mappings()
    spent: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for number in range(1, args.rounds + 1):
        for variant in VARIANTS:
            mappings = current if variant == "lean (current)" else mapping_of(variant, legacy)
            seconds = index_once(client, f"{PREFIX}-{number}", mappings, documents)
            spent[variant].append(seconds / len(documents) * 1e6)
            print(f"round {number} {variant:<22} node {spent[variant][-1]:6.0f} µs CPU/record", flush=True)
    full = statistics.median(spent["full"])
    print("median over rounds (cost = full minus the variant):")
    for variant, values in spent.items():
        median = statistics.median(values)
        print(f"  {variant:<22} {median:6.0f} µs/record (min {min(values):.0f}, max {max(values):.0f})  cost {full - median:+6.0f} µs")


def legacy_mappings() -> dict[str, Any]:
    """The records mapping before this measurement: every name analyzed as on customers (without
    reversed words), addresses as text."""
    from analyzers.index_settings import _full_name_field, _name_field

    mappings = records_mappings()
    properties = mappings["properties"]
    properties.update({field: _name_field() for field in NAME_FIELDS})
    properties["full_name"] = _full_name_field()
    for field in ("street", "city"):
        properties[field] = {
            "type": "text",
            "analyzer": "rcu_text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 256, "normalizer": "rcu_folded"}},
        }
    return mappings


if __name__ == "__main__":
    main()
