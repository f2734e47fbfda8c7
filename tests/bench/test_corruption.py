"""The robustness benchmark's corruption model (bench.corruption): what its figures rest on.

Pure and fast: no OpenSearch node is needed (no test here asks for the node fixtures)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers

from analyzers.addresses import street_key
from analyzers.names import fold_name
from analyzers.phones import to_e164
from bench.corruption.dataset import corpus, robustness_dataset
from bench.corruption.geography import Geography
from bench.corruption.knobs import Knobs
from bench.corruption.people import TODAY, snapshot
from bench.corruption.typos import TYPING_ERRORS

ROOT = Path(__file__).resolve().parents[2]
SMALL = Knobs(people=300)


def test_truth_names_every_record_and_every_person() -> None:
    dataset = robustness_dataset(SMALL, seed=3)
    assert {d["record_id"] for d in dataset.documents} == set(dataset.truth)
    assert len(dataset.truth) == len(dataset.documents)
    assert set(dataset.truth.values()) == {f"P{n:06d}" for n in range(1, SMALL.people + 1)}


def test_household_members_share_family_name_and_address() -> None:
    made = corpus(SMALL, seed=4)
    members = defaultdict(list)
    for person in made.population.people:
        if person.household:
            members[person.household].append(person)
    assert members
    for people in members.values():
        assert len({p.family for p in people}) == 1
        assert len({p.addresses.at(TODAY) for p in people}) == 1
        assert len({p.given for p in people}) == len(people)


def test_sons_named_after_their_fathers_share_his_full_name_and_home_not_his_birth_date() -> None:
    # The "père et fils" family: one full name in one household, a generation apart.
    made = corpus(Knobs(people=600, household_share=0.6, father_namesake_share=1.0), seed=4)
    members = defaultdict(list)
    for person in made.population.people:
        if person.household:
            members[person.household].append(person)
    named_after = 0
    for people in members.values():
        father, sons = people[0], [p for p in people[2:] if p.sex == "M"]
        if sons:
            assert sons[0].given == father.given and sons[0].family == father.family
            assert sons[0].addresses.at(TODAY) == father.addresses.at(TODAY) and sons[0].birth_date != father.birth_date
            named_after += 1
    assert named_after > 10


def test_homonyms_share_a_full_name_and_grow_with_the_homonym_rate() -> None:
    few = corpus(Knobs(people=600, homonym_rate=0.0), seed=5).population
    many = corpus(Knobs(people=600, homonym_rate=0.1), seed=5).population
    people = {p.person_id: p for p in many.people}
    for a, b in many.homonyms:
        assert fold_name(people[a].given) == fold_name(people[b].given) and fold_name(people[a].family) == fold_name(people[b].family)
    assert len(many.homonyms) > len(few.homonyms)


def test_without_errors_records_hold_the_persons_values_after_normalization() -> None:
    knobs = Knobs(people=300, unverifiable_phone_share=0.0).clean()
    made = corpus(knobs, seed=6)
    people = {p.person_id: p for p in made.population.people}
    documents = {d["record_id"]: d for d in robustness_dataset(knobs, seed=6).documents}
    for record in made.records:
        document = documents[f"{record.payload['source']}:{record.payload['source_id']}"]
        seen = snapshot(people[record.person_id], record.seen_on)
        assert fold_name(document["given_name"]) == fold_name(seen.given)
        assert fold_name(document["family_name"]) == fold_name(seen.family)
        assert document.get("birth_date", seen.birth_date.isoformat()) == seen.birth_date.isoformat()
        assert document.get("email", seen.email) == seen.email
        assert document.get("phone") in (None, *(to_e164(p) for p in (seen.mobile, seen.landline) if p))
        assert document.get("postcode", seen.address.postcode) == seen.address.postcode
        if "street" in document:
            assert street_key(document["street"]) == street_key(seen.address.street)
        assert "quality" not in document


def test_unverifiable_phones_are_well_formed_numbers_libphonenumber_rejects() -> None:
    geography = Geography(random.Random(7))
    for _ in range(300):
        number = geography.mobile(unverifiable=True)
        assert len(number) == 10 and number.isdigit() and number.startswith("0")
        assert not phonenumbers.is_valid_number(phonenumbers.parse(number, "FR"))
        assert phonenumbers.is_valid_number(phonenumbers.parse(geography.mobile(unverifiable=False), "FR"))
        assert phonenumbers.is_valid_number(phonenumbers.parse(geography.landline("44000"), "FR"))


def test_typos_forced_on_the_first_letter_change_it() -> None:
    rng = random.Random(8)
    for damage in TYPING_ERRORS:
        for _ in range(50):
            damaged = damage("Bernard", rng, 1.0)
            assert damaged != "Bernard" and damaged[:2] != "Be"


def test_sparse_records_hold_names_and_one_other_field() -> None:
    made = corpus(Knobs(people=200, sparse_share=1.0), seed=9)
    for record in made.records:
        others = set(record.payload) - {"source", "source_id", "given_name", "family_name", "loyalty_card", "updated_at"}
        assert len(others) <= 1


def test_the_same_seed_makes_the_same_records_in_any_process() -> None:
    assert [r.payload for r in corpus(SMALL, seed=10).records] == [r.payload for r in corpus(SMALL, seed=10).records]
    assert [r.payload for r in corpus(SMALL, seed=10).records] != [r.payload for r in corpus(SMALL, seed=11).records]
    script = (
        "import json; from bench.corruption.dataset import corpus; from bench.corruption.knobs import Knobs; "
        "print(json.dumps([r.payload for r in corpus(Knobs(people=100), seed=12).records]))"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    ]
    assert json.loads(outputs[0]) == json.loads(outputs[1])
