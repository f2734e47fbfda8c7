"""Following a merged-away customer id to the customer holding its records now.

Resolution writes one redirect per merge (search.resolve.store.write_redirects); a customer merged
into one that was itself merged later is followed along the chain. The steps are written once and
do no I/O (`_hops`): the resolution's synchronous client and the API's asynchronous one each run
the searches they ask for."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch

from search.indices import IndexNames

MAX_HOPS = 10

# Yields the search body of each hop and is sent that search's hits; returns the survivor or None.
Hops = Generator[dict[str, Any], list[dict[str, Any]], str | None]


def redirect_query(customer_id: str) -> dict[str, Any]:
    """The latest merge of `customer_id` into another customer."""
    return {
        "query": {"bool": {"filter": [{"term": {"old_id": customer_id}}, {"term": {"kind": "merge"}}]}},
        "sort": [{"at": "desc"}],
        "size": 1,
    }


def _hops(customer_id: str, max_hops: int) -> Hops:
    current = customer_id
    for _ in range(max_hops):
        hits = yield redirect_query(current)
        if not hits:
            break
        current = hits[0]["_source"]["new_id"]
    return current if current != customer_id else None


def redirect_target(client: OpenSearch, names: IndexNames, customer_id: str, max_hops: int = MAX_HOPS) -> str | None:
    """Where a merged-away customer id lives now (following merge chains), or None."""
    hops = _hops(customer_id, max_hops)
    try:
        body = next(hops)
        while True:
            body = hops.send(client.search(index=names.redirects, body=body, ignore_unavailable=True)["hits"]["hits"])
    except StopIteration as done:
        return done.value


async def redirect_target_async(client: AsyncOpenSearch, names: IndexNames, customer_id: str, max_hops: int = MAX_HOPS) -> str | None:
    """redirect_target through the API's asynchronous client."""
    hops = _hops(customer_id, max_hops)
    try:
        body = next(hops)
        while True:
            body = hops.send((await client.search(index=names.redirects, body=body, ignore_unavailable=True))["hits"]["hits"])
    except StopIteration as done:
        return done.value
