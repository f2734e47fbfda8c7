"""Two namesakes living at two streets of one postcode are never chained into one customer through
records holding only their name and that postcode (issue 16: no chaining through weak records) —
in a full run and in real time, whatever order the records arrive in. Pure clustering first, then a
real node."""

from __future__ import annotations

import numpy as np
import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.clustering import DIFFER, DIFFER_AT_TWO_STREETS, NAMESAKES_OF_ONE_POSTCODE, PERSONAL_CONTACTS, cluster
from search.resolve.config import NEVER_MERGE_RULES
from search.resolve.features import features_from_document
from tests.conftest import Ingest, Resolved, groups_of, pushed_then_full_run

# Two "Jacques Blanchard" of Paris 7e (75007), each at his own street with his own phone and
# e-mail; the second one's e-commerce account and loyalty cards hold his name and the postcode,
# some nothing else (the 10-year timeline setting of bench.robustness merged such a pair).
BLANCHARD = [
    {"source": "crm", "source_id": "JB1", "given_name": "Jacques", "family_name": "Blanchard", "email": "jacquesblanchard@free.fr",
     "phone": "06 17 35 06 12", "street": "39 allée Victor Hugo", "postcode": "75007", "city": "Paris"},
    {"source": "ecommerce", "source_id": "JB2", "given_name": "Jacques", "family_name": "Blanchard",
     "email": "jacques_blanchard@wanadoo.fr", "phone": "06 30 04 26 08", "street": "16 bis chemin de Verdun", "postcode": "75007",
     "city": "Paris"},
    {"source": "ecommerce", "source_id": "JB3", "given_name": "Jacques", "family_name": "Blanchard",
     "email": "jacques_blanchard@wanadoo.fr", "postcode": "75007", "city": "Paris"},
    {"source": "loyalty_paris", "source_id": "JB4", "given_name": "Jacques", "family_name": "Blanchard", "postcode": "75007"},
    {"source": "loyalty_lille", "source_id": "JB5", "given_name": "Jacques", "family_name": "Blanchard", "postcode": "75007",
     "street": "16 bis chemin de Verdun"},
]  # fmt: skip
IDS = [f"{d['source']}:{d['source_id']}" for d in BLANCHARD]


def test_a_name_and_a_postcode_never_join_two_namesakes_living_at_two_streets_of_it() -> None:
    records = [features_from_document({"record_id": i, **d}) for i, d in zip(IDS, BLANCHARD, strict=True)]
    # The second man's records are linked by his e-mail and street; the first man's record is linked
    # to three of them above the match threshold by the name and the postcode alone (a street
    # missing on a side), and plainly differs from his namesake's full record (phone, e-mail, street).
    links = [(1, 2, 0.9999, False), (1, 4, 0.9998, False), (0, 2, 0.9994, True), (0, 3, 0.9909, True), (2, 3, 0.9909, True),
             (3, 4, 0.9908, True), (0, 4, 0.9917, True)]  # fmt: skip
    pairs = np.array([(i, j) for i, j, *_ in links])
    probabilities = np.array([p for *_, p, _ in links])
    place = np.array([placed for *_, placed in links])
    verdict = {(0, 1): DIFFER_AT_TWO_STREETS}

    def labels(disagree_at_two_streets: bool) -> list[int]:
        result = cluster(
            records,
            pairs,
            np.log2(probabilities / (1 - probabilities)),
            probabilities,
            threshold=0.99,
            max_cluster_size=10,
            disagree=lambda i, j: verdict.get((i, j), 0) if disagree_at_two_streets else DIFFER * ((i, j) in verdict),
            # The rule under test alone: these two men's own e-mails and mobiles would hold them
            # apart first (different_personal_contacts, tests/search/resolve/test_father_and_son.py).
            never_merge=frozenset(NEVER_MERGE_RULES) - {PERSONAL_CONTACTS},
            names_alone=np.zeros(len(links), dtype=bool),
            names_and_place=place,
        )
        if disagree_at_two_streets:
            assert NAMESAKES_OF_ONE_POSTCODE in {h.rule for h in result.refused_links}  # a possible match, with its reason
        return result.labels

    found = labels(disagree_at_two_streets=True)
    assert found[0] != found[1] and found[1] == found[2] == found[4]
    # Two records that plainly differ without living at two streets of the postcode (a person who
    # moved and changed phone) are still joined by the records holding his name and postcode.
    assert len(set(labels(disagree_at_two_streets=False))) == 1


@pytest.mark.parametrize("order", [IDS, IDS[::-1]], ids=["first-man-first", "first-man-last"])
def test_two_namesakes_of_one_postcode_stay_two_customers_in_real_time_and_in_a_full_run(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = (groups_of(a, IDS) for a in pushed_then_full_run(BLANCHARD, order, resolved, opensearch, ingest, names))
    for groups in (real_time, full_run):
        first, second = (next(g for g in groups if record in g) for record in ("crm:JB1", "ecommerce:JB2"))
        assert first != second
        assert {"ecommerce:JB2", "ecommerce:JB3", "loyalty_lille:JB5"} <= second
    assert real_time == full_run
