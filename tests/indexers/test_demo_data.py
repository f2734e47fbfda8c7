"""The demo generator: realistic flaws, households and homonyms, and a truth for every record."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import orjson

from indexers.demo.sources import write_demo_data


def _truth(folder: Path) -> dict[tuple[str, str], str]:
    with open(folder / "truth.tsv") as stream:
        return {(row["source"], row["source_id"]): row["person_id"] for row in csv.DictReader(stream, delimiter="\t")}


def test_every_generated_record_has_a_ground_truth_and_every_source_is_there(tmp_path: Path) -> None:
    counts = write_demo_data(tmp_path, persons=300, seed=3)
    truth = _truth(tmp_path)
    assert len(truth) == sum(counts.values())
    assert {"crm", "ecommerce", "callcenter", "legacy"} <= set(counts)
    assert sum(1 for source in counts if source.startswith("loyalty_")) == 5
    assert (tmp_path / "legacy.mapping.toml").is_file()
    assert "latin-1" in (tmp_path / "legacy.mapping.toml").read_text()


def test_the_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    write_demo_data(tmp_path / "a", persons=100, seed=9)
    write_demo_data(tmp_path / "b", persons=100, seed=9)
    assert (tmp_path / "a" / "crm.jsonl").read_bytes() == (tmp_path / "b" / "crm.jsonl").read_bytes()


def test_households_and_homonyms_are_in_the_data(tmp_path: Path) -> None:
    write_demo_data(tmp_path, persons=1000, seed=4)
    with open(tmp_path / "persons.tsv") as stream:
        people = list(csv.DictReader(stream, delimiter="\t"))
    households = Counter(p["household_id"] for p in people if p["household_id"])
    assert sum(1 for size in households.values() if size >= 2) >= 30
    by_id = {p["person_id"]: p for p in people}
    homonyms = [p for p in people if p["homonym_of"]]
    assert len(homonyms) >= 10
    for person in homonyms:
        other = by_id[person["homonym_of"]]
        assert (person["given_name"], person["family_name"]) == (other["given_name"], other["family_name"])
        assert person["birth_date"] != other["birth_date"]


def test_one_person_appears_in_several_sources_with_flaws(tmp_path: Path) -> None:
    write_demo_data(tmp_path, persons=500, seed=5)
    truth = _truth(tmp_path)
    per_person = Counter(truth.values())
    assert max(per_person.values()) >= 4
    records = [orjson.loads(line) for path in tmp_path.glob("*.jsonl") for line in path.read_bytes().splitlines()]
    phones = {r["phone"] for r in records if "phone" in r}
    assert any(" " in p for p in phones) and any("." in p for p in phones) and any(p.startswith("+33") for p in phones)
    assert any(r["family_name"].isupper() for r in records)
    assert any("/" in r.get("birth_date", "") for r in records) and any("-" in r.get("birth_date", "") for r in records)
