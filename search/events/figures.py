"""A customer's interactions summed up: last seen, visits and spend over 12 months, shops and
channels used, and the offers they hold.

Read through the customer's records (the record → customer link), never a customer id stored on
events, so figures follow merges and splits at once. Definitions (README, "Interactions"):
- `last_seen`: the time of the customer's latest event of any type;
- `visits_12m`: distinct (day, shop) pairs with a visit or a purchase in the 365 days before `now`
  (a purchase is made during a visit; a visit and a purchase the same day in one shop are one);
- `spend_12m`: the amounts of purchases and web orders in the same 365 days;
- `shops`, `channels`: every shop and channel of the stored events (kept for the retention period);
- `products_held`: per offer, the latest statement wins — a `subscription` or `cancellation` event
  at its time, or a record's holding attribute (settings `events_holding_attributes`) at the
  record's `updated_at`.

The request body and the reading of its answer are written once (`figures_body`,
`figures_from`): the CLI's synchronous client and the API's asynchronous one each run the search."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch

from search.events.model import HOLDING_TYPES, SPENDING_TYPES, VISIT_TYPES, CustomerFigures
from search.indices import IndexNames

YEAR = timedelta(days=365)
MAX_TERMS = 100  # shops, channels, offers listed per customer at most
# Exact below this many distinct values (HyperLogLog++'s linear counting): far above a year of visits.
VISIT_PRECISION = 10_000


@dataclass(frozen=True)
class Holding:
    """One offer and what the latest statement about it says."""

    offer: str
    held: bool
    since: str  # when that statement was made (an event's time, a record's updated_at)
    source: str  # the system that said it
    via: str  # "event" or "attribute"

    def as_dict(self) -> dict[str, Any]:
        return {"offer": self.offer, "held": self.held, "since": self.since, "source": self.source, "via": self.via}


def record_filter(record_ids: Sequence[str]) -> dict[str, Any]:
    return {"terms": {"record_id": list(record_ids)}}


def figures_body(record_ids: Sequence[str], now: datetime) -> dict[str, Any]:
    """One search over the events family: every figure as an aggregation, no hit returned."""
    since = (now - YEAR).isoformat()
    in_year = {"range": {"at": {"gte": since, "lte": now.isoformat()}}}
    return {
        "query": {"bool": {"filter": [record_filter(record_ids)]}},
        "size": 0,
        "track_total_hits": True,
        "aggs": {
            "last_seen": {"max": {"field": "at"}},
            "visits": {
                "filter": {"bool": {"filter": [in_year, {"terms": {"type": list(VISIT_TYPES)}}]}},
                "aggs": {
                    "days": {"cardinality": {"field": "visit_day", "precision_threshold": VISIT_PRECISION}},
                    "first": {"min": {"field": "at"}},
                },
            },
            "spend": {
                "filter": {"bool": {"filter": [in_year, {"terms": {"type": list(SPENDING_TYPES)}}]}},
                "aggs": {"amount": {"sum": {"field": "amount"}}, "first": {"min": {"field": "at"}}},
            },
            "shops": {"terms": {"field": "shop", "size": MAX_TERMS}},
            "channels": {"terms": {"field": "channel", "size": MAX_TERMS}},
            "holdings": {
                "filter": {"terms": {"type": list(HOLDING_TYPES)}},
                "aggs": {
                    "offers": {
                        "terms": {"field": "offer", "size": MAX_TERMS},
                        "aggs": {
                            "latest": {
                                "top_hits": {
                                    "size": 1,
                                    "sort": [{"at": "desc"}, {"event_key": "desc"}],
                                    "_source": ["type", "at", "source"],
                                }
                            }
                        },
                    }
                },
            },
        },
    }


def attribute_offers(value: Any) -> list[str]:
    """An attribute's offers: a list of names, or one text of names separated by , or ;."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []


