"""A record holding only what a household shares — a loyalty card or a legacy line with the name,
the address and the landline, no e-mail, mobile or birth date — fits a father and the son named
after him alike (issue 16). When both have a customer, held apart by a never-merge rule, it joins
neither and is a possible match of both, in a full run, an incremental run and in real time;
when only one customer fits it, or its card is one of theirs, it joins that one. Pure clustering
first, then a real node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

import numpy as np
import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.clustering import HOUSEHOLD_RECORD, cluster
from search.resolve.pipeline import resolve_all, resolve_since_last_run
from search.resolve.possible import AMBIGUOUS as AMBIGUOUS_KIND
from search.resolve.possible import REASONS
from search.resolve.store import ensure_resolution_indices, save_model, save_watermark
from tests.conftest import Ingest, Resolved, customer_assignment, groups_of, pushed_then_full_run
from tests.search.resolve.test_father_and_son import FATHER, IDS, MAUELOUX, SON, STREET, _features
from tests.search.resolve.test_possible_matches import _relations

# A card of a third shop holding the name, the address and the household's landline: the father's
# or the son's, nobody can tell.
CARD = {"source": "loyalty_lyon", "source_id": "DX1", "given_name": "David", "family_name": "Maueloux", "phone": "05 49 21 36 80",
        "loyalty_card": "LYO7730184452", **STREET}  # fmt: skip
CARD_ID = "loyalty_lyon:DX1"
STORY = [*MAUELOUX, CARD]
STORY_IDS = [*IDS, CARD_ID]


def _clustered(documents: list[dict[str, Any]], probability: float = 0.9999) -> tuple[list[int], Any]:
    """Every pair of the records linked at `probability` (the name, the street and, for some, the
    landline agree), each man's own records more strongly (his e-mail)."""
    records = _features(documents)
    pairs = np.array(list(combinations(range(len(records)), 2)))
    owner = [r.email for r in records]
    probabilities = np.array([0.999999 if owner[i] and owner[i] == owner[j] else probability for i, j in pairs.tolist()])
    result = cluster(records, pairs, np.log2(probabilities / (1 - probabilities)), probabilities, threshold=0.99, max_cluster_size=20)
    return result.labels, result


def test_a_card_holding_only_household_values_joins_neither_the_father_nor_his_namesake_son() -> None:
    labels, result = _clustered(STORY)
    by_id = dict(zip(STORY_IDS, labels, strict=True))
    father, son, card = {by_id[r] for r in FATHER}, {by_id[r] for r in SON}, by_id[CARD_ID]
    assert len(father) == len(son) == 1 and father != son
    assert card not in father | son
    pairs = list(combinations(range(len(STORY)), 2))
    held = {frozenset(labels[i] for i in pairs[h.pair]) for h in result.ambiguous_links if h.rule == HOUSEHOLD_RECORD}
    assert held == {frozenset((card, *father)), frozenset((card, *son))}


def test_a_household_card_joins_the_only_customer_it_fits_or_the_one_whose_card_it_holds() -> None:
    father_only = [d for d in STORY if f"{d['source']}:{d['source_id']}" not in SON]
    labels, _ = _clustered(father_only)
    assert len(set(labels)) == 1  # nobody else to be: it is his
    # The father's loyalty record holds the same card: the card tells.
    story = [dict(d) for d in STORY]
    story[2]["loyalty_card"] = CARD["loyalty_card"]
    labels, _ = _clustered(story)
    by_id = dict(zip(STORY_IDS, labels, strict=True))
    assert by_id[CARD_ID] == by_id["crm:DM1"] != by_id["crm:DS1"]


def _held_apart_as_a_household_record(opensearch: OpenSearch, names: IndexNames, customer: dict[str, str]) -> None:
    """The card is its own customer, a possible match of the father's and of the son's, with the reason."""
    father, son, card = customer["crm:DM1"], customer["crm:DS1"], customer[CARD_ID]
    assert len({father, son, card}) == 3
    relations = _relations(opensearch, names)
    for other in (father, son):
        relation = relations[frozenset((card, other))]
        assert (relation["kind"], relation["rule"]) == (AMBIGUOUS_KIND, HOUSEHOLD_RECORD)
        assert relation["reason"] == REASONS[HOUSEHOLD_RECORD]


