"""A father's sparse CRM line beside his namesake son's full CRM record is two accounts of one
system, not one man: where the data holds namesakes under one roof, a source holding a record of
each of two groups of one full name at one home is weighed by how often that source holds one
person twice in this data (issue 16, session 19; search.resolve.namesakes, SOURCE). Pure functions
first, then a real node."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest
from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.push import RecordPusher
from search.indices import IndexNames
from search.resolve.clustering import NAMESAKES_AT_HOME, cluster
from search.resolve.config import ResolutionConfig
from search.resolve.features import RecordFeatures
from search.resolve.namesakes import NamesakesAtHome, namesakes_apart
from search.resolve.personal import personal_evidence
from search.resolve.pipeline import resolve_all
from search.resolve.possible import REASONS, REFUSED
from search.resolve.realtime import RealTimeResolver
from tests.conftest import Ingest, Resolved, customer_assignment, groups_of, pushed_then_full_run
from tests.search.resolve.test_namesakes_at_home import FAMILY, GIVEN, _estimate, _features, _town_of_namesakes
from tests.search.resolve.test_possible_matches import _relations


def _record(key: str, source: str, given: str, family: str, street: str, born: str) -> dict[str, Any]:
    return {
        "source": source,
        "source_id": key,
        "given_name": given,
        "family_name": family,
        "street": street,
        "postcode": "29870",
        "city": "Plouvien",
        "birth_date": born,
    }


def _town_of_accounts(father_namesakes: bool, duplicated: int = 10, shop_without_sons: bool = False) -> list[RecordFeatures]:
    """One hundred homes: a man in the CRM and in the legacy file (one in `duplicated` held twice by
    the CRM), each record with his birth date and nothing else of his own but, in one home in four,
    one e-mail on both (what vouches that birth dates a generation apart are not his typos); where
    sons are named after their fathers, every other home's son in the CRM and the web shop."""
    documents: list[dict[str, Any]] = []
    for n in range(100):
        given, family, street = GIVEN[n % 10], FAMILY[n // 10], f"{n + 1} rue des Lavandières"
        mailbox = {"email": f"{given}.{family}{n}@free.fr"} if n % 4 == 3 else {}
        documents += [
            {**_record(f"F{n}", "crm", given, family, street, "1961-04-12"), **mailbox},
            {**_record(f"L{n}", "legacy", given, family, street, "1961-04-12"), **mailbox},
        ]
        if n % duplicated == 0:
            documents.append(_record(f"D{n}", "crm", given, family, street, "1961-04-12"))
        if shop_without_sons and not n % 2:  # a shop's card held by the men of the homes without a son
            documents.append(_record(f"B{n}", "boutique", given, family, street, "1961-04-12"))
        if father_namesakes and n % 2:
            documents += [
                _record(f"S{n}", "crm", given, family, street, "1992-09-30"),
                _record(f"E{n}", "ecommerce", given, family, street, "1992-09-30"),
            ]
    return _features(documents)


def test_how_often_one_system_holds_one_person_twice_is_counted_per_source_from_the_homes() -> None:
    estimate = _estimate(_town_of_accounts(father_namesakes=True))
    assert estimate is not None and estimate.share > 0.1
    # One man's pairs touching the CRM are both in it only where the CRM holds him twice (one in ten
    # men); a father's and his son's are both in it whenever the son has a CRM account.
    assert estimate.differ_one["source:crm"] < 0.2 < 0.3 < estimate.differ_two["source:crm"]
    assert estimate.differ_one["source:legacy"] < 0.1  # the legacy file never holds one man twice here


def test_a_source_no_home_of_namesakes_holds_is_no_evidence_of_two_people() -> None:
    # The shop's cards are held only in homes of one man: no pair of two namesakes shows how often
    # the shop holds each of them, so it weighs nothing (the prior alone would read two people).
    estimate = _estimate(_town_of_accounts(father_namesakes=True, shop_without_sons=True))
    assert estimate is not None and estimate.weighs("source:crm")
    assert not estimate.weighs("source:boutique")
    assert estimate.one_system({"boutique"}) is None


# Bench.corruption, father namesakes 1.0: the father's CRM line holds his name and postcode only;
# his son, named after him, has a full CRM record and a web-shop record. Without the son's own
# customer being told from his father's by anything personal, the father's line joined the son.
JOLY = [
    {"source": "crm", "source_id": "PJ1", "given_name": "Pascal", "family_name": "Joly", "postcode": "75013",
     "updated_at": "2025-07-25T19:39:59Z"},
    {"source": "crm", "source_id": "PJ2", "given_name": "Pascal", "family_name": "Joly", "birth_date": "1989-12-20",
     "email": "pascal.joly79@laposte.net", "phone": "06 86 51 65 88", "postcode": "75013",
     "street": "10 bis chemin des Dames", "city": "Paris", "updated_at": "2025-08-29T16:17:41Z"},
    {"source": "ecommerce", "source_id": "PJ3", "given_name": "Pascal", "family_name": "Joly", "email": "pascal.joly79@laposte.net",
     "phone": "06 86 51 65 88", "postcode": "75013", "street": "10 bis chemin des Dames", "city": "Paris",
     "updated_at": "2026-02-19T23:56:17Z"},
]  # fmt: skip
JOLY_IDS = [f"{d['source']}:{d['source_id']}" for d in JOLY]
FATHER, SON = frozenset(JOLY_IDS[:1]), frozenset(JOLY_IDS[1:])


def _clustered(records: list[RecordFeatures], namesakes: NamesakesAtHome | None) -> Any:
    """Every pair linked above the match threshold: the son's own pair by his e-mail and mobile, the
    father's line to each of them by the full name and the postcode."""
    pairs = np.array(list(combinations(range(len(records)), 2)))
    probabilities = np.array([0.999999 if records[i].email and records[j].email else 0.9999 for i, j in pairs.tolist()])
    weights = np.log2(probabilities / (1 - probabilities))
    return cluster(records, pairs, weights, probabilities, threshold=0.99, max_cluster_size=20, namesakes=namesakes)


def test_a_father_s_sparse_crm_line_beside_his_namesake_son_s_crm_record_is_held_apart_where_the_data_holds_namesakes_at_home() -> None:
    result = _clustered(_features(JOLY), _estimate(_town_of_accounts(father_namesakes=True)))
    assert result.labels[1] == result.labels[2] != result.labels[0]
    assert NAMESAKES_AT_HOME in {h.rule for h in result.refused_links}  # a possible match, with its reason


def test_one_man_s_sparse_second_crm_line_stays_his_where_the_data_holds_no_namesakes_at_home() -> None:
    result = _clustered(_features(JOLY), _estimate(_town_of_accounts(father_namesakes=False)))
    assert len(set(result.labels)) == 1


def test_a_model_stored_before_it_counted_sources_reads_one_system_holding_each_as_no_evidence() -> None:
    stored = {
        "share": 0.09, "differ_one": {"mobile": 0.07, "email": 0.05}, "differ_two": {"mobile": 0.98, "email": 0.88},
        "homes": 742, "born_apart": 88,
    }  # fmt: skip
    namesakes = NamesakesAtHome.from_dict(stored)
    assert namesakes is not None
    father, son = _features(JOLY[:1]), _features(JOLY[1:])
    evidence = [personal_evidence(x, y) for x in father for y in son]
    assert not namesakes_apart(namesakes, evidence, father, son, 0.99)


@pytest.mark.parametrize("order", [JOLY_IDS, JOLY_IDS[::-1]], ids=["father-first", "son-first"])
def test_a_father_s_crm_line_is_held_apart_from_his_namesake_son_in_real_time_and_in_a_full_run(
    order: list[str], opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    _town_of_namesakes(ingest, opensearch, names)  # the stored model counts namesakes at home and each source's duplicates
    config = ResolutionConfig(model_check_s=0)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    by_id = {f"{d['source']}:{d['source_id']}": d for d in JOLY}
    for record_id in order:  # pushed one at a time, in real time
        pusher.push(SourceRecord.model_validate(by_id[record_id]))
    real_time = groups_of(customer_assignment(opensearch, names), JOLY_IDS)
    resolve_all(opensearch, names, config, retrain=False)  # and a full run over every record
    customer = customer_assignment(opensearch, names)
    assert real_time == groups_of(customer, JOLY_IDS) == {FATHER, SON}
    relation = _relations(opensearch, names)[frozenset((customer["crm:PJ1"], customer["crm:PJ2"]))]
    assert (relation["kind"], relation["rule"], relation["reason"]) == (REFUSED, NAMESAKES_AT_HOME, REASONS[NAMESAKES_AT_HOME])


def test_one_man_s_sparse_crm_line_joins_him_where_the_data_holds_no_namesakes_at_home(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    assert not (resolved.model.namesakes_at_home or {}).get("share")  # the demo people: no son named after his father
    real_time, full_run = pushed_then_full_run(JOLY, JOLY_IDS, resolved, opensearch, ingest, names)
    assert groups_of(real_time, JOLY_IDS) == groups_of(full_run, JOLY_IDS) == {frozenset(JOLY_IDS)}
