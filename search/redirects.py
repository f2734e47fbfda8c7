"""Following a merged-away customer id to the customer holding its records now.

Resolution writes one redirect per merge (search.resolve.store.write_redirects); a customer merged
into one that was itself merged later is followed along the chain. The steps are written once and
do no I/O (`_hops`): the resolution's synchronous client and the API's asynchronous one each run
the searches they ask for."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames

MAX_HOPS = 10

# Yields the search body of each hop and is sent that search's hits; returns the survivor or None.
Hops = Generator[dict[str, Any], list[dict[str, Any]], str | None]


ERASED_MARKER = "{}>erased"  # the id of the redirect saying a customer id was erased (search.rights.erasure)
_GET_AT_MOST = 1000


def erased_among(client: OpenSearch, names: IndexNames, customer_ids: list[str]) -> set[str]:
    """Which of `customer_ids` were erased: a few by real-time gets, many against every marker."""
    if not customer_ids:
        return set()
    if len(customer_ids) <= _GET_AT_MOST:
        ids = [ERASED_MARKER.format(i) for i in customer_ids]
        docs = client.mget(index=names.redirects, body={"ids": ids}, _source=False, ignore=[404]).get("docs", [])
        return {doc["_id"].rsplit(">", 1)[0] for doc in docs if doc.get("found")}
    if not client.indices.exists(index=names.redirects):
        return set()
    client.indices.refresh(index=names.redirects)
    markers = scan(client, index=names.redirects, query={"query": {"term": {"kind": "erased"}}, "_source": ["old_id"]}, size=5000)
    return {hit["_source"]["old_id"] for hit in markers} & set(customer_ids)


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
