"""The 360 view's reads shared (search.coalesce), against a real node: concurrent searches go as one
msearch and concurrent gets as one mget, and every caller still gets its own answer — or the error
its own request would have had."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from opensearchpy import NotFoundError, OpenSearch, RequestError

from search.client import async_client
from search.coalesce import CoalescingClient
from settings import Settings


def _counting(client: Any) -> Counter[str]:
    """The client's reads counted by kind, as it sends them."""
    calls: Counter[str] = Counter()
    for name in ("search", "msearch", "mget", "get"):
        method = getattr(client, name)

        def counted(*args: Any, _method: Callable[..., Any] = method, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _method(*args, **kwargs)

        setattr(client, name, counted)
    return calls


@pytest.fixture(scope="module")
def small_index(opensearch: OpenSearch, test_prefix: str) -> str:
    index = f"{test_prefix}-coalesce-{uuid.uuid4().hex[:6]}"
    for id_, n in (("a", 1), ("b", 2)):
        opensearch.index(index=index, id=id_, body={"n": n, "word": f"w{n}"})
    opensearch.indices.refresh(index=index)
    return index


def test_concurrent_reads_share_one_msearch_and_one_mget_and_each_gets_its_own_answer(
    opensearch_settings: Settings, small_index: str
) -> None:
    async def scenario() -> tuple[list[Any], Counter[str]]:
        client = async_client(opensearch_settings)
        calls = _counting(client)
        batched = CoalescingClient(client)
        try:
            answers = await asyncio.gather(
                batched.search(index=small_index, body={"query": {"term": {"n": 1}}}),
                batched.search(index=small_index, body={"query": {"term": {"n": 2}}}),
                batched.search(index=small_index, body={"query": {"range": {"n": {"gte": "not a number"}}}}),
                batched.search(index=f"{small_index}-none", body={"query": {"match_all": {}}}, ignore_unavailable=True),
                batched.get(index=small_index, id="a", _source_includes="word"),
                batched.get(index=small_index, id="zz", ignore=[404]),
                batched.get(index=small_index, id="zz"),
                batched.mget(index=small_index, body={"ids": ["b", "a"]}, _source_includes="n"),
                return_exceptions=True,
            )
        finally:
            await client.close()
        return answers, calls

    answers, calls = asyncio.run(scenario())
    one, two, malformed, unavailable, got, absent, missing, both = answers
    assert [hit["_id"] for hit in one["hits"]["hits"]] == ["a"]
    assert [hit["_id"] for hit in two["hits"]["hits"]] == ["b"]
    assert isinstance(malformed, RequestError)  # its own 400, its neighbours unharmed
    assert unavailable["hits"]["hits"] == []
    assert got["found"] and got["_source"] == {"word": "w1"}
    assert absent["found"] is False
    assert isinstance(missing, NotFoundError)
    assert [(doc["_id"], doc["_source"]) for doc in both["docs"]] == [("b", {"n": 2}), ("a", {"n": 1})]
    assert calls == Counter({"msearch": 1, "mget": 1})


def test_a_lone_search_goes_as_it_is(opensearch_settings: Settings, small_index: str) -> None:
    async def scenario() -> tuple[dict[str, Any], Counter[str]]:
        client = async_client(opensearch_settings)
        calls = _counting(client)
        try:
            answer = await CoalescingClient(client).search(index=small_index, body={"query": {"term": {"n": 2}}})
        finally:
            await client.close()
        return answer, calls

    answer, calls = asyncio.run(scenario())
    assert [hit["_id"] for hit in answer["hits"]["hits"]] == ["b"]
    assert calls == Counter({"search": 1})


def test_a_caller_cancelled_while_its_search_is_held_leaves_the_others_of_its_batch_answered(
    opensearch_settings: Settings, small_index: str
) -> None:
    async def scenario() -> tuple[list[Any], bool]:
        client = async_client(opensearch_settings)
        batched = CoalescingClient(client)
        try:
            searches = [asyncio.create_task(batched.search(index=small_index, body={"query": {"term": {"n": n}}})) for n in (1, 2, 1)]
            await asyncio.sleep(0)  # each has handed its search to the batch, not yet sent
            searches[1].cancel()
            answers = await asyncio.wait_for(asyncio.gather(searches[0], searches[2]), timeout=10)
            return answers, searches[1].cancelled()
        finally:
            await client.close()

    (first, third), cancelled = asyncio.run(scenario())
    assert cancelled
    assert [hit["_id"] for hit in first["hits"]["hits"]] == ["a"]
    assert [hit["_id"] for hit in third["hits"]["hits"]] == ["a"]


def test_reads_that_wait_on_a_late_answer_go_with_the_next_round_not_in_one_of_their_own(
    opensearch_settings: Settings, small_index: str
) -> None:
    # The 360 view: the customer's get answers first and the household's search follows it; the
    # segments' percolation answers later and the action rules follow it. Both follow-ups must go
    # in one round trip, however late the second answer (here 0.3 s late, as on a loaded node).
    async def scenario() -> tuple[list[Any], Counter[str]]:
        client = async_client(opensearch_settings)
        calls = _counting(client)
        search = client.search

        async def late_search(*args: Any, **kwargs: Any) -> Any:
            answer = await search(*args, **kwargs)
            await asyncio.sleep(0.3)
            return answer

        client.search = late_search
        batched = CoalescingClient(client)

        async def after_the_get() -> Any:
            await batched.get(index=small_index, id="a")
            return await batched.search(index=small_index, body={"query": {"term": {"n": 1}}})

        async def after_the_late_search() -> Any:
            await batched.search(index=small_index, body={"query": {"term": {"n": 2}}})
            return await batched.search(index=small_index, body={"query": {"term": {"n": 2}}})

        try:
            answers = await asyncio.gather(after_the_get(), after_the_late_search())
        finally:
            await client.close()
        return answers, calls

    (first, second), calls = asyncio.run(scenario())
    assert [hit["_id"] for hit in first["hits"]["hits"]] == ["a"]
    assert [hit["_id"] for hit in second["hits"]["hits"]] == ["b"]
    assert calls == Counter({"mget": 1, "search": 1, "msearch": 1})
