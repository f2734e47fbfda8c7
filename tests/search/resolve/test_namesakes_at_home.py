"""A son named after his father, each with one mobile of his own and nothing else personal on the
linked records, is held apart from his father where the data shows namesakes under one roof; one
man who changed mobile stays one customer where it shows none (issue 16). What the data shows is
counted from its own candidate pairs (search.resolve.namesakes). Pure functions first, then a real
node."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest
from opensearchpy import OpenSearch

from bench.corruption.dataset import corpus
from bench.corruption.knobs import Knobs
from indexers.contract import SourceRecord
from indexers.normalize import normalize_record
from indexers.push import RecordPusher
from search.indices import IndexNames
from search.resolve.clustering import NAMESAKES_AT_HOME, cluster
from search.resolve.comparisons import comparisons_for
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures, features_from_document
from search.resolve.namesakes import NamesakesAtHome, estimate_namesakes_at_home
from search.resolve.pipeline import resolve_all
from search.resolve.possible import REASONS, REFUSED
from search.resolve.realtime import RealTimeResolver
from search.resolve.scoring import pair_vectors
from search.resolve.store import load_model
from tests.conftest import Ingest, Resolved, customer_assignment, groups_of, pushed_then_full_run
from tests.search.resolve.test_possible_matches import _relations

GIVEN = ["Jean", "Pierre", "Michel", "Alain", "Philippe", "Patrick", "Daniel", "Bernard", "Christophe", "Thierry"]
FAMILY = ["Quervellec", "Maueloux", "Garilot", "Lebrun", "Chevallier", "Herilieu", "Laraneau", "Pelaroux", "Vignaud", "Kerbrat"]


def _features(documents: list[dict[str, Any]]) -> list[RecordFeatures]:
    return [features_from_document(normalize_record(SourceRecord.model_validate(d)).document) for d in documents]


def _person(key: str, given: str, family: str, street: str, born: str, mobiles: list[str]) -> list[dict[str, Any]]:
    """One person's records, one per mobile he held, each with his birth date."""
    home = {"given_name": given, "family_name": family, "street": street, "postcode": "29870", "city": "Plouvien"}
    return [
        {"source": "crm", "source_id": f"{key}{n}", **home, "birth_date": born, "phone": mobile, "updated_at": f"202{n}-03-01T10:00:00Z"}
        for n, mobile in enumerate(mobiles)
    ]


