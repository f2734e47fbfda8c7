"""Golden customers on data rcu's generator does not make (issue 16), against a real node: numbers
libphonenumber does not know, sparse loyalty records with a typo, initials and short given names, a
newsletter sign-up, and a company starting with two records."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from indexers.contract import SourceRecord
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.push import RecordPusher
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from rcu.cli import EXIT_USAGE, app
from search.access import QUERY_KINDS, FieldAccess
from search.customer_query import customer_query
from search.indices import IndexNames
from search.lookup import search_body
from search.query_parser import parse_query
from search.resolve.blocking import blocking_keys
from search.resolve.candidates import candidate_pairs
from search.resolve.config import ResolutionConfig
from search.resolve.errors import ModelMissing, ModelStale
from search.resolve.features import features_from_document
from search.resolve.model import MatchModel
from search.resolve.pipeline import resolve_all
from search.resolve.possible_store import pair_id
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import candidate_records, get_records, load_model, save_model, scan_customers
from settings import get_settings
from tests.conftest import write_jsonl

# Two systems hold the same unallocated mobile (07 20 …), written two ways.
UNALLOCATED = [
    {"source": "crm", "source_id": "U1", "given_name": "Lina", "family_name": "Kervella", "phone": "07 20 65 09 81", "postcode": "29200"},
    {
        "source": "ecommerce",
        "source_id": "U2",
        "given_name": "LINA",
        "family_name": "KERVELLA",
        "phone": "+33 7 20 65 09 81",
        "city": "Brest",
        "postcode": "29200",
    },
]
# A customer, and a loyalty card holding her name with one letter dropped and her postcode, nothing else.
SPARSE = [
    {
        "source": "crm",
        "source_id": "S1",
        "given_name": "Nedda",
        "family_name": "Lesage",
        "birth_date": "11/08/1950",
        "email": "nedda.lesage@orange.fr",
        "street": "157 rue Julien Faivre",
        "postcode": "22056",
        "city": "Sainte-Corine",
    },
    {
        "source": "ecommerce",
        "source_id": "S2",
        "given_name": "Nedda",
        "family_name": "Lesage",
        "email": "nedda.lesage@orange.fr",
        "postcode": "22056",
    },
    {
        "source": "loyalty_rennes",
        "source_id": "S3",
        "given_name": "Nedda",
        "family_name": "Leage",
        "postcode": "22056",
        "loyalty_card": "LR55012",
    },
]
# One man written with a one-key typo, an initial; a newsletter sign-up holding his given name and e-mail.
PATRICK = [
    {
        "source": "crm",
        "source_id": "P1",
        "given_name": "Patrick",
        "family_name": "Mattei",
        "birth_date": "03/02/1971",
        "email": "patrick.mattei@free.fr",
        "phone": "06 11 52 87 40",
        "street": "8 rue des Lilas",
        "postcode": "20000",
        "city": "Ajaccio",
    },
    {
        "source": "ecommerce",
        "source_id": "P2",
        "given_name": "Pateick",
        "family_name": "Mattei",
        "email": "patrick.mattei@free.fr",
        "phone": "0611528740",
        "street": "8 rue des Lilas",
        "postcode": "20000",
    },
    {
        "source": "callcenter",
        "source_id": "P3",
        "given_name": "P.",
        "family_name": "Mattei",
        "phone": "06 11 52 87 40",
        "postcode": "20000",
    },
    {"source": "newsletter", "source_id": "P4", "given_name": "Patrick", "email": "patrick.mattei@free.fr"},
]
# A customer, and a call-center note years later: her name with two letters swapped, a new mobile,
# another town — nothing but the names in common.
# A legacy file read by OCR ("rn" for "m"): the given name two keystrokes off, no birth date, the
# same e-mail, phone and street as the customer. Not a household member.
OCR = [
    {
        "source": "crm",
        "source_id": "O1",
        "given_name": "Marie",
        "family_name": "Kervadec",
        "birth_date": "1972-03-14",
        "email": "marie.kervadec@free.fr",
        "phone": "06 45 12 78 33",
        "street": "12 rue de Brest",
        "postcode": "29800",
        "city": "Landerneau",
    },
    {
        "source": "legacy",
        "source_id": "O2",
        "given_name": "Rnarie",
        "family_name": "Kervadec",
        "email": "marie.kervadec@free.fr",
        "phone": "06 45 12 78 33",
        "street": "12 rue de Brest",
        "postcode": "29800",
        "city": "Landerneau",
    },
]
GWENDOLINE = [
    {
        "source": "crm",
        "source_id": "G1",
        "given_name": "Gwendoline",
        "family_name": "Kerhervé",
        "birth_date": "1979-06-14",
        "email": "gwen.kerherve@wanadoo.fr",
        "phone": "06 45 12 78 90",
        "postcode": "29200",
        "city": "Brest",
    },
    {"source": "callcenter", "source_id": "G2", "given_name": "Gwendoline", "family_name": "Kerhrevé", "phone": "07 81 22 33 44"},
]

# Customers, and a later record of each sharing nothing but names the older blocking keys missed:
# an initial for the given name, a given name cut short, a typo on a vowel in each name.
NAMES_ONLY = {
    "an initial": (
        {
            "source": "crm",
            "source_id": "C1",
            "given_name": "Sandrine",
            "family_name": "Chaanet",
            "birth_date": "1968-03-02",
            "email": "sandrine.chaanet@orange.fr",
            "phone": "06 72 14 90 33",
            "postcode": "69003",
            "city": "Lyon",
        },
        {"source": "loyalty_lyon", "source_id": "C2", "given_name": "S", "family_name": "Chaanet", "loyalty_card": "LL88120"},
    ),
    "a given name cut short": (
        {
            "source": "crm",
            "source_id": "R1",
            "given_name": "Raphaël",
            "family_name": "Quintrec",
            "birth_date": "1985-11-23",
            "email": "r.quintrec@free.fr",
            "phone": "06 33 48 21 07",
            "postcode": "56100",
            "city": "Lorient",
        },
        {"source": "loyalty_nantes", "source_id": "R2", "given_name": "Raph", "family_name": "Quintrec", "loyalty_card": "LN40417"},
    ),
    "a typo in each name": (
        {
            "source": "crm",
            "source_id": "B1",
            "given_name": "Marie",
            "family_name": "Besarade",
            "birth_date": "2001-07-25",
            "email": "marie.besarade@sfr.fr",
            "phone": "06 18 98 93 41",
            "postcode": "81000",
            "city": "Albi",
        },
        {"source": "callcenter", "source_id": "B2", "given_name": "Mrie", "family_name": "Besrade", "phone": "05 32 49 80 73"},
    ),
}


@dataclass
class Resolved:
    names: IndexNames
    customer_of: dict[str, str]


def _customer_of(opensearch: OpenSearch, names: IndexNames) -> dict[str, str]:
    opensearch.indices.refresh(index=[names.customers])
    return {record_id: c["customer_id"] for c in scan_customers(opensearch, names) for record_id in c["records"]}


@pytest.fixture(scope="module")
def resolved(opensearch: OpenSearch, test_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resolved]:
    folder = tmp_path_factory.mktemp("sparse")
    write_demo_data(folder / "demo", persons=400, seed=23)
    write_jsonl(
        folder / "demo" / "stories.jsonl",
        UNALLOCATED + SPARSE + PATRICK + OCR + GWENDOLINE[:1] + [customer for customer, _ in NAMES_ONLY.values()],
    )
    names = IndexNames(f"{test_prefix}-sparse")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "demo"]))
    resolve_all(opensearch, names, ResolutionConfig())
    yield Resolved(names, _customer_of(opensearch, names))


def _customers(resolved: Resolved, records: list[dict[str, Any]]) -> set[str]:
    return {resolved.customer_of[f"{r['source']}:{r['source_id']}"] for r in records}


def test_an_unallocated_french_mobile_joins_two_records_and_is_found_by_the_lookup(resolved: Resolved, opensearch: OpenSearch) -> None:
    (customer,) = _customers(resolved, UNALLOCATED)
    record = opensearch.get(index=resolved.names.records, id="crm:U1")["_source"]
    assert record["phone"] == "+33720650981" and record["quality"]["unverified"] == ["phone"]  # kept, and still a warning
    everything = FieldAccess(customer_fields=("phones",), record_fields=(), searchable=frozenset(QUERY_KINDS))
    query = customer_query(parse_query("07 20 65 09 81"), everything)
    assert query is not None
    hits = opensearch.search(index=resolved.names.customers, body=search_body(query, everything, 5))["hits"]["hits"]
    assert [hit["_source"]["customer_id"] for hit in hits] == [customer]


def test_a_sparse_loyalty_record_with_a_family_name_typo_joins_its_customer(resolved: Resolved) -> None:
    assert len(_customers(resolved, SPARSE)) == 1


def test_a_one_key_typo_an_initial_and_a_newsletter_sign_up_join_their_customer(resolved: Resolved) -> None:
    assert len(_customers(resolved, PATRICK)) == 1


def test_a_given_name_misread_by_ocr_joins_its_customer_and_is_not_a_household_member(resolved: Resolved) -> None:
    assert len(_customers(resolved, OCR)) == 1


def _households(count: int = 150) -> list[dict[str, Any]]:
    """Two-person households (one family name, one street, one landline, other given names and
    birth dates), each member in a CRM (with the birth date) and a web shop (without)."""
    rng = random.Random(7)
    given = ["Jean", "Marie", "Luc", "Anne", "Paul", "Claire", "Hugo", "Emma", "Jules", "Chloé", "Yann", "Soizic", "Erwan", "Nolwenn"]
    heads, tails = ["Ker", "Le Gal", "Mor", "Ben", "Duf", "Roc", "Val", "Bra", "Tes", "Lan", "Pen"], ["ouan", "ennec", "ard", "ier", "ot"]
    records = []
    for h in range(count):
        family = heads[h % len(heads)] + tails[(h // len(heads)) % len(tails)]
        home = {"family_name": family, "street": f"{1 + h} rue des Lilas", "postcode": f"{29000 + 10 * (h % 80)}"}
        home["phone"] = f"02 98 {10 + h // 100:02d} {h % 100:02d} {rng.randrange(10, 99)}"
        for member, first in enumerate(rng.sample(given, 2)):
            born = f"{1950 + rng.randrange(50)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}"
            person = {**home, "given_name": first, "email": f"{first.lower()}.{h}.{member}@example.fr"}
            records.append({"source": "crm", "source_id": f"H{h}-{member}", "birth_date": born, **person})
            records.append({"source": "ecommerce", "source_id": f"H{h}-{member}", **person})
    return records


def test_a_full_run_learns_that_a_household_member_is_another_person(opensearch: OpenSearch, test_prefix: str, tmp_path) -> None:
    # Household members share more than one person seen years apart does (family name, street,
    # landline): the model a full run stores must still weigh another given name, another birth
    # date and another e-mail as evidence of two people, not of a household taken for one person.
    names = IndexNames(f"{test_prefix}-households")
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(tmp_path / "homes.jsonl", _households())]))
    resolve_all(opensearch, names, ResolutionConfig())
    model = load_model(opensearch, names)
    assert model is not None
    weights = dict(zip(model.names, model.level_weights(), strict=True))
    assert weights["given_name"][-1] < -5 and weights["email"][-1] < -2
    customer_of = _customer_of(opensearch, names)
    assert all(customer_of[f"crm:H{h}-{m}"] == customer_of[f"ecommerce:H{h}-{m}"] for h in range(150) for m in range(2))


def test_a_record_sharing_only_its_names_with_a_typo_joins_its_customer_or_is_proposed(resolved: Resolved, opensearch: OpenSearch) -> None:
    _joins_or_is_proposed_in_real_time_and_in_a_full_run(resolved, opensearch, GWENDOLINE[0], GWENDOLINE[1])


@pytest.mark.parametrize("kind", NAMES_ONLY, ids=list(NAMES_ONLY))
def test_a_record_sharing_only_its_names_joins_its_customer_or_is_proposed(kind: str, resolved: Resolved, opensearch: OpenSearch) -> None:
    _joins_or_is_proposed_in_real_time_and_in_a_full_run(resolved, opensearch, *NAMES_ONLY[kind])


def _joins_or_is_proposed_in_real_time_and_in_a_full_run(
    resolved: Resolved, opensearch: OpenSearch, customer_record: dict[str, Any], record: dict[str, Any]
) -> None:
    config = ResolutionConfig()
    pushed = RecordPusher(opensearch, resolved.names, RealTimeResolver(opensearch, resolved.names, config)).push(
        SourceRecord.model_validate(record)
    )
    (customer,) = _customers(resolved, [customer_record])
    joined = pushed.customer_id == customer
    proposed = opensearch.exists(index=resolved.names.possible_matches, id=pair_id(customer, pushed.customer_id))
    assert joined or proposed
    resolve_all(opensearch, resolved.names, config)  # the full run finds the same pair
    now = _customer_of(opensearch, resolved.names)
    first, second = now[_ids([customer_record])[0]], now[_ids([record])[0]]
    assert first == second or opensearch.exists(index=resolved.names.possible_matches, id=pair_id(first, second))


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['source']}:{r['source_id']}" for r in records]


def test_a_pushed_record_joins_its_match_on_a_fresh_index_of_two_records(opensearch: OpenSearch, test_prefix: str, tmp_path) -> None:
    names = IndexNames(f"{test_prefix}-fresh")
    first = {
        "source": "crm",
        "source_id": "1",
        "given_name": "Anne",
        "family_name": "Quéré",
        "birth_date": "1984-02-09",
        "phone": "06 21 43 65 87",
    }
    second = {"source": "ecommerce", "source_id": "2", "given_name": "Anne", "family_name": "Quéré", "phone": "06 98 76 54 32"}
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(tmp_path / "two.jsonl", [first, second])]))
    config = ResolutionConfig()
    report = resolve_all(opensearch, names, config)
    assert "prior" in report.defaults_used  # too little data to estimate: the documented defaults, said
    third = {
        "source": "loyalty_quimper",
        "source_id": "3",
        "given_name": "Anne",
        "family_name": "Quere",
        "birth_date": "09/02/1984",
        "phone": "0621436587",
    }
    outcome = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config)).push(SourceRecord.model_validate(third))
    customers = _customer_of(opensearch, names)
    assert outcome.customer_id == customers["crm:1"]
    assert customers["ecommerce:2"] != customers["crm:1"]  # the same name with another phone stays apart


def test_a_running_api_resolves_with_the_model_a_later_full_run_saved(resolved: Resolved, opensearch: OpenSearch) -> None:
    # The API's resolver loads the model once; a full run that retrains must reach it without a restart.
    resolver = RealTimeResolver(opensearch, resolved.names, ResolutionConfig(model_check_s=0))
    before = resolver.model()
    retrained = replace(before, prior=before.prior / 2, records=before.records + 1)
    save_model(opensearch, resolved.names, retrained)
    try:
        assert resolver.model() == retrained
    finally:
        save_model(opensearch, resolved.names, before)
    assert resolver.model() == before


def _older_model(current: MatchModel) -> MatchModel:
    """`current` as an older rcu stored it, before "same postcode, another street" was a level of
    its own: its address table is one entry short, and every later level would be read as its neighbour."""
    column = current.names.index("address")
    dropped = current.levels[column].index("same postcode, another street")

    def older(table: list[list[Any]]) -> list[list[Any]]:
        return [row[:dropped] + row[dropped + 1 :] if k == column else row for k, row in enumerate(table)]

    return replace(current, levels=older(current.levels), m=older(current.m), u=older(current.u))


def test_a_model_stored_before_a_comparison_level_was_added_is_not_used(resolved: Resolved, opensearch: OpenSearch) -> None:
    current = load_model(opensearch, resolved.names)
    assert current is not None
    save_model(opensearch, resolved.names, _older_model(current))
    try:
        assert load_model(opensearch, resolved.names) is None  # `rcu resolve` then runs a full run, which retrains
        with pytest.raises(ModelMissing):
            RealTimeResolver(opensearch, resolved.names, ResolutionConfig(model_check_s=0)).model()
    finally:
        save_model(opensearch, resolved.names, current)
    assert load_model(opensearch, resolved.names) == current


def test_a_stale_stored_model_is_judged_once_per_version_and_named_as_stale(
    resolved: Resolved, opensearch: OpenSearch, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    current = load_model(opensearch, resolved.names)
    assert current is not None
    reads = [0]
    get = opensearch.get

    def counted_get(*args: Any, **kwargs: Any) -> Any:
        reads[0] += 1
        return get(*args, **kwargs)

    save_model(opensearch, resolved.names, _older_model(current))
    try:
        monkeypatch.setattr(opensearch, "get", counted_get)
        caplog.set_level(logging.WARNING, logger="search.resolve.store")
        throttled = RealTimeResolver(opensearch, resolved.names, ResolutionConfig(model_check_s=3600))
        checking = RealTimeResolver(opensearch, resolved.names, ResolutionConfig(model_check_s=0))
        for resolver in (throttled, checking):
            for _ in range(3):
                # The caller is told why, not "no model yet": the model exists, an older rcu stored it.
                with pytest.raises(ModelStale, match="predates this version's comparison levels: run `rcu resolve --full`"):
                    resolver.model()
        # Throttled: the stamp and the model read once; checking at every call: the stamp only, the model once.
        assert reads[0] == 2 + (2 + 1 + 1)
        assert sum("stale_match_model" in r.getMessage() for r in caplog.records) == 2  # once per resolver and stored version
        monkeypatch.setenv("RCU_INDEX_PREFIX", resolved.names.prefix)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["explain", *sorted(resolved.customer_of)[:2]])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == EXIT_USAGE
        assert "predates this version's comparison levels" in result.output and "Traceback" not in result.output
    finally:
        save_model(opensearch, resolved.names, current)
    assert checking.model() == current  # a new stored version is read again
    with pytest.raises(ModelStale):
        throttled.model()  # until its next check


def _family_of_full_names(count: int) -> list[dict[str, Any]]:
    given = ["Sandrine", "Sophie", "Sylvie", "Simone", "Solange", "Suzanne", "Sabine", "Sarah", "Serge", "Sébastien", "Samuel", "Stéphane"]
    return [
        {"source": "crm", "source_id": f"F{k}", "given_name": given[k], "family_name": "Vauquelin", "phone": f"06 40 00 00 {k:02d}"}
        for k in range(count)
    ]


# (full names, max_name_block_size): an initial with four or with eleven of its family (the
# "C Sauagy" of bench.corruption: 11 or 12 pairs, within the 45 of a block of ten), and with twelve
# when the bound is five (12 pairs past the 10 of a block of five).
@pytest.mark.parametrize(("full_names", "bound"), [(4, 10), (12, 10), (12, 5)])
def test_an_initial_meets_the_full_names_of_its_family_only_while_the_block_makes_few_pairs(
    full_names: int, bound: int, opensearch: OpenSearch, test_prefix: str, tmp_path
) -> None:
    names = IndexNames(f"{test_prefix}-initial{full_names}-{bound}")
    family = _family_of_full_names(full_names)
    initial = {"source": "loyalty_caen", "source_id": "I1", "given_name": "S.", "family_name": "Vauquelin", "loyalty_card": "LC7001"}
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(tmp_path / "family.jsonl", [*family, initial])]))
    opensearch.indices.refresh(index=names.records)
    records = {d["record_id"]: features_from_document(d) for d in get_records(opensearch, names, _ids([*family, initial]))}
    config = ResolutionConfig(max_name_block_size=bound)
    # The block's cost is its pairs (the initial with each full name), not its holders.
    compared = full_names <= bound * (bound - 1) // 2

    def found(record_id: str) -> set[str]:
        record = records[record_id]
        keys = [blocking_keys(record)]
        return set(candidate_records(opensearch, names, keys, config.max_block_size, config.max_name_block_size, searchers=[record])) - {
            record_id
        }

    # The full names never meet each other through the initial's key: it costs nothing without an initial.
    assert found("crm:F0") == ({"loyalty_caen:I1"} if compared else set())
    # The initial meets each of them in real time while the block makes few pairs; past the
    # budget, a common family's block is not searched (an initial cannot tell its members apart).
    expected = set(_ids(family)) if compared else set()
    assert found("loyalty_caen:I1") == expected
    # A full run pairs the same records.
    in_memory = candidate_pairs(list(records.values()), config.max_block_size, max_name_block_size=config.max_name_block_size).pairs
    ordered = list(records)
    assert {frozenset((ordered[i], ordered[j])) for i, j in in_memory} == {frozenset(("loyalty_caen:I1", r)) for r in expected}


# One town: a loyalty card holding a typo in each name and the town only; a neighbour sharing
# only the initials; two Maries of one postcode born decades apart, and a card holding the name of
# one of them (married names keep the given name, nothing else).
NEIGHBOURS = [
    {
        "source": "crm",
        "source_id": "T1",
        "given_name": "Sandrine",
        "family_name": "Tesin",
        "phone": "06 12 34 56 78",
        "postcode": "82176",
        "city": "Vallon-sur-Seine",
    },
    {
        "source": "loyalty_vallon",
        "source_id": "T2",
        "given_name": "Sabdrine",
        "family_name": "Tasin",
        "loyalty_card": "LV1",
        "city": "Vallon-sur-Seine",
    },
    {
        "source": "crm",
        "source_id": "N1",
        "given_name": "Sophie",
        "family_name": "Tardieu",
        "phone": "06 98 76 54 32",
        "postcode": "82176",
        "city": "Vallon-sur-Seine",
    },
    {
        "source": "crm",
        "source_id": "M1",
        "given_name": "Marie",
        "family_name": "Dupont",
        "birth_date": "1950-03-02",
        "phone": "06 11 11 11 11",
        "postcode": "82176",
    },
    {
        "source": "crm",
        "source_id": "M2",
        "given_name": "Marie",
        "family_name": "Lefebvre",
        "birth_date": "1982-07-14",
        "phone": "06 22 22 22 22",
        "postcode": "82176",
    },
    {
        "source": "loyalty_vallon",
        "source_id": "M3",
        "given_name": "Marie",
        "family_name": "Lefebvre",
        "loyalty_card": "LV3",
        "postcode": "82176",
    },
]


def test_a_typo_in_each_name_in_one_town_meets_and_neighbours_sharing_initials_or_a_given_name_do_not(
    opensearch: OpenSearch, test_prefix: str, tmp_path
) -> None:
    names = IndexNames(f"{test_prefix}-neighbours")
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(tmp_path / "neighbours.jsonl", NEIGHBOURS)]))
    opensearch.indices.refresh(index=names.records)
    records = {d["record_id"]: features_from_document(d) for d in get_records(opensearch, names, _ids(NEIGHBOURS))}
    config = ResolutionConfig()
    ordered = list(records)
    in_memory = {frozenset((ordered[i], ordered[j])) for i, j in candidate_pairs(list(records.values()), config.max_block_size).pairs}
    # "Sabdrine Tasin" holds the town only: the initials in the town, names close, find Sandrine Tesin.
    assert frozenset(("crm:T1", "loyalty_vallon:T2")) in in_memory
    # Sophie Tardieu shares the initials and the place, not a name: never compared.
    assert frozenset(("crm:T1", "crm:N1")) not in in_memory
    assert frozenset(("loyalty_vallon:T2", "crm:N1")) not in in_memory
    # Two Maries of one postcode born 32 years apart are two women; a card with no birth date may be either.
    assert frozenset(("crm:M1", "crm:M2")) not in in_memory
    assert frozenset(("crm:M1", "loyalty_vallon:M3")) in in_memory
    # Real time finds the same candidates as the full run, for each of them.
    for record_id, record in records.items():
        found = set(candidate_records(opensearch, names, [blocking_keys(record)], config.max_block_size, searchers=[record])) - {record_id}
        assert found == {other for pair in in_memory if record_id in pair for other in pair - {record_id}}, record_id


# One family, no place: a given name cut short on a loyalty card, and a household whose given names
# start alike — a father and a mother (civilities), a mother and her daughter (birth dates).
HOUSEHOLD = [
    {"source": "loyalty_vallon", "source_id": "R1", "given_name": "Raph", "family_name": "Vasseur", "loyalty_card": "LV9"},
    {"source": "crm", "source_id": "R2", "civility": "M.", "given_name": "Raphaël", "family_name": "Vasseur", "phone": "06 77 88 99 00"},
    {"source": "crm", "source_id": "J1", "civility": "M.", "given_name": "Michel", "family_name": "Vasseur", "phone": "06 33 44 55 66"},
    {
        "source": "ecommerce",
        "source_id": "J2",
        "civility": "Mme",
        "given_name": "Micheline",
        "family_name": "Vasseur",
        "email": "micheline.vasseur@orange.fr",
    },
    {
        "source": "crm",
        "source_id": "M1",
        "given_name": "Marie",
        "family_name": "Vasseur",
        "birth_date": "1950-03-02",
        "phone": "06 12 12 12 12",
    },
    {
        "source": "ecommerce",
        "source_id": "M2",
        "given_name": "Marion",
        "family_name": "Vasseur",
        "birth_date": "1985-09-30",
        "email": "marion.v@free.fr",
    },
]


def test_a_given_name_cut_short_meets_its_full_form_and_household_members_of_another_sex_or_age_do_not(
    opensearch: OpenSearch, test_prefix: str, tmp_path
) -> None:
    names = IndexNames(f"{test_prefix}-household")
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(tmp_path / "household.jsonl", HOUSEHOLD)]))
    opensearch.indices.refresh(index=names.records)
    records = {d["record_id"]: features_from_document(d) for d in get_records(opensearch, names, _ids(HOUSEHOLD))}
    config = ResolutionConfig()
    ordered = list(records)
    in_memory = {frozenset((ordered[i], ordered[j])) for i, j in candidate_pairs(list(records.values()), config.max_block_size).pairs}
    # "Raph" meets "Raphaël" (the family name with the given name's first letters); Michel and
    # Micheline (a man and a woman), Marie and Marion (born 35 years apart) share that key too.
    assert in_memory == {frozenset(("loyalty_vallon:R1", "crm:R2"))}
    for record_id, record in records.items():
        found = set(candidate_records(opensearch, names, [blocking_keys(record)], config.max_block_size, searchers=[record])) - {record_id}
        assert found == {other for pair in in_memory if record_id in pair for other in pair - {record_id}}, record_id
