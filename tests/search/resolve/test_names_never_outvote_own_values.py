"""Links resting on names alone never join two groups of records whose other records hold a mobile,
an e-mail or a place of each side's own that differ, however many such links there are (issue 16:
no chaining through weak records). Pure clustering."""

from __future__ import annotations

import pytest

from search.resolve.clustering import AGREE, DIFFER, NAMES_DISAGREE
from search.resolve.features import RecordFeatures, features_from_document
from tests.search.resolve.links import Link, cluster_links

# Two "Anne-Marie Garagert" (bench.robustness, 40% sparse records): the first woman's e-commerce
# account (her e-mail) and loyalty card (the e-mail, her mobile, her Vosges address); the second
# woman's CRM record (a birth date), two e-commerce accounts (her Oise address, her mobile) and a
# call-center record (mobile, birth date). Every record of one woman shares the full name with
# every record of the other, and nothing else.
GARAGERT = [
    {"source": "ecommerce", "source_id": "A1", "given_name": "Anne-Marie", "family_name": "Garagert", "email": "agaragert@gmail.com"},
    {"source": "loyalty_paris", "source_id": "A2", "given_name": "Annns Marie", "family_name": "Garagert",
     "email": "agaragert@gmail.com", "phone": "06 28 47 75 29", "street": "164 route Victor Hugo", "postcode": "88974"},
    {"source": "crm", "source_id": "B1", "given_name": "Anne-Marie", "family_name": "Garagert", "birth_date": "1949-06-29"},
    {"source": "ecommerce", "source_id": "B2", "given_name": "Anne-Marrie", "family_name": "Garagert",
     "street": "167 impasse du Général de Gaulle", "postcode": "60873"},
    {"source": "ecommerce", "source_id": "B3", "given_name": "Anne-Marie", "family_name": "Garagert", "phone": "06 39 54 86 73",
     "street": "167 impasse du Général de Gaulle", "postcode": "60873"},
    {"source": "callcenter", "source_id": "B4", "given_name": "Anne-Marie", "family_name": "Garagert", "phone": "06 39 54 86 73",
     "street": "167 impasse du Général de Gaulle", "birth_date": "1949-06-29"},
]  # fmt: skip

# (i, j, probability, resting on names alone), as the sweep's model scored them (the weak-link bar
# 0.970, the match threshold 0.99): each woman's records linked by an e-mail, an address, a phone or
# a birth date; four links across the two women resting on the name alone, two of them above the
# match threshold (a rare full name).
LINKS = [
    (0, 1, 0.99999, False), (2, 5, 0.99999, False), (3, 4, 0.99999, False), (3, 5, 0.99999, False), (4, 5, 0.99999, False),
    (0, 2, 0.9910, True), (0, 5, 0.9910, True), (0, 4, 0.9750, True), (1, 2, 0.9754, True),
]  # fmt: skip
# The first woman's loyalty record against the second woman's records holding a mobile or an
# address: another mobile, another postcode (no link; each plainly differs).
OWN_VALUES_DIFFER = {(1, 3), (1, 4), (1, 5)}


def _records(documents: list[dict[str, str]]) -> list[RecordFeatures]:
    return [features_from_document({"record_id": f"{d['source']}:{d['source_id']}", **d}) for d in documents]


def _clustered(records: list[RecordFeatures], differ: set[tuple[int, int]], links: list[Link] = LINKS) -> tuple[list[int], set[str]]:
    result = cluster_links(records, links, 0.970, lambda i, j: DIFFER if (i, j) in differ else AGREE)
    return result.labels, {h.rule for h in result.refused_links}


def test_two_namesakes_stay_apart_however_many_name_links_outnumber_a_mobile_and_a_postcode() -> None:
    labels, refused = _clustered(_records(GARAGERT), OWN_VALUES_DIFFER)
    assert labels[0] == labels[1] and labels[2] == labels[3] == labels[4] == labels[5]
    assert labels[0] != labels[2]
    assert NAMES_DISAGREE in refused  # kept as a possible match, with the reason


def test_a_persons_name_only_records_still_join_the_one_customer_they_fit() -> None:
    # The same woman's records, her loyalty card holding the e-mail alone: nothing of hers differs
    # from the customer's records, so the name links join the one customer the name fits.
    loyalty = {k: v for k, v in GARAGERT[1].items() if k not in ("phone", "street", "postcode")}
    labels, _ = _clustered(_records([GARAGERT[0], loyalty, *GARAGERT[2:]]), set())
    assert len(set(labels)) == 1


# One woman's loyalty card with an old mobile, beside what her customer's records hold too: her
# birth date (the card holds no address), or her postcode. A person's own history, not a namesake.
OLD_MOBILE = {k: v for k, v in GARAGERT[1].items() if k not in ("street", "postcode")}
OWN_HISTORY = {
    "her birth date": {**OLD_MOBILE, "birth_date": "1949-06-29"},
    "her postcode": {**OLD_MOBILE, "street": "167 impasse du Général de Gaulle", "postcode": "60873"},
}


@pytest.mark.parametrize("loyalty", OWN_HISTORY.values(), ids=OWN_HISTORY.keys())
def test_an_old_mobile_beside_what_the_customer_holds_leaves_the_decision_to_the_links(loyalty: dict[str, str]) -> None:
    # Her old mobile differs from the customer's two records holding the new one; her name links
    # (three or four) outvote those two pairs, as before the rule.
    records = _records([GARAGERT[0], loyalty, *GARAGERT[2:]])
    links = [link for link in LINKS if link[:2] != (1, 2) or "postcode" in loyalty]  # a birth date's pair is no name link
    labels, _ = _clustered(records, {(1, 4), (1, 5)}, links)
    assert len(set(labels)) == 1


def test_a_customer_who_moved_is_joined_by_her_name_links_despite_her_old_address() -> None:
    # Her loyalty card holds her e-mail and the address she left, in another département; no mobile.
    # A household shares a place and a person leaves it: the place alone differing is no namesake's
    # mark, and her name links outvote the two records of her new address as before.
    moved = {k: v for k, v in GARAGERT[1].items() if k != "phone"}
    labels, _ = _clustered(_records([GARAGERT[0], moved, *GARAGERT[2:]]), {(1, 3), (1, 4)})
    assert len(set(labels)) == 1
