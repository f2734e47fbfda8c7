"""A son named after his father ("père et fils") is never merged with him (issue 16): one full name,
one address, one landline, but each his own e-mail and mobile. In a full run and in real time,
whatever order the records arrive in; and one man whose e-mail holds a typo and whose mobile is
written another way stays one customer. Pure functions first, then a real node."""

from __future__ import annotations

import numpy as np
import pytest
from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.normalize import normalize_record
from search.indices import IndexNames
from search.resolve.clustering import BIRTH_DATES, cluster
from search.resolve.config import ResolutionConfig
from search.resolve.explain import explain_pair
from search.resolve.features import RecordFeatures, features_from_document
from search.resolve.personal import contacts_differ, personal_evidence
from tests.conftest import Ingest, Resolved, groups_of, pushed_then_full_run

STREET = {"street": "31 boulevard des Vignes", "postcode": "79514", "city": "Mont-sur-Seine"}
# The father's records hold his e-mail and his mobile; the son's his own, and his birth date on one
# of them (bench.corruption, father namesakes 0.3: "David Maueloux" was one customer). Every pair
# of them agrees on the full name, the street and the household's landline.
MAUELOUX = [
    {"source": "crm", "source_id": "DM1", "given_name": "David", "family_name": "Maueloux", "email": "david.maueloux17@gmail.com",
     "phone": "06 63 85 80 27", **STREET},
    {"source": "ecommerce", "source_id": "DM2", "given_name": "David", "family_name": "Maueloux",
     "email": "david.maueloux17@gmail.com", **STREET},
    {"source": "loyalty_paris", "source_id": "DM3", "given_name": "David", "family_name": "Maueloux", "phone": "05 49 21 36 80",
     "email": "david.maueloux17@gmail.com", **STREET},
    {"source": "crm", "source_id": "DS1", "given_name": "David", "family_name": "Maueloux", "birth_date": "2004-09-01",
     "email": "dmaueloux@gmail.com", "phone": "06 29 66 94 75", **STREET},
    {"source": "ecommerce", "source_id": "DS2", "given_name": "David", "family_name": "Maueloux", "email": "dmaueloux@gmail.com",
     **STREET},
    {"source": "callcenter", "source_id": "DS3", "given_name": "David", "family_name": "Maueloux", "email": "dmaueloux@gmail.com",
     "phone": "06 29 66 94 75", **STREET},
    {"source": "loyalty_lille", "source_id": "DS4", "given_name": "David", "family_name": "Maueloux", "phone": "05 49 21 36 80",
     "email": "dmaueloux@gmail.com", **STREET},
]  # fmt: skip
FATHER = {"crm:DM1", "ecommerce:DM2", "loyalty_paris:DM3"}
SON = {"crm:DS1", "ecommerce:DS2", "callcenter:DS3", "loyalty_lille:DS4"}
IDS = [f"{d['source']}:{d['source_id']}" for d in MAUELOUX]

# One man: his e-mail typed with one letter wrong and at his old provider, his mobile with two
# digits swapped and written the French way, his landline.
VIGNAUD = [
    {"source": "crm", "source_id": "AV1", "given_name": "Arnaud", "family_name": "Vignaud", "email": "arnaud.vignaud64@wanadoo.fr",
     "phone": "+33 6 12 48 75 93", **STREET},
    {"source": "ecommerce", "source_id": "AV2", "given_name": "Arnaud", "family_name": "Vignaud", "email": "arnaud.vignaud64@orange.fr",
     "phone": "06.12.48.57.93", **STREET},
    {"source": "callcenter", "source_id": "AV3", "given_name": "Arnaud", "family_name": "Vignaud", "email": "arnaud.vigmaud64@orange.fr",
     **STREET},
]  # fmt: skip
VIGNAUD_IDS = [f"{d['source']}:{d['source_id']}" for d in VIGNAUD]


def _features(documents: list[dict[str, str]]) -> list[RecordFeatures]:
    """Each record as resolution reads it, normalized as ingestion writes it."""
    return [features_from_document(normalize_record(SourceRecord.model_validate(d)).document) for d in documents]


def test_a_father_and_his_namesake_son_are_two_people_by_their_own_e_mails_and_mobiles() -> None:
    records = dict(zip(IDS, _features(MAUELOUX), strict=True))
    father, son = [records[r] for r in sorted(FATHER)], [records[r] for r in sorted(SON)]
    cross = [personal_evidence(f, s) for f in father for s in son]
    assert contacts_differ(cross, father, son)
    # Within each man's records, something personal agrees: never two people.
    dm1, dm2 = records["crm:DM1"], records["ecommerce:DM2"]
    assert not contacts_differ([personal_evidence(dm1, dm2)], [dm1], [dm2])
    # The landline both hold is the household's: neither agreement nor a difference.
    landline = personal_evidence(records["loyalty_paris:DM3"], records["loyalty_lille:DS4"])
    assert landline.emails_differ and not landline.mobiles_differ and not landline.agrees


