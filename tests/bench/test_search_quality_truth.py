"""The look-up benchmark's truth (bench/search_quality): which answers count as right when what
was typed fits several customers as well, and which people a verified birth date can confirm.
Pure: no node."""

from __future__ import annotations

from typing import Any

import pytest

from bench.crowds import Crowd, by_chance_at, ceiling_at, crowd_of
from bench.search_quality import Person, Recall, _explained, _verifiable, fits_as_well


def _person(given: str = "Jean", family: str = "Gautier", city: str = "Lyon") -> Person:
    return Person("P1", given, family, "1975-03-02", records={"crm:1"}, city=city)


def test_a_customer_the_prefixes_fit_as_well_counts_as_an_equally_right_answer() -> None:
    person = _person()
    assert fits_as_well(["jea", "gau"], person, {"given_name": "Jeanne", "family_name": "Gauthier"}, None)
    # A whole word must stay whole, and a word that begins nothing of theirs fits nothing.
    assert not fits_as_well(["jean", "gautier"], person, {"given_name": "Jeanne", "family_name": "Gautier"}, None)
    assert not fits_as_well(["jea", "gau"], person, {"given_name": "Jean", "family_name": "Dupont"}, None)


def test_a_customer_fitting_only_with_names_swapped_is_counted_apart_not_as_an_equal() -> None:
    # The counter types names both ways, but the engine weighs given and family names differently:
    # Gaultier Jeannin is no equal of Jean Gautier for "jea gau", only a swapped-order one.
    swapped_names = {"given_name": "Gaultier", "family_name": "Jeannin"}
    assert not fits_as_well(["jea", "gau"], _person(), swapped_names, None)
    assert fits_as_well(["jea", "gau"], _person(), swapped_names, None, swapped=True)
    recall = Recall()
    recall.add([1], namesake_first=False, as_good=[False, True], swapped=[True, False])
    assert (recall.first_or_as_good, recall.swapped_above) == (0, 1)


def test_a_town_typed_fits_only_a_customer_living_there() -> None:
    person = _person()
    assert fits_as_well(["jean", "lyon"], person, {"given_name": "Jean", "family_name": "Martin", "city": "Lyon"}, None)
    assert not fits_as_well(["jean", "lyon"], person, {"given_name": "Jean", "family_name": "Martin", "city": "Paris"}, None)


def test_with_a_shop_named_only_its_cardholders_fit_as_well() -> None:
    customer = {"given_name": "Jean", "family_name": "Gautier", "loyalty_cards": [{"source": "loyalty_nantes"}]}
    assert fits_as_well(["jean", "gautier"], _person(), customer, "nantes")
    assert not fits_as_well(["jean", "gautier"], _person(), customer, "lyon2")


def test_a_typo_is_never_explained_so_only_the_person_is_right() -> None:
    assert _explained(["jea", "gau"], _person())
    assert not _explained(["jean", "gautoer"], _person())


def test_equally_right_answers_count_only_when_all_above_the_person_fit_as_well() -> None:
    recall = Recall()
    recall.add([2], namesake_first=False, as_good=[True, True, True])  # two equals above: 1 in 3 at 1
    recall.add([2], namesake_first=False, as_good=[True, False, True])  # a worse fit above: wrong at 1, right at 5
    assert (recall.first_or_as_good, recall.top5_or_as_good) == (1 / 3, 2)
    assert (recall.first, recall.top5) == (0, 2)


def test_a_person_not_listed_is_wrong_however_many_equals_are() -> None:
    recall = Recall()
    recall.add([], namesake_first=False, as_good=[True] * 10)
    assert (recall.first_or_as_good, recall.top5_or_as_good) == (0, 0)


def test_a_person_behind_nine_equals_counts_as_one_in_ten_at_1() -> None:
    recall = Recall()
    recall.add([9], namesake_first=False, as_good=[True] * 10)
    assert (recall.first_or_as_good, recall.top5_or_as_good) == (0.1, 0.5)


def test_a_birth_date_no_record_holds_is_not_asked_to_be_verified() -> None:
    held, missing = _person(), _person()
    held.record_birth_dates = {"1975-03-02"}
    missing.record_birth_dates = {"1975-03-12"}  # a slipped digit in every record
    assert _verifiable(held) and not _verifiable(missing)


