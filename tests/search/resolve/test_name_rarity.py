"""A name alone priced by how many people hold it (issue 16): a loyalty record holding a rare full
name and one shop's card joins the one customer of that name, while the same record of a common
name stays apart — in a full run and in real time, whatever order the records arrive in. Pure
estimate first, then a real node."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.push import RecordPusher
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.model import MatchModel
from search.resolve.pipeline import resolve_all
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import load_model, save_model
from search.resolve.weak_links import one_holder_odds, priced_by_name_rarity
from tests.conftest import Ingest, Resolved, customer_assignment


def _model(given: dict[str, int], family: dict[str, int], records: int, per_person: float) -> MatchModel:
    return MatchModel(
        names=["given_name"],
        levels=[["exact"]],
        m=[[1.0]],
        u=[[1.0]],
        prior=0.001,
        term_frequencies={"given": given, "family": family},
        records=records,
        tf_features={"given_name": "given", "family_name": "family"},
        records_per_person=per_person,
    )


def test_a_rare_full_name_is_far_less_often_a_namesake_s_than_a_common_one() -> None:
    people = [("marie", "martin"), ("marie", "martin"), ("gwenaelle", "kerherve"), ("gwenaelle", "kerherve"), ("marie", "kerherve")]
    records = [
        features_from_document({"record_id": str(i), "source": "s", "given_name": g, "family_name": f}) for i, (g, f) in enumerate(people)
    ]
    pairs = np.array([(0, 1), (2, 3), (3, 4)])
    # 10,000 records of 5,000 people: 600 hold "marie", 300 "martin", 2 "gwenaelle", 3 "kerherve".
    model = _model({"marie": 600, "martin": 300, "gwenaelle": 2}, {"martin": 300, "kerherve": 3}, 10_000, 2.0)
    right = one_holder_odds(model, records, pairs, np.ones(3, dtype=bool))
    # Marie Martin: 300 x 150 / 5,000 = 9 namesakes expected; Gwenaëlle Kerhervé: 0.0003.
    assert right[0] == pytest.approx(1 / 10)
    assert right[1] > 0.999
    assert np.isnan(right[2])  # two full names: no price
    priced = priced_by_name_rarity(np.array([0.9, 0.9, 0.9]), right, budget=0.015, threshold=0.99)
    assert priced[0] == 0.9 and 0.985 <= priced[1] < 0.99 and priced[2] == 0.9
    # The same counts read as one person per record (a model stored before the estimate) price
    # the rare name lower, never higher.
    assert one_holder_odds(_model(model.term_frequencies["given"], model.term_frequencies["family"], 10_000, 1.0), records, pairs,
                           np.ones(3, dtype=bool))[1] < right[1]  # fmt: skip


# A customer of a rare name (her CRM record and her e-commerce account share her e-mail and phone),
# and a loyalty card of another shop holding her name and nothing else; the same three records for
# a woman of a common name, whose namesakes the data hold.
def _three(given: str, family: str, key: str, email: str, phone: str, postcode: str) -> list[dict[str, str]]:
    return [
        {"source": "crm", "source_id": f"{key}1", "given_name": given, "family_name": family, "email": email, "phone": phone,
         "postcode": postcode},
        {"source": "ecommerce", "source_id": f"{key}2", "given_name": given, "family_name": family, "email": email, "phone": phone},
        {"source": "loyalty_brest", "source_id": f"{key}3", "given_name": given, "family_name": family, "loyalty_card": f"LB88{key}"},
    ]  # fmt: skip


RARE = _three("Gwenaëlle", "Kerhervé", "GK", "gwen.kh29@orange.fr", "06 71 44 20 93", "29160")
COMMON = _three("Marie", "Martin", "MM", "mm.lyon3@free.fr", "06 52 18 77 04", "69003")
RECORDS = RARE + COMMON
IDS = [f"{d['source']}:{d['source_id']}" for d in RECORDS]
CARD_FIRST = [IDS[2], IDS[0], IDS[1], IDS[5], IDS[3], IDS[4]]


def _as_a_large_referential(model: MatchModel) -> MatchModel:
    """The demo's model as a referential of a million records would hold it: the same weights, a
    random pair a thousand times less often one person, and the counts of a common name there
    (Marie on 2% of records, Martin on 0.4%); every other name as rare as in the demo. A name alone
    then scores low whatever the name, as in any large population (0.5-0.97 at 40% sparse in
    bench.robustness), and only its rarity tells the rare one apart."""
    scale = 1_000_000 / model.records
    counts = {
        "given": {**model.term_frequencies["given"], "marie": 20_000},
        "family": {**model.term_frequencies["family"], "martin": 4_000},
    }
    within = model.prior_within_source / scale if model.prior_within_source is not None else None
    return replace(model, records=1_000_000, prior=model.prior / scale, prior_within_source=within,
                   term_frequencies={**model.term_frequencies, **counts})  # fmt: skip


def _customer_of(customer: dict[str, str], records: list[str]) -> set[str]:
    return {customer[r] for r in records}


@pytest.mark.parametrize("order", [IDS, CARD_FIRST], ids=["card-last", "card-first"])
def test_a_loyalty_card_holding_a_rare_name_alone_joins_its_one_customer_and_a_common_name_does_not(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ingest(resolved.demo)
    resolve_all(opensearch, names, ResolutionConfig())
    model = load_model(opensearch, names)
    assert model is not None
    save_model(opensearch, names, _as_a_large_referential(model))
    config = ResolutionConfig(model_check_s=0)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    documents = {f"{d['source']}:{d['source_id']}": d for d in RECORDS}
    for record_id in order:  # pushed one at a time, in real time
        pusher.push(SourceRecord.model_validate(documents[record_id]))
    real_time = customer_assignment(opensearch, names)
    resolve_all(opensearch, names, config, retrain=False)  # and a full run over every record
    full_run = customer_assignment(opensearch, names)
    for customer in (real_time, full_run):
        assert len(_customer_of(customer, IDS[:3])) == 1  # Gwenaëlle Kerhervé's card joins her
        assert len(_customer_of(customer, IDS[3:5])) == 1
        assert customer[IDS[5]] not in _customer_of(customer, IDS[3:5])  # one Marie Martin's card may be another's
