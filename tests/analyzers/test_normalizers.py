"""The normalizers integrators rely on: every shape a source writes lands on one value, or a reason."""

from __future__ import annotations

from datetime import date

import pytest

from analyzers.addresses import normalize_postcode, normalize_street, street_key
from analyzers.dates import mistyped_dates, parse_birth_date, parse_date, parse_timestamp
from analyzers.emails import normalize_email
from analyzers.errors import InvalidValue
from analyzers.names import compact_name, fold_name, normalize_name
from analyzers.phones import mask_phone, to_e164
from analyzers.phonetic import french_phonetic

PHONE_SHAPES = ["0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+33612345678", "+33 6 12 34 56 78"]


@pytest.mark.parametrize("shape", PHONE_SHAPES)
def test_every_french_phone_shape_lands_on_one_e164(shape: str) -> None:
    assert to_e164(shape) == "+33612345678"


def test_a_belgian_number_uses_the_record_country() -> None:
    assert to_e164("0470 12 34 56", "BE") == "+32470123456"


@pytest.mark.parametrize("bad", ["12345", "abc", "06 12", ""])
def test_an_unusable_phone_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        to_e164(bad)
    assert refused.value.reason


def test_counter_mask_shows_only_first_and_last_two_digits() -> None:
    assert mask_phone("+33612345678") == "06 •• •• •• 78"


@pytest.mark.parametrize("shape", ["1980-05-17", "17/05/1980", "17-05-1980", "19800517", "17.05.1980"])
def test_dates_in_every_source_shape_parse_to_one_day(shape: str) -> None:
    assert parse_date(shape) == date(1980, 5, 17)


@pytest.mark.parametrize(
    ("raw", "why"),
    [("31/02/1980", "impossible"), ("17/05/80", "two-digit year"), ("May 17th", "unrecognised"), ("1980-13-01", "impossible")],
)
def test_dates_are_never_guessed(raw: str, why: str) -> None:
    with pytest.raises(InvalidValue, match=why):
        parse_date(raw)


def test_a_mapping_date_format_is_used_exactly() -> None:
    assert parse_date("05/17/1980", "%m/%d/%Y") == date(1980, 5, 17)
    with pytest.raises(InvalidValue):
        parse_date("17/05/1980", "%m/%d/%Y")


def test_birth_dates_in_the_future_or_before_1900_are_refused() -> None:
    with pytest.raises(InvalidValue, match="future"):
        parse_birth_date("2030-01-01", today=date(2026, 11, 23))
    with pytest.raises(InvalidValue, match="1900"):
        parse_birth_date("1850-01-01")


def test_timestamps_without_zone_are_utc() -> None:
    assert parse_timestamp("2024-03-01T10:15:00").isoformat() == "2024-03-01T10:15:00+00:00"
    assert parse_timestamp("2024-03-01T10:15:00+01:00").isoformat() == "2024-03-01T09:15:00+00:00"


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Jean.Dupont@Example.FR ") == "jean.dupont@example.fr"


@pytest.mark.parametrize("bad", ["jean.dupont@", "jean dupont@example.fr", "@example.fr", "jean"])
def test_malformed_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        normalize_email(bad)


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("DUPONT", "Dupont"),
        ("jean-pierre", "Jean-Pierre"),
        ("DE LA FONTAINE", "de La Fontaine"),
        ("D'ARTAGNAN", "d'Artagnan"),
        ("McDonald", "McDonald"),
        ("  Hélène   Lefèvre ", "Hélène Lefèvre"),
        ("l’Hôpital", "l'Hôpital"),
    ],
)
def test_names_get_their_usual_casing_and_keep_particles_and_hyphens(raw: str, display: str) -> None:
    assert normalize_name(raw) == display


def test_folded_names_ignore_accents_case_and_elided_articles() -> None:
    assert fold_name("Hélène") == fold_name("HELENE") == "helene"
    assert fold_name("l'Hôpital") == "hopital"
    assert compact_name("l'Hôpital") == compact_name("Lhopital") == "lhopital"
    assert compact_name("De La Fontaine") == compact_name("Delafontaine")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Lefèvre", "Lefebvre"),
        ("Dupont", "Dupond"),
        ("Laurent", "Lorant"),
        ("Christophe", "Kristof"),
        ("Rousseau", "Rouseau"),
        ("Gauthier", "Gautier"),
        ("Philippe", "Filipe"),
        ("Leclercq", "Leclerc"),
        ("Renaud", "Reno"),
    ],
)
def test_names_that_sound_alike_in_french_share_a_phonetic_key(first: str, second: str) -> None:
    assert french_phonetic(first) == french_phonetic(second)


