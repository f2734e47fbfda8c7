"""A customer's timeline of interactions across systems: newest first, a page at a time.

Pages are cut with `search_after` on (time, event key), so a page never repeats or skips an event
whatever was stored meanwhile; the cursor handed to the caller is that sort position, opaque."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch

from search.events.figures import record_filter
from search.indices import IndexNames

MAX_PAGE = 100
# What every reader of the timeline sees of an event; free-text attributes only with `attributes`.
EVENT_FIELDS = (
    "event_key",
    "source",
    "event_id",
    "type",
    "at",
    "record_id",
    "shop",
    "channel",
    "amount",
    "currency",
    "products",
    "offer",
    "action",
    "outcome",
    "reason",
)


class InvalidCursor(ValueError):
    """A timeline cursor this API did not hand out."""


@dataclass(frozen=True)
class TimelinePage:
    events: list[dict[str, Any]]
    next: str | None  # the cursor of the next (older) page, None on the last one


def encode_cursor(sort: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(sort))).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        position = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidCursor("not a timeline cursor") from None
    if not (isinstance(position, list) and len(position) == 2 and isinstance(position[0], int) and isinstance(position[1], str)):
        raise InvalidCursor("not a timeline cursor")
    return position


def timeline_body(record_ids: Sequence[str], size: int, after: str | None, with_attributes: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [record_filter(record_ids)]}},
        "size": size + 1,  # one more tells whether an older page exists
        "sort": [{"at": "desc"}, {"event_key": "desc"}],
        "_source": [*EVENT_FIELDS, *(["attributes"] if with_attributes else [])],
        "track_total_hits": False,
    }
    if after:
        body["search_after"] = decode_cursor(after)
    return body


async def customer_records(client: AsyncOpenSearch, names: IndexNames, customer_id: str) -> list[str] | None:
    """The customer's current record ids, or None when there is no such customer."""
    response = await client.get(index=names.customers, id=customer_id, _source_includes="records", ignore=[404])
    return list(response["_source"].get("records") or []) if response.get("found") else None


async def timeline_page(
    client: AsyncOpenSearch, names: IndexNames, record_ids: Sequence[str], size: int, after: str | None, with_attributes: bool
) -> TimelinePage:
    """One page of the events of `record_ids`, newest first, and the cursor of the next page."""
    if not record_ids:
        return TimelinePage([], None)
    body = timeline_body(record_ids, size, after, with_attributes)
    response = await client.search(index=names.events, body=body, ignore_unavailable=True, allow_no_indices=True)
    hits = response["hits"]["hits"]
    page = hits[:size]
    more = len(hits) > size
    return TimelinePage([hit["_source"] for hit in page], encode_cursor(page[-1]["sort"]) if more and page else None)
