"""A customer's profile: what segment conditions and action rules are written over — a few golden
fields, the household, the consents and the figures of their interactions — as one flat document.

The same mapping (analyzers.index_settings.PROFILE_PROPERTIES) serves the profiles index (one
document per customer, with the segments it is in) and the percolator index holding the conditions,
so a condition naming a field the profile does not have is refused by OpenSearch when it is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from search.events.model import CustomerFigures

# Customers' fields a profile is built from (the customers index).
CUSTOMER_FIELDS = [
    "customer_id",
    "records",
    "civility",
    "birth_date",
    "postcode",
    "city",
    "country",
    "sources",
    "record_count",
    "household_key",
    "restricted",
    "consents_granted",
    "consents_refused",
]
ADULT_AGE = 18


def _born_on(birth_date: str | None) -> date | None:
    if not birth_date:
        return None
    try:
        return date.fromisoformat(birth_date[:10])
    except ValueError:
        return None


def age_on(birth_date: str | None, today: date) -> int | None:
    born = _born_on(birth_date)
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def birthday_after(birth_date: str | None, today: date, years: int = 0) -> date | None:
    """The first birthday strictly after `today` (at least the `years`-th): when an age computed
    today changes. A 29 February birthday falls on 1 March in other years."""
    born = _born_on(birth_date)
    if born is None:
        return None
    year = max(today.year, born.year + years)
    while True:
        try:
            day = born.replace(year=year)
        except ValueError:
            day = date(year, 3, 1)
        if day > today:
            return day
        year += 1


def adult_on(birth_date: str | None) -> date | None:
    """The day a person born on `birth_date` turns ADULT_AGE."""
    return birthday_after(birth_date, date.min, ADULT_AGE)


@dataclass(frozen=True)
class Household:
    size: int = 1
    children: int = 0
    grows_up_on: date | None = None  # the day its eldest minor turns ADULT_AGE: `children` changes then


def household_hash(key: str | None) -> str | None:
    """A household's key in a profile: a hash, not the address it is made of."""
    return hashlib.sha256(key.encode()).hexdigest()[:20] if key else None


def valid_until(customer: dict[str, Any], figures: CustomerFigures, household: Household, now: datetime) -> datetime | None:
    """When this profile, computed at `now`, goes stale with time alone (no record, event or consent
    changing): the customer's next birthday (age), its household's eldest minor coming of age
    (children), an event leaving the 12 months (visits_12m, spend_12m). `days_since_seen` moves
    every day: see `with_current_day_count` and search.segments.daily."""
    days = [birthday_after(customer.get("birth_date"), now.date()), household.grows_up_on]
    moments = [datetime.combine(day, time.min, UTC) for day in days if day]
    if figures.window_ends:
        moments.append(figures.window_ends)
    return min(moments, default=None)


def with_current_day_count(profile: dict[str, Any], now: datetime) -> dict[str, Any]:
    """`profile` with `days_since_seen` as of `now` (a stored profile holds it as of when it was
    computed, unless a segment condition names it: search.segments.daily)."""
    if not profile.get("last_seen"):
        return profile
    return {**profile, "days_since_seen": (now - datetime.fromisoformat(profile["last_seen"])).days}


def profile_document(customer: dict[str, Any], figures: CustomerFigures, household: Household, now: datetime) -> dict[str, Any]:
    """The profile of one customer (customers-index document with CUSTOMER_FIELDS) at `now`."""
    postcode = customer.get("postcode")
    last_seen = figures.last_seen
    products = sorted(set(figures.products_held or []))
    profile: dict[str, Any] = {
        "customer_id": customer["customer_id"],
        "records": customer.get("records", []),
        "computed_at": now.isoformat(),
        "civility": customer.get("civility"),
        "birth_year": int(customer["birth_date"][:4]) if customer.get("birth_date") else None,
        "age": age_on(customer.get("birth_date"), now.date()),
        "postcode": postcode,
        "departement": (postcode[:3] if postcode.startswith("97") else postcode[:2]) if postcode else None,
        "city": customer.get("city"),
        "country": customer.get("country"),
        "sources": customer.get("sources", []),
        "record_count": customer.get("record_count", 0),
        "household": household_hash(customer.get("household_key")),
        "household_size": household.size,
        "children": household.children,
        "restricted": bool(customer.get("restricted")),
        "consents_granted": customer.get("consents_granted", []),
        "consents_refused": customer.get("consents_refused", []),
        "last_seen": last_seen.isoformat() if last_seen else None,
        "days_since_seen": (now - last_seen).days if last_seen else None,
        "visits_12m": int(figures.visits_12m or 0),
        "spend_12m": float(figures.spend_12m or 0),
        "shops": sorted(set(figures.shops or [])),
        "channels": sorted(set(figures.channels or [])),
        "products_held": products,
        "products_count": len(products),
        "valid_until": until.isoformat() if (until := valid_until(customer, figures, household, now)) else None,
    }
    return {k: v for k, v in profile.items() if v is not None}
