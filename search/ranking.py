"""What a look-up adds to a customer's score beyond the names typed: a birth date (ranked for a
role that searches birth dates, only checked for one that may verify them) and the agent's shop.
The customers index keeps what these clauses need beside the golden record and no role reads:
every birth date of a customer's records and when each shop last updated its record of them
(search.resolve.store.searched_only)."""

from __future__ import annotations

from datetime import date
from typing import Any

from analyzers.dates import mistyped_dates

# What a birth date typed beside the names adds to a customer holding it (name scores run from
# about 10 to 100, a whole name typed adds 25): more than a whole name, so among namesakes the one
# born that day comes first and a one-typo name with the right date passes an exact name with
# another; a date the customer or the agent may have mistyped (day and month swapped, one digit)
# adds less. Measured on the demo generator and the independent corruption model (bench/search_quality,
# "name + birth date, searching role" and "… mistyped date", 2026-11-27).
BIRTH_DATE_BOOST = 50.0
MISTYPED_BIRTH_DATE_BOOST = 20.0


def birth_date_ranking(born: str) -> list[dict[str, Any]]:
    """Clauses rewarding the customers whose records hold the date typed, or one it may be a typo
    of, for a role that searches birth dates: a date ranks, it never hides a customer (the golden
    record may hold no date, or another source's)."""
    near = mistyped_dates(date.fromisoformat(born))
    clauses: list[dict[str, Any]] = [
        {"constant_score": {"filter": {"term": {"birth_dates": {"value": born, "_name": "birth_date"}}}, "boost": BIRTH_DATE_BOOST}}
    ]
    if near:
        clauses.append(
            {"constant_score": {"filter": {"terms": {"birth_dates": near, "_name": "birth_date_near"}}, "boost": MISTYPED_BIRTH_DATE_BOOST}}
        )
    return clauses


def birth_date_check(born: str) -> dict[str, Any]:
    """The filter a role that may only verify birth dates gets: the customers one of whose records
    holds exactly that date. Unnamed and unscored, so nothing says it matched; exact, so each try
    confirms or refutes one date, never a neighbourhood."""
    return {"term": {"birth_dates": born}}


# What holding the agent's shop's loyalty card adds to a customer's score: less than a whole name
# typed (25), so among namesakes the shop's own customer comes first, but a customer whose name was
# typed whole still comes before a cardholder matching only a prefix. Measured on the demo
# generator and the independent corruption model (bench/search_quality, "shop namesakes":
# cardholder first 0.49 → 0.85 and 0.43 → 0.74, 2026-11-27).
SHOP_BOOST = 10.0
# What a record of the shop updated recently adds on top, at most: the customer seen in this shop
# lately is more likely the one in front of the agent than another cardholder of the same name.
# Decays by half every SHOP_VISIT_HALF_LIFE. Below a whole name typed, like SHOP_BOOST.
# bench/search_quality ("shop namesakes, seen recently"), 2026-11-27. The 90-day half-life is a
# choice (a shop's regular comes back within a season), not estimated: neither data set holds real
# visit intervals, and that benchmark rewards the assumption it measures.
SHOP_VISIT_BOOST = 10.0
SHOP_VISIT_HALF_LIFE = "90d"


def shop_preference(shop: str) -> list[dict[str, Any]]:
    """Bonuses for the customers holding `shop`'s loyalty card (source loyalty_<shop>), more for
    those whose record of that shop was updated recently."""
    visit = {
        "function_score": {
            "query": {"term": {"shop_visits.shop": shop}},
            # The weight here, not as the nested query's boost: OpenSearch leaves that one out of the score.
            "functions": [
                {"exp": {"shop_visits.at": {"origin": "now", "scale": SHOP_VISIT_HALF_LIFE, "decay": 0.5}}, "weight": SHOP_VISIT_BOOST}
            ],
            "boost_mode": "replace",
        }
    }
    return [
        {"constant_score": {"filter": {"term": {"loyalty_cards.source": f"loyalty_{shop}"}}, "boost": SHOP_BOOST}},
        {"nested": {"path": "shop_visits", "query": visit, "score_mode": "max"}},
    ]