def holdings_from(aggregations: dict[str, Any] | None, records: Iterable[dict[str, Any]], attributes: Sequence[str]) -> list[Holding]:
    """Every offer the customer was ever said to hold, the latest statement deciding, held first."""
    latest: dict[str, Holding] = {}

    def consider(holding: Holding) -> None:
        known = latest.get(holding.offer)
        if known is None or holding.since > known.since:
            latest[holding.offer] = holding

    for record in records:
        for name in attributes:
            for offer in attribute_offers((record.get("attributes") or {}).get(name)):
                consider(Holding(offer, True, record.get("updated_at") or "", record.get("source", ""), "attribute"))
    buckets = ((aggregations or {}).get("holdings") or {}).get("offers", {}).get("buckets", [])
    for bucket in buckets:
        hit = bucket["latest"]["hits"]["hits"][0]["_source"]
        consider(Holding(bucket["key"], hit["type"] == "subscription", _utc(hit["at"]), hit.get("source", ""), "event"))
    return sorted(latest.values(), key=lambda h: (not h.held, h.offer))


def _utc(text: str) -> str:
    """An ISO instant in UTC, so statements from events and records compare as text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def window_ends(firsts: Iterable[str | None]) -> datetime | None:
    """When the 12-month figures next change as time passes alone: a year after the oldest visit
    or spending still inside the year (`first` of figures_body's `visits` and `spend`)."""
    oldest = min((instant for instant in map(_instant, firsts) if instant), default=None)
    return oldest + YEAR if oldest else None


def figures_from(response: dict[str, Any] | None, holdings: Sequence[Holding]) -> CustomerFigures:
    """The figures out of `figures_body`'s answer (None: no events stored at all)."""
    aggs = (response or {}).get("aggregations")
    if not aggs:
        return CustomerFigures(None, 0, 0.0, [], [], [h.offer for h in holdings if h.held], 0)
    last = aggs["last_seen"].get("value_as_string") or None
    return CustomerFigures(
        last_seen=datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None,
        visits_12m=int(aggs["visits"]["days"]["value"]),
        spend_12m=round(float(aggs["spend"]["amount"]["value"] or 0.0), 2),
        shops=sorted(bucket["key"] for bucket in aggs["shops"]["buckets"]),
        channels=sorted(bucket["key"] for bucket in aggs["channels"]["buckets"]),
        products_held=[h.offer for h in holdings if h.held],
        events=int(response["hits"]["total"]["value"]) if response else 0,
        window_ends=window_ends(aggs[name]["first"].get("value_as_string") for name in ("visits", "spend")),
    )


def _record_sources(attributes: Sequence[str]) -> str:
    return ",".join(["source", "updated_at", *(f"attributes.{name}" for name in attributes)])


def records_with_holdings(
    client: OpenSearch, names: IndexNames, record_ids: Sequence[str], attributes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """record id → its source, updated_at and holding attributes, for the records found."""
    if not record_ids:
        return {}
    response = client.mget(index=names.records, body={"ids": list(record_ids)}, _source_includes=_record_sources(attributes))
    return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}


def figures_of_records(
    client: OpenSearch, names: IndexNames, record_ids: Sequence[str], now: datetime, attributes: Sequence[str]
) -> tuple[CustomerFigures, list[Holding]]:
    """Figures and holdings of the customer holding `record_ids` (synchronous client)."""
    if not record_ids:
        return figures_from(None, []), []
    records = list(records_with_holdings(client, names, record_ids, attributes).values())
    response = None
    if client.indices.exists_alias(name=names.events):
        response = client.search(index=names.events, body=figures_body(record_ids, now))
    holdings = holdings_from((response or {}).get("aggregations"), records, attributes)
    return figures_from(response, holdings), holdings


async def figures_of_records_async(
    client: AsyncOpenSearch, names: IndexNames, record_ids: Sequence[str], now: datetime, attributes: Sequence[str]
) -> tuple[CustomerFigures, list[Holding]]:
    """figures_of_records through the API's asynchronous client."""
    if not record_ids:
        return figures_from(None, []), []
    # The records' holding attributes and the events' figures, read at the same time; the records
    # by a search of their ids (as search.lookup reads the 360 view's records: a multi-get's source
    # filter is compiled for every document).
    holding = {
        "query": {"ids": {"values": list(record_ids)}},
        "size": len(record_ids),
        "_source": {"includes": _record_sources(attributes).split(",")},
    }
    found, response = await asyncio.gather(
        client.search(index=names.records, body={**holding, "track_total_hits": False}),
        client.search(index=names.events, body=figures_body(record_ids, now), ignore_unavailable=True, allow_no_indices=True),
    )
    records = [hit["_source"] for hit in found["hits"]["hits"]]
    holdings = holdings_from(response.get("aggregations"), records, attributes)
    return figures_from(response, holdings), holdings