@pytest.mark.parametrize("order", [STORY_IDS, STORY_IDS[::-1]], ids=["card-last", "card-first"])
def test_a_household_card_pushed_in_real_time_joins_neither_namesake_as_a_full_run_decides(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = pushed_then_full_run(STORY, order, resolved, opensearch, ingest, names)
    expected = {frozenset(FATHER), frozenset(SON), frozenset({CARD_ID})}
    assert groups_of(real_time, STORY_IDS) == groups_of(full_run, STORY_IDS) == expected
    _held_apart_as_a_household_record(opensearch, names, full_run)


def test_an_incremental_run_holds_a_household_card_apart_from_both_namesakes(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ensure_resolution_indices(opensearch, names)
    save_model(opensearch, names, resolved.model)  # nine records are too few to train a model
    save_watermark(opensearch, names, datetime.now(UTC) - timedelta(minutes=1))
    ingest(MAUELOUX)
    resolve_since_last_run(opensearch, names, resolved.config)
    save_watermark(opensearch, names, datetime.now(UTC) - timedelta(seconds=1))
    ingest([CARD])  # the card arrives in a later batch
    report = resolve_since_last_run(opensearch, names, resolved.config)
    customer = customer_assignment(opensearch, names)
    assert groups_of(customer, STORY_IDS) == {frozenset(FATHER), frozenset(SON), frozenset({CARD_ID})}
    assert report.possible_matches >= 2
    _held_apart_as_a_household_record(opensearch, names, customer)
    # A full run decides alike.
    resolve_all(opensearch, names, resolved.config, retrain=False)
    assert groups_of(customer_assignment(opensearch, names), STORY_IDS) == groups_of(customer, STORY_IDS)


# Two household-only records, each with a typo of its own: the father's legacy line (no card) and
# the son's card, the card his loyalty record holds (bench.corruption, typo rate 0.2 and 0.35:
# "Jean Franncois Garilot" and "Jean Gariloot" became one group that joined the son by the card).
SON_CARD = "LIL5521907734"
LEGACY_LINE = {"source": "legacy", "source_id": "DX2", "given_name": "David", "family_name": "Mauelloux", "phone": "05 49 21 36 80", **STREET}  # fmt: skip
SONS_CARD = {"source": "loyalty_lille", "source_id": "DX3", "given_name": "David", "family_name": "Maueloox", "phone": "05 49 21 36 80",
             "loyalty_card": SON_CARD, **STREET}  # fmt: skip
TWO_TYPOS = [*[dict(d, loyalty_card=SON_CARD) if d["source_id"] == "DS4" else d for d in MAUELOUX], LEGACY_LINE, SONS_CARD]
TWO_TYPOS_IDS = [*IDS, "legacy:DX2", "loyalty_lille:DX3"]


def test_two_household_records_are_checked_against_the_customers_before_they_group() -> None:
    labels, _ = _clustered(TWO_TYPOS)
    by_id = dict(zip(TWO_TYPOS_IDS, labels, strict=True))
    # The son's card joins him by its card; the father's line, fitting both men, joins neither.
    assert by_id["loyalty_lille:DX3"] == by_id["crm:DS1"] != by_id["crm:DM1"]
    assert by_id["legacy:DX2"] not in {by_id["crm:DS1"], by_id["crm:DM1"]}


@pytest.mark.parametrize("order", [TWO_TYPOS_IDS, TWO_TYPOS_IDS[::-1]], ids=["cards-last", "cards-first"])
def test_the_father_s_legacy_line_never_joins_the_son_through_the_son_s_card(
    order: list[str], resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    real_time, full_run = pushed_then_full_run(TWO_TYPOS, order, resolved, opensearch, ingest, names)
    expected = {frozenset(FATHER), frozenset({*SON, "loyalty_lille:DX3"}), frozenset({"legacy:DX2"})}
    assert groups_of(real_time, TWO_TYPOS_IDS) == groups_of(full_run, TWO_TYPOS_IDS) == expected


def test_an_incremental_run_checks_each_later_household_record_before_grouping_them(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    ensure_resolution_indices(opensearch, names)
    save_model(opensearch, names, resolved.model)
    save_watermark(opensearch, names, datetime.now(UTC) - timedelta(minutes=1))
    ingest(TWO_TYPOS[: len(IDS)])
    resolve_since_last_run(opensearch, names, resolved.config)
    save_watermark(opensearch, names, datetime.now(UTC) - timedelta(seconds=1))
    ingest([LEGACY_LINE, SONS_CARD])  # both arrive in a later batch
    resolve_since_last_run(opensearch, names, resolved.config)
    expected = {frozenset(FATHER), frozenset({*SON, "loyalty_lille:DX3"}), frozenset({"legacy:DX2"})}
    assert groups_of(customer_assignment(opensearch, names), TWO_TYPOS_IDS) == expected
