"""When a stored profile goes stale with time alone (pure: no node)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from search.events.model import CustomerFigures
from search.segments.profiles import Household, adult_on, birthday_after, valid_until

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _figures(window_ends: datetime | None = None) -> CustomerFigures:
    return CustomerFigures(None, 0, 0.0, [], [], [], 0, window_ends)


def test_a_profile_goes_stale_at_the_first_of_a_birthday_a_minor_coming_of_age_and_an_event_leaving_the_year() -> None:
    customer = {"birth_date": "1961-03-02"}
    assert valid_until(customer, _figures(), Household(), NOW) == datetime(2027, 3, 2, tzinfo=UTC)
    grows_up = Household(3, 1, date(2027, 1, 15))
    assert valid_until(customer, _figures(), grows_up, NOW) == datetime(2027, 1, 15, tzinfo=UTC)
    leaves = NOW + timedelta(days=20)
    assert valid_until(customer, _figures(leaves), grows_up, NOW) == leaves
    assert valid_until({}, _figures(), Household(), NOW) is None


def test_a_birthday_today_counts_from_the_next_year_and_29_february_falls_on_1_march() -> None:
    assert birthday_after("1980-11-27", NOW.date()) == date(2027, 11, 27)
    assert birthday_after("2000-02-29", date(2026, 11, 27)) == date(2027, 3, 1)
    assert birthday_after("2000-02-29", date(2027, 11, 27)) == date(2028, 2, 29)
    assert adult_on("2010-02-28") == date(2028, 2, 28)
    assert birthday_after("not a date", NOW.date()) is None