def test_one_man_who_changed_mobile_and_mailbox_years_ago_is_not_two_people_by_them() -> None:
    # The same two groups, all of the first seen before any of the second: one man before and
    # after he changed both (bench.corruption, 20-year timelines); seen over one period, two men.
    records = dict(zip(IDS, _features(MAUELOUX), strict=True))
    father, son = [records[r] for r in sorted(FATHER)], [records[r] for r in sorted(SON)]
    cross = [personal_evidence(f, s) for f in father for s in son]
    for year, record in zip((2009, 2010, 2011), father, strict=True):
        record.updated_at = f"{year}-03-01T10:00:00+00:00"
    for year, record in zip((2018, 2020, 2022, 2024), son, strict=True):
        record.updated_at = f"{year}-06-01T10:00:00+00:00"
    assert not contacts_differ(cross, father, son)
    son[0].updated_at = "2010-06-01T10:00:00+00:00"
    assert contacts_differ(cross, father, son)


def test_a_typo_in_the_e_mail_a_provider_change_and_swapped_digits_are_not_differences() -> None:
    av1, av2, av3 = _features(VIGNAUD)
    for x, y in ((av1, av2), (av2, av3)):
        evidence = personal_evidence(x, y)
        assert evidence.agrees and not evidence.emails_differ and not evidence.mobiles_differ


def test_links_on_a_name_and_an_address_never_outvote_a_father_s_and_a_son_s_birth_dates() -> None:
    home = {"given_name": "Pierre", "family_name": "Quervellec", **STREET}
    documents = [
        {"source": "crm", "source_id": "F1", **home, "birth_date": "1962-05-04", "email": "pquervellec@free.fr"},
        {"source": "ecommerce", "source_id": "F2", **home, "email": "pquervellec@free.fr"},
        {"source": "crm", "source_id": "S1", **home, "birth_date": "1992-11-20"},
        {
            "source": "loyalty_paris",
            "source_id": "S2",
            **home,
            "birth_date": "1992-11-20",
        },  # his own: a card of household values only would fit both
    ]
    records = _features(documents)
    # Each man's records linked first (his e-mail; his name and street), then three links between
    # them resting on the name and the street alone, against one pair born thirty years apart.
    pairs = np.array([(0, 1), (2, 3), (0, 3), (1, 2), (1, 3), (0, 2)])
    probabilities = np.array([0.99999, 0.99998, 0.9999, 0.9999, 0.9999, 0.999])
    result = cluster(records, pairs, np.log2(probabilities / (1 - probabilities)), probabilities, threshold=0.99, max_cluster_size=10)
    assert result.labels[0] == result.labels[1] != result.labels[2] == result.labels[3]
    assert BIRTH_DATES in {h.rule for h in result.refused_links}  # a possible match, with its reason


def test_explain_says_a_father_and_his_namesake_son_are_two_people(resolved: Resolved) -> None:
    records = dict(zip(IDS, _features(MAUELOUX), strict=True))
    explanation = explain_pair(records["crm:DM1"], records["crm:DS1"], resolved.model, ResolutionConfig())
    assert explanation.decision == "different people"
    same_man = _features(VIGNAUD)
    assert explain_pair(same_man[0], same_man[1], resolved.model, ResolutionConfig()).decision != "different people"


