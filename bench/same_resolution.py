"""Did two full runs over one index resolve it the same? `python -m bench.same_resolution dump FILE` after
each run (the resolution under an index prefix, `--prefix`, bench.scale's by default), then
`python -m bench.same_resolution compare BEFORE AFTER`: the same customer id for every record, the same
groups of records, and the same possible matches (kind, customers, records, probability to 1e-9).
Exit code 1 when they differ. For a change that must not change results (a cheaper full run): dump
before it, run again with `bench.scale --stages resolve --forget` on the change, dump, compare.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from opensearchpy.helpers import scan

from bench.scale import PREFIX
from search.client import bulk_client
from search.indices import IndexNames
from settings import get_settings


def dump(path: Path, prefix: str) -> None:
    client = bulk_client(get_settings())
    names = IndexNames(prefix)
    client.indices.refresh(index=[names.customers, names.possible_matches])
    customer_of = {
        record: hit["_id"]
        for hit in scan(client, index=names.customers, query={"query": {"match_all": {}}}, _source=["records"])
        for record in hit["_source"]["records"]
    }
    possible = sorted(
        [
            hit["_source"]["kind"],
            sorted(hit["_source"]["customer_ids"]),
            sorted(hit["_source"]["records"]),
            round(hit["_source"].get("probability", 0.0), 9),
        ]
        for hit in scan(client, index=names.possible_matches, query={"query": {"match_all": {}}})
    )
    path.write_text(json.dumps({"customer_of": customer_of, "possible": possible}))
    print(f"{len(customer_of)} records, {len(set(customer_of.values()))} customers, {len(possible)} possible matches → {path}")


def _groups(customer_of: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, set[str]] = {}
    for record, customer in customer_of.items():
        members.setdefault(customer, set()).add(record)
    return {frozenset(records) for records in members.values()}


def compare(before: dict[str, Any], after: dict[str, Any]) -> bool:
    a, b = before["customer_of"], after["customer_of"]
    moved = sum(1 for record, customer in a.items() if b.get(record) != customer) + len(b.keys() - a.keys())
    same_groups = _groups(a) == _groups(b)
    same_possible = before["possible"] == after["possible"]
    print(
        f"records {len(a)} / {len(b)}, customers {len(set(a.values()))} / {len(set(b.values()))}, "
        f"possible matches {len(before['possible'])} / {len(after['possible'])}"
    )
    print(f"records whose customer id differs: {moved}; same groups of records: {same_groups}; same possible matches: {same_possible}")
    return moved == 0 and same_groups and same_possible


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dumped = commands.add_parser("dump")
    dumped.add_argument("file", type=Path)
    dumped.add_argument("--prefix", default=PREFIX)
    compared = commands.add_parser("compare")
    compared.add_argument("before", type=Path)
    compared.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.file, args.prefix)
    elif not compare(json.loads(args.before.read_text()), json.loads(args.after.read_text())):
        sys.exit(1)


if __name__ == "__main__":
    main()