def test_every_family_of_kinds_names_kinds_the_benchmark_draws() -> None:
    # A family naming a kind that no longer exists would print a recall over fewer look-ups, silently.
    from bench.search_quality import FAMILIES, QUERIES

    assert all(kind in QUERIES for kinds in FAMILIES.values() for kind in kinds)
    assert len({kind for kinds in FAMILIES.values() for kind in kinds}) == sum(len(kinds) for kinds in FAMILIES.values())


def test_a_familys_recall_merges_its_kinds_look_ups() -> None:
    from bench.search_quality import _merged, _pair

    found = {
        "family + town": Recall(sent=4, first=2, top5=4, ceiling1=3, ceiling5=4),
        "given + town": Recall(sent=6, first=6, top5=6, ceiling1=6, ceiling5=6),
    }
    merged = _merged(found, ("family + town", "given + town", "given family + town"))
    assert (merged.sent, merged.first, merged.top5) == (10, 8, 10)
    assert _pair(merged) == "0.800 / 1.000 ≤ 0.900 / 1.000 (10)" and _pair(Recall()) == "–"


def _hit(records: list[str], given: str = "Jeanne", family: str = "Martin") -> dict[str, Any]:
    return {"_id": records[0], "_source": {"records": records, "given_name": given, "family_name": family}}


def test_a_crowd_of_four_people_caps_recall_at_1_to_one_in_four_whatever_the_ranking() -> None:
    # "mart je": the person (two customers: her records split), two other Jeanne Martins, and a
    # third whose records split in two: six customers, four people.
    owners = {"a1": "P1", "a2": "P1", "b": "P2", "c": "P3", "d1": "P4", "d2": "P4"}
    hits = [_hit(["a1"]), _hit(["a2"]), _hit(["b"]), _hit(["c"]), _hit(["d1"]), _hit(["d2"]), _hit(["e"], family="Dupont")]
    crowd = crowd_of(hits, {"a1", "a2"}, owners, lambda customer: customer["family_name"] == "Martin")
    assert (crowd.customers, crowd.own, crowd.persons) == (6, 2, 4)
    assert (ceiling_at(1, crowd), ceiling_at(5, crowd)) == (0.25, 1.0)
    # Shuffled, one of her two customers is first 2 times in 6, in the first five unless both are last.
    assert by_chance_at(1, crowd) == pytest.approx(2 / 6)
    assert by_chance_at(5, crowd) == 1.0


def test_a_person_only_they_fit_has_a_ceiling_of_one_and_one_the_search_misses_no_chance() -> None:
    alone = crowd_of([_hit(["a1"])], {"a1"}, {"a1": "P1"}, lambda customer: False)
    assert (ceiling_at(1, alone), by_chance_at(1, alone)) == (1.0, 1.0)
    missed = crowd_of([_hit(["b"]), _hit(["c"])], {"a1"}, {"b": "P2", "c": "P3"}, lambda customer: True)
    assert (missed.persons, by_chance_at(5, missed)) == (3, 0.0)
    assert ceiling_at(1, missed) == pytest.approx(1 / 3)


def test_the_ceilings_add_up_over_look_ups_and_a_look_up_alone_in_its_crowd_counts_one() -> None:
    recall = Recall()
    recall.add([0], namesake_first=False, as_good=[True], crowd=Crowd(customers=4, own=1, persons=4))
    recall.add([0], namesake_first=False, as_good=[True])  # a typo: the person alone is right
    assert (recall.ceiling1, recall.ceiling5, recall.chance1) == (1.25, 2.0, 1.25)


def test_a_date_no_record_of_the_person_holds_caps_the_verified_look_up_at_zero() -> None:
    # The counter verifying a birth date none of the person's records holds: the exact check must
    # not confirm them, so no answer can be right and the ceiling counts 0, not the 1 of a look-up
    # only the person fits.
    recall = Recall()
    recall.add([], namesake_first=False, as_good=[], crowd=Crowd(customers=1, own=0, persons=1, reachable=False))
    recall.add([0], namesake_first=False, as_good=[True])
    assert (recall.ceiling1, recall.ceiling5, recall.chance1) == (1.0, 1.0, 1.0)