@pytest.mark.parametrize("order", [IDS, IDS[::-1]], ids=["father-first", "son-first"])
def test_a_son_named_after_his_father_stays_his_own_customer_in_real_time_and_in_a_full_run(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = _pushed_then_full_run(MAUELOUX, order, resolved, opensearch, ingest, names)
    assert real_time == full_run == {frozenset(FATHER), frozenset(SON)}


@pytest.mark.parametrize("order", [VIGNAUD_IDS, VIGNAUD_IDS[::-1]], ids=["crm-first", "callcenter-first"])
def test_one_man_with_a_mistyped_e_mail_and_a_reformatted_mobile_stays_one_customer(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = _pushed_then_full_run(VIGNAUD, order, resolved, opensearch, ingest, names)
    assert real_time == full_run == {frozenset(VIGNAUD_IDS)}


# One man: his old e-mail and mobile in the CRM (2018), his new ones in the e-commerce (2022), and a
# loyalty record of 2024 holding his card only. Neither group of his records saw both contacts at
# once; the contact-less loyalty record says nothing of when he used the old ones.
HOME = {"given_name": "Gaëtan", "family_name": "Kerbrat-Loisel", "street": "8 rue des Lavandières", "postcode": "29870", "city": "Plouvien"}
KERBRAT = [
    {"source": "crm", "source_id": "GK1", **HOME, "email": "gaetan.kl1971@free.fr", "phone": "06 71 24 58 93",
     "updated_at": "2018-04-03T09:00:00Z"},
    {"source": "loyalty_paris", "source_id": "GK2", **HOME, "loyalty_card": "PAR4410932761", "updated_at": "2024-02-11T15:00:00Z"},
    {"source": "ecommerce", "source_id": "GK3", **HOME, "email": "gkerbrat.loisel@outlook.fr", "phone": "07 58 33 20 46",
     "updated_at": "2022-09-20T18:00:00Z"},
]  # fmt: skip
KERBRAT_IDS = [f"{d['source']}:{d['source_id']}" for d in KERBRAT]

# One man whose mailbox, made of his names, moved from wanadoo.fr to gmail.com, as did his mobile.
PROVIDER_CHANGE = [
    {"source": "crm", "source_id": "JQ1", "given_name": "Jean", "family_name": "Quervellec", "email": "jean.quervellec@wanadoo.fr",
     "phone": "06 44 17 82 35", **STREET},
    {"source": "ecommerce", "source_id": "JQ2", "given_name": "Jean", "family_name": "Quervellec",
     "email": "jean.quervellec@gmail.com", "phone": "07 62 90 13 58", **STREET},
]  # fmt: skip
PROVIDER_CHANGE_IDS = [f"{d['source']}:{d['source_id']}" for d in PROVIDER_CHANGE]


def test_a_record_without_contacts_does_not_stretch_a_man_s_period_over_his_change_of_contacts() -> None:
    crm, loyalty, ecommerce = _features(KERBRAT)
    old, new = [crm, loyalty], [ecommerce]
    assert not contacts_differ([personal_evidence(x, y) for x in old for y in new], old, new)
    # Contact-holding records seen over one period (here one day) are two men seen together.
    crm.updated_at = ecommerce.updated_at
    assert contacts_differ([personal_evidence(x, y) for x in old for y in new], old, new)
    # An undated one may date from any time: seen together, a possible match for a steward.
    crm.updated_at = ""
    assert contacts_differ([personal_evidence(x, y) for x in old for y in new], old, new)


def test_a_mailbox_made_of_the_names_at_another_provider_is_no_difference_of_person() -> None:
    old, new = _features(PROVIDER_CHANGE)
    evidence = personal_evidence(old, new)
    assert not evidence.emails_differ and evidence.mobiles_differ
    assert not contacts_differ([evidence], [old], [new])


def test_explain_weighs_personal_contacts_over_the_customers_the_clustering_formed(resolved: Resolved) -> None:
    records = dict(zip(IDS, _features(MAUELOUX), strict=True))
    father, son = [records[r] for r in sorted(FATHER)], [records[r] for r in sorted(SON)]
    # Two records holding an e-mail each: alone they cannot say two people; their customers can.
    dm2, ds2 = records["ecommerce:DM2"], records["ecommerce:DS2"]
    assert explain_pair(dm2, ds2, resolved.model, ResolutionConfig()).decision != "different people"
    assert explain_pair(dm2, ds2, resolved.model, ResolutionConfig(), (father, son)).decision == "different people"


def _pushed_then_full_run(
    documents: list[dict[str, str]], order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """The story's records grouped by customer after pushing them one at a time in `order`, then after a full run."""
    real_time, full_run = pushed_then_full_run(documents, order, resolved, opensearch, ingest, names)
    ids = [f"{d['source']}:{d['source_id']}" for d in documents]
    return groups_of(real_time, ids), groups_of(full_run, ids)


@pytest.mark.parametrize("order", [KERBRAT_IDS, KERBRAT_IDS[::-1]], ids=["crm-first", "ecommerce-first"])
def test_one_man_who_changed_contacts_stays_one_customer_beside_a_later_record_holding_only_his_card(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = _pushed_then_full_run(KERBRAT, order, resolved, opensearch, ingest, names)
    assert real_time == full_run == {frozenset(KERBRAT_IDS)}


@pytest.mark.parametrize("order", [PROVIDER_CHANGE_IDS, PROVIDER_CHANGE_IDS[::-1]], ids=["crm-first", "ecommerce-first"])
def test_one_man_whose_mailbox_moved_to_another_provider_stays_one_customer(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = _pushed_then_full_run(PROVIDER_CHANGE, order, resolved, opensearch, ingest, names)
    assert real_time == full_run == {frozenset(PROVIDER_CHANGE_IDS)}


@pytest.mark.parametrize("order", [IDS, IDS[::-1]], ids=["father-first", "son-first"])
def test_a_son_named_after_his_father_seen_over_the_same_years_stays_his_own_customer(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    # Both men's records dated over one period, each side's first before the other's last.
    years = {"crm:DM1": 2019, "ecommerce:DM2": 2022, "loyalty_paris:DM3": 2024, "crm:DS1": 2018, "ecommerce:DS2": 2021,
             "callcenter:DS3": 2023, "loyalty_lille:DS4": 2025}  # fmt: skip
    dated = [{**d, "updated_at": f"{years[record_id]}-05-01T10:00:00Z"} for record_id, d in zip(IDS, MAUELOUX, strict=True)]
    real_time, full_run = _pushed_then_full_run(dated, order, resolved, opensearch, ingest, names)
    assert real_time == full_run == {frozenset(FATHER), frozenset(SON)}
