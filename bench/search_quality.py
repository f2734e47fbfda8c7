"""Look-up quality: `python -m bench.search_quality [--records 1000000] [--persons 500]`.

Over the `rcu-bench-search` indices built by `bench.search` (the same data set, ingested and
resolved), people of the data set's ground truth are looked up the ways the counter types them:
full name, given name first, type-ahead prefixes, without accents, with one typo in the family
name. A look-up finds the person when a golden customer holding one of the person's records is in
the results. Printed per kind of query: found first, found in the first 10, and queries sent.
The queries go straight to OpenSearch with the API's request body for the counter agent (the API
adds nothing to the ranking). Homonyms share every name: when two people are called the same,
only one can come first, so "first" is bounded below 100%.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from collections.abc import Callable

from analyzers.names import fold_text
from api.policy import DEMO_POLICY, Policy
from bench.datasets import demo_persons, demo_truth
from bench.harness import demo_data, ensure_node, machine
from bench.search import BENCH_PREFIX, prepare
from search.client import sync_client
from search.lookup import customer_query, search_body
from search.query_parser import parse_query

Person = dict[str, str]


def _typo(word: str, rng: random.Random) -> str:
    """One edit after the first letter (the search forgives one typo, first letter kept)."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word))
    kind = rng.choice(("substitute", "delete", "swap"))
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "swap" and at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    letter = rng.choice([c for c in "aeioulnrst" if c != word[at].lower()])
    return word[:at] + letter + word[at + 1 :]


QUERIES: dict[str, Callable[[Person, random.Random], str]] = {
    "family given": lambda p, rng: f"{p['family_name']} {p['given_name']}",
    "given family": lambda p, rng: f"{p['given_name']} {p['family_name']}",
    "prefixes (4+2)": lambda p, rng: f"{p['family_name'][:4]} {p['given_name'][:2]}".lower(),
    "no accents, lower": lambda p, rng: fold_text(f"{p['family_name']} {p['given_name']}"),
    "typo in family name": lambda p, rng: f"{_typo(p['family_name'], rng)} {p['given_name']}",
}


def sample_people(records: int, count: int, seed: int) -> tuple[list[Person], dict[str, set[str]]]:
    """`count` people of the data set with their record ids (source:source_id)."""
    folder = demo_data(records)
    chosen = random.Random(seed).sample(demo_persons(folder), count)
    wanted = {p["person_id"] for p in chosen}
    records_of: dict[str, set[str]] = defaultdict(set)
    for record_id, person_id in demo_truth(folder).items():
        if person_id in wanted:
            records_of[person_id].add(record_id)
    return chosen, records_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(machine())
    settings = ensure_node()
    prepare(args.records, rebuild=False)
    client = sync_client(settings)
    access = Policy.load(DEMO_POLICY).roles["counter"].field_access()
    people, records_of = sample_people(args.records, args.persons, args.seed)
    rng = random.Random(args.seed)
    print(f"{len(people)} people, {len(QUERIES)} kinds of query, the counter agent's request body")
    print(f"{'query':<22}{'first':>8}{'first*':>8}{'top 10':>8}{'sent':>6}   (* or first is a namesake and the person is in the top 10)")
    for kind, make in QUERIES.items():
        first = namesake = top10 = sent = 0
        for person in people:
            mine = records_of[person["person_id"]]
            if not mine:
                continue
            query = customer_query(parse_query(make(person, rng)), access)
            assert query is not None, "the counter agent searches by name"
            hits = client.search(index=f"{BENCH_PREFIX}-customers", body=search_body(query, access, 10))["hits"]["hits"]
            ranks = [rank for rank, hit in enumerate(hits) if mine & set(hit["_source"].get("records", []))]
            name = fold_text(f"{person['given_name']} {person['family_name']}")
            same_name = (
                bool(hits) and fold_text(f"{hits[0]['_source'].get('given_name', '')} {hits[0]['_source'].get('family_name', '')}") == name
            )
            sent += 1
            first += bool(ranks) and ranks[0] == 0
            namesake += bool(ranks) and (ranks[0] == 0 or same_name)
            top10 += bool(ranks)
        print(f"{kind:<22}{first / sent:8.1%}{namesake / sent:8.1%}{top10 / sent:8.1%}{sent:6d}")
    client.close()


if __name__ == "__main__":
    main()