@pytest.mark.parametrize(("first", "second"), [("Martin", "Bernard"), ("Dupont", "Durand"), ("Marie", "Mario")])
def test_different_names_keep_different_phonetic_keys(first: str, second: str) -> None:
    assert french_phonetic(first) != french_phonetic(second)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 av. Jean Jaurès", "12 avenue Jean Jaurès"),
        ("3 bd Voltaire", "3 boulevard Voltaire"),
        ("5 r. de la Paix", "5 rue de la Paix"),
        ("8 pl. St-Michel", "8 place Saint-Michel"),
        ("14 Rue Ste Catherine", "14 Rue Sainte Catherine"),
        ("3 rue du Lot", "3 rue du Lot"),
        ("12 bis av Foch", "12 bis avenue Foch"),
    ],
)
def test_street_types_are_spelled_out(raw: str, expected: str) -> None:
    assert normalize_street(raw) == expected


def test_street_keys_match_abbreviated_and_spelled_out_addresses() -> None:
    assert street_key("12 av. Jean-Jaurès") == street_key("12 AVENUE JEAN JAURES")


def test_postcodes_are_checked_and_a_lost_leading_zero_restored() -> None:
    assert normalize_postcode("75011") == "75011"
    assert normalize_postcode("1000") == "01000"
    for bad in ("99000", "750", "ABCDE", "00100", "750011"):
        with pytest.raises(InvalidValue):
            normalize_postcode(bad)
    assert normalize_postcode("1000", "BE") == "1000"


def test_mistyped_dates_hold_the_swap_of_day_and_month_one_wrong_digit_and_two_swapped() -> None:
    near = mistyped_dates(date(1983, 11, 23), today=date(2026, 11, 27))
    assert {"1983-11-28", "1983-11-13", "1938-11-23", "1984-11-23"} <= set(near)
    assert "1983-11-23" not in near and all(d <= "2026-11-27" for d in near)
    assert "1961-09-04" in mistyped_dates(date(1961, 4, 9), today=date(2026, 11, 27))  # day and month swapped


def test_mistyped_dates_are_real_dates_between_1900_and_today() -> None:
    near = mistyped_dates(date(1901, 2, 28), today=date(2026, 11, 27))
    assert all(date.fromisoformat(d).year >= 1900 for d in near) and "1901-02-29" not in near


def test_a_name_shows_only_what_is_visible_no_bidi_override_nul_or_stacked_marks() -> None:
    # A bidi override (U+202E) displays the rest of the line reversed on the counter screen; a NUL
    # or a zero-width space makes two identical-looking names differ; stacked marks hide letters.
    assert normalize_name("\u202eJean") == "Jean"
    assert normalize_name("Du\u200bpont\x00") == "Dupont"
    assert normalize_name("Du\r\nPont") == "Du Pont"
    assert normalize_name("Du" + "\u0301" * 40 + "pont") == "Dú\u0301\u0301pont"  # ú and two marks: Lithuanian i̇̀ has two
    assert normalize_name("Nguyễn Lê Thị Ánh") == "Nguyễn Lê Thị Ánh"  # Vietnamese keeps its two marks
    assert normalize_name("Zoë Lefèvre-Œillet") == "Zoë Lefèvre-Œillet"
    assert normalize_street("5 rue\u2066 des Lilas\u2069") == "5 rue des Lilas"


def test_one_line_of_frances_numbering_plan_has_a_form_under_each_of_its_country_codes() -> None:
    from analyzers.phones import same_line_forms

    reunion = same_line_forms("+262693282987")
    assert reunion == same_line_forms("+33693282987") and {"+33693282987", "+262693282987", "+596693282987"} <= set(reunion)
    # Numbers of other plans, and numbers that are not nine national digits, stay alone.
    assert same_line_forms("+4915112345678") == ["+4915112345678"]
    assert same_line_forms("+3312345") == ["+3312345"]
