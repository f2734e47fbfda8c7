"""What the counter typed, read without a node: the parts beside the names (issue 17)."""

from __future__ import annotations

import pytest

from search.query_parser import QueryNotUnderstood, parse_query


@pytest.mark.parametrize(("typed", "departement"), [("dupont 33", "33"), ("dupont 2a", "2A"), ("martin 974", "974"), ("06 dupont", "06")])
def test_a_departement_beside_a_name_is_read_as_one(typed: str, departement: str) -> None:
    parsed = parse_query(typed)
    assert parsed.departement == departement and "departement" in parsed.kinds and departement.lower() not in parsed.names.lower()


@pytest.mark.parametrize("typed", ["dupont 96", "dupont 00", "louis 1975"])
def test_numbers_that_are_no_departement_stay_with_the_names(typed: str) -> None:
    assert parse_query(typed).departement == ""


def test_an_email_beside_a_name_is_read_as_an_email() -> None:
    parsed = parse_query("Jean Dupont Jean.Dupont@Free.fr")
    assert parsed.names == "Jean Dupont" and parsed.email == "jean.dupont@free.fr" and parsed.kinds == ["names", "email"]


@pytest.mark.parametrize("typed", ["02/03/1975", "1975-03-02", "2.3.1975"])
def test_a_date_alone_is_a_birth_date_not_a_card(typed: str) -> None:
    parsed = parse_query(typed)
    assert parsed.birth_date == "1975-03-02" and parsed.card == "" and parsed.kinds == ["birth_date"]


def test_an_impossible_date_beside_a_name_stays_a_word() -> None:
    parsed = parse_query("dupont 31/02/1975")
    assert parsed.birth_date == "" and "31/02/1975" in parsed.names


@pytest.mark.parametrize("typed", ["jean dupont 03/13/1975", "jean dupont 03-13-1975"])
def test_a_date_typed_month_first_is_read_month_first_when_day_first_is_impossible(typed: str) -> None:
    parsed = parse_query(typed)
    assert parsed.birth_date == "1975-03-13" and parsed.names == "jean dupont"


def test_a_date_real_both_ways_is_read_day_first() -> None:
    assert parse_query("jean dupont 03/02/1975").birth_date == "1975-02-03"


@pytest.mark.parametrize("typed", ["!!", "--", "..", "*?", "😀😀", "** //"])
def test_a_query_with_no_letter_or_digit_is_not_understood_rather_than_matching_anyone(typed: str) -> None:
    # "!!" was a name query that found a customer whose name folds to nothing (an emoji).
    with pytest.raises(QueryNotUnderstood, match="letter or digit"):
        parse_query(typed)


def test_punctuation_beside_a_name_is_not_a_name_word() -> None:
    assert parse_query("dupont !! jean").names == "dupont jean"