def _town(father_namesakes: bool) -> list[RecordFeatures]:
    """One hundred homes of one family name each: a man with two records (one in ten changed
    mobile between them), and, where sons are named after their fathers, his son's two records."""
    documents: list[dict[str, Any]] = []
    for n in range(100):
        given, family, street = GIVEN[n % 10], FAMILY[n // 10], f"{n + 1} rue des Lavandières"
        mobile = f"06 {10 + n:02d} 20 30 40"
        documents += _person(f"F{n}-", given, family, street, "1961-04-12", [mobile, mobile if n % 10 else f"07 {10 + n:02d} 50 60 70"])
        if father_namesakes and n % 2:
            documents += _person(f"S{n}-", given, family, street, "1992-09-30", [f"06 {10 + n:02d} 80 90 11"] * 2)
    return _features(documents)


def _estimate(records: list[RecordFeatures]) -> NamesakesAtHome | None:
    """The estimate from candidate pairs blocked on the family name."""
    pairs = np.array([(i, j) for i, j in combinations(range(len(records)), 2) if records[i].family == records[j].family])
    comparisons = comparisons_for(())
    return estimate_namesakes_at_home(records, pairs, pair_vectors(records, pairs, comparisons), comparisons)


def test_namesakes_at_home_are_counted_from_the_birth_dates_of_one_name_at_one_address() -> None:
    with_sons = _estimate(_town(father_namesakes=True))
    assert with_sons is not None and with_sons.share > 0.1
    assert with_sons.differ_one["mobile"] < 0.2 < 0.9 < with_sons.differ_two["mobile"]
    alone = _estimate(_town(father_namesakes=False))
    assert alone is not None and alone.share == 0  # the same men, no namesake at home: nothing to hold apart


def test_birth_dates_that_also_differ_between_one_person_s_records_vouched_by_an_e_mail_are_not_namesakes() -> None:
    records = _town(father_namesakes=True)
    for record in records:  # every man writes one e-mail everywhere: the sons' "other birth dates" are one man's errors
        record.email = f"{record.given}.{record.family}@free.fr"
    estimate = _estimate(records)
    assert estimate is not None and estimate.share == 0


def test_one_man_s_birth_date_slips_in_a_source_without_e_mails_are_not_namesakes_at_home() -> None:
    """No son named after his father, but a legacy source that mistypes birth dates (another day of
    the year, a year two off) and holds no e-mail: nothing vouches for its errors, and they are no
    generation apart — no namesakes at home, the rule stays inert."""
    records = _town(father_namesakes=False)
    for n, record in enumerate(records):
        if n % 2:  # each man's second record, from the noisy source
            record.birth_date = "1961-09-03" if n % 4 == 1 else "1963-07-12"
    estimate = _estimate(records)
    assert estimate is not None and estimate.born_apart == 0 and estimate.share == 0


def _homes_of_many_records(namesake_homes: int, records_each: int) -> list[RecordFeatures]:
    """Two hundred men at home alone, two records each (one in ten changed mobile between them), and
    `namesake_homes` of them with a son named after them, father and son `records_each` records each."""
    documents: list[dict[str, Any]] = []
    for n in range(200):
        given, family, street = GIVEN[n % 10], f"{FAMILY[n % 10]}{n // 10}", f"{n + 1} rue des Lavandières"
        mobile = f"06 {n // 100:02d} {n % 100:02d} 30 40"
        records = records_each if n < namesake_homes else 2
        documents += _person(
            f"F{n}-",
            given,
            family,
            street,
            "1961-04-12",
            [mobile] * (records - 1) + [mobile if n % 10 else f"07 {n // 100:02d} {n % 100:02d} 60 70"],
        )
        if n < namesake_homes:
            documents += _person(f"S{n}-", given, family, street, "1992-09-30", [f"06 {n // 100:02d} {n % 100:02d} 90 11"] * records_each)
    return _features(documents)


def test_one_home_of_namesakes_counts_once_however_many_records_father_and_son_hold() -> None:
    """One father and son among two hundred homes are one home of namesakes, not the 36 pairs of
    their six records each: so little evidence of namesakes at home does not hold apart a man who
    changed mobile. Counted per record pair, those 36 pairs read as one pair in eight of one name at
    one address being two people."""
    sparse = _estimate(_homes_of_many_records(namesake_homes=1, records_each=6))
    result = _clustered(_features([*BERTIN[:2], {**BERTIN[1], "source_id": "BF3", "phone": "07 45 12 88 31"}]), sparse)
    assert len(set(result.labels)) == 1  # one man with a second mobile: one customer
    assert sparse is not None and (sparse.homes, sparse.born_apart) == (200, 1)
    many = _estimate(_homes_of_many_records(namesake_homes=40, records_each=2))
    assert many is not None and many.share > 0.1  # forty homes of two hundred: namesakes at home


def test_one_person_s_differing_mobiles_are_counted_where_nothing_else_of_his_agrees() -> None:
    """The rule reads groups of records where nothing personal agrees; one person's mobiles are
    counted as differing among his pairs of that kind only. Here every man who changed mobile
    changed mailbox with it, the others kept both: among pairs agreeing on no e-mail, one man's
    mobiles differ as often as two namesakes' do, and a man whose records say only that much
    is not told from a namesake by it."""
    records = _town(father_namesakes=True)
    for record in records:
        changed = record.phone.startswith("+337")  # the second mobile of a man who changed it
        record.email = f"{record.given}.{record.family}{'.new' if changed else ''}{'.fils' if record.record_id.split(':')[1].startswith('S') else ''}@free.fr"
    estimate = _estimate(records)
    assert estimate is not None
    assert estimate.differ_one["mobile"] > 0.5  # all pairs: 10 of 110 differ; where no e-mail agrees: every one


def _town_of_initials(mothers: bool) -> list[RecordFeatures]:
    """One hundred homes: a son with a record under his given name and one under its initial (one in
    ten changed mobile between them), and, where `mothers`, in every other home his mother, whose
    given name shares his initial, under her name and under the initial, with her own mobile."""
    documents: list[dict[str, Any]] = []
    for n in range(100):
        family, street, mobile = FAMILY[n % 10] + str(n // 10), f"{n + 1} rue des Lavandières", f"06 {10 + n:02d} 20 30 40"
        documents += _person(f"S{n}-", "Michel", family, street, "1994-02-11", [mobile])
        documents += _person(f"I{n}-", "M.", family, street, "1994-02-11", [mobile if n % 10 else f"07 {10 + n:02d} 50 60 70"])
        if mothers and n % 2:
            documents += _person(f"M{n}-", "Martine", family, street, "1937-10-02", [f"06 {10 + n:02d} 80 90 11"])
            documents += _person(f"N{n}-", "M.", family, street, "1937-10-02", [f"06 {10 + n:02d} 80 90 11"])
    return _features(documents)


# A son and his mother's record under her initial, one mobile each, nothing else personal: the
# records agree on the family name, the initial and the street (bench.corruption, father namesakes
# 0.3: "M Lamanac" was in Michel Lamanac's customer, her mobile beside his).
LAMANAC = [
    {"source": "crm", "source_id": "ML1", "given_name": "Michel", "family_name": "Lamanac", "phone": "06 79 95 15 86",
     "updated_at": "2025-03-04T10:00:00Z", "street": "2 route des Acacias", "postcode": "27146", "city": "Bernay"},
    {"source": "ecommerce", "source_id": "ML2", "given_name": "Michel", "family_name": "Lamanac", "phone": "06 79 95 15 86",
     "updated_at": "2026-01-19T10:00:00Z", "street": "2 route des Acacias", "postcode": "27146", "city": "Bernay"},
    {"source": "callcenter", "source_id": "MM1", "given_name": "M.", "family_name": "Lamanac", "phone": "06 50 08 40 34",
     "updated_at": "2025-08-22T10:00:00Z", "street": "2 route des Acacias", "postcode": "27146", "city": "Bernay"},
]  # fmt: skip


def test_a_record_under_an_initial_with_a_mobile_of_its_own_is_held_apart_where_the_data_holds_near_names_at_home() -> None:
    """Where the data shows members of one home whose given names share an initial (a mother and
    her son), counted as namesakes are from the birth dates, a record under the initial holding
    another mobile and nothing else personal is a possible match, not a silent merge; where it
    shows none, it is the son's record with his second mobile."""
    mothers = _estimate(_town_of_initials(mothers=True))
    assert mothers is not None and mothers.share == 0 < mothers.near_share
    result = _clustered(_features(LAMANAC), mothers)
    assert result.labels[0] == result.labels[1] != result.labels[2]
    assert NAMESAKES_AT_HOME in {h.rule for h in result.refused_links}
    alone = _estimate(_town_of_initials(mothers=False))
    assert alone is not None and alone.near_share == 0
    assert len(set(_clustered(_features(LAMANAC), alone).labels)) == 1


STREET = {"street": "12 rue de Kerbiquet", "postcode": "29870", "city": "Plouvien"}
# Father and son named alike, one mobile each, no e-mail, no birth date: the linked records agree
# on the full name and the street only (bench.corruption, father namesakes 0.3: the largest family
# of households still merged). Both men used their mobiles over the same two years.
BERTIN = [
    {"source": "crm", "source_id": "BF1", "given_name": "Yann", "family_name": "Bertin", "phone": "06 31 72 45 18",
     "updated_at": "2025-03-04T10:00:00Z", **STREET},
    {"source": "ecommerce", "source_id": "BF2", "given_name": "Yann", "family_name": "Bertin", "phone": "06 31 72 45 18",
     "updated_at": "2026-01-19T10:00:00Z", **STREET},
    {"source": "callcenter", "source_id": "BS1", "given_name": "Yann", "family_name": "Bertin", "phone": "07 84 10 66 92",
     "updated_at": "2025-08-22T10:00:00Z", **STREET},
    {"source": "loyalty_paris", "source_id": "BS2", "given_name": "Yann", "family_name": "Bertin", "phone": "07 84 10 66 92",
     "loyalty_card": "PAR5512093384", "updated_at": "2026-05-02T10:00:00Z", **STREET},
]  # fmt: skip


def _clustered(records: list[RecordFeatures], namesakes: NamesakesAtHome | None) -> Any:
    """Every pair linked at 0.9999 (the name and the street), each man's own pair more strongly (his mobile)."""
    pairs = np.array(list(combinations(range(len(records)), 2)))
    probabilities = np.array([0.999999 if records[i].phone == records[j].phone else 0.9999 for i, j in pairs.tolist()])
    weights = np.log2(probabilities / (1 - probabilities))
    return cluster(records, pairs, weights, probabilities, threshold=0.99, max_cluster_size=20, namesakes=namesakes)


def test_a_father_and_his_namesake_son_with_a_mobile_each_are_two_customers_where_the_data_holds_namesakes_at_home() -> None:
    namesakes = _estimate(_town(father_namesakes=True))
    result = _clustered(_features(BERTIN), namesakes)
    assert result.labels[0] == result.labels[1] != result.labels[2] == result.labels[3]
    assert NAMESAKES_AT_HOME in {h.rule for h in result.refused_links}  # a possible match, with its reason


def test_a_namesake_son_whose_records_hold_the_postcode_but_not_the_street_is_held_apart_all_the_same() -> None:
    """A shop's card and a call-center line often keep the postcode and leave the street out: the
    son's records there still share his father's home (bench.corruption, father namesakes 0.3: the
    namesakes' linked records missed the street on one side in most of the households still merged
    with one kind of contact on each side)."""
    namesakes = _estimate(_town(father_namesakes=True))
    son_without_street = [{k: v for k, v in d.items() if k != "street"} for d in BERTIN[2:]]
    result = _clustered(_features(BERTIN[:2] + son_without_street), namesakes)
    assert result.labels[0] == result.labels[1] != result.labels[2] == result.labels[3]


def test_one_man_who_changed_mobile_stays_one_customer_where_the_data_holds_no_namesakes_at_home() -> None:
    namesakes = _estimate(_town(father_namesakes=False))
    result = _clustered(_features(BERTIN), namesakes)
    assert len(set(result.labels)) == 1


BERTIN_IDS = [f"{d['source']}:{d['source_id']}" for d in BERTIN]
FATHER, SON = frozenset(BERTIN_IDS[:2]), frozenset(BERTIN_IDS[2:])


def _town_of_namesakes(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    """Four hundred people of bench.corruption where every son is named after his father, ingested
    and resolved: the model counts namesakes at home from their records."""
    ingest([record.payload for record in corpus(Knobs(people=400, father_namesake_share=1.0)).records])
    resolve_all(opensearch, names, ResolutionConfig())
    model = load_model(opensearch, names)
    assert model is not None and model.namesakes_at_home is not None and model.namesakes_at_home["share"] > 0


@pytest.mark.parametrize("order", [BERTIN_IDS, BERTIN_IDS[::-1]], ids=["father-first", "son-first"])
def test_a_son_with_one_mobile_of_his_own_is_held_apart_from_his_father_in_real_time_and_in_a_full_run(
    order: list[str], opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    _town_of_namesakes(ingest, opensearch, names)
    config = ResolutionConfig(model_check_s=0)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    by_id = {f"{d['source']}:{d['source_id']}": d for d in BERTIN}
    for record_id in order:  # pushed one at a time, in real time
        pusher.push(SourceRecord.model_validate(by_id[record_id]))
    real_time = groups_of(customer_assignment(opensearch, names), BERTIN_IDS)
    resolve_all(opensearch, names, config, retrain=False)  # and a full run over every record
    customer = customer_assignment(opensearch, names)
    assert real_time == groups_of(customer, BERTIN_IDS) == {FATHER, SON}
    relation = _relations(opensearch, names)[frozenset((customer["crm:BF1"], customer["callcenter:BS1"]))]
    assert (relation["kind"], relation["rule"], relation["reason"]) == (REFUSED, NAMESAKES_AT_HOME, REASONS[NAMESAKES_AT_HOME])


@pytest.mark.parametrize("order", [BERTIN_IDS, BERTIN_IDS[::-1]], ids=["first-mobile-first", "second-mobile-first"])
def test_one_man_with_two_mobiles_stays_one_customer_where_the_data_holds_no_namesakes_at_home(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    assert not (resolved.model.namesakes_at_home or {}).get("share")  # the demo people: no son named after his father
    real_time, full_run = pushed_then_full_run(BERTIN, order, resolved, opensearch, ingest, names)
    assert groups_of(real_time, BERTIN_IDS) == groups_of(full_run, BERTIN_IDS) == {frozenset(BERTIN_IDS)}
