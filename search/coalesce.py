"""One page's reads in fewer round trips: the searches and multi-gets that the concurrent tasks of
one request issue together go to the node as one `_msearch` and one `_mget`.

The 360 view reads a customer's household, possible matches, timeline and figures at once, each
from its own module (search.lookup, search.events). Every request costs both processes CPU
whatever it asks — the API's HTTP client writing and reading a socket, the node parsing and
dispatching it — and on two cores a view's CPU is its latency under load (bench/RESULTS.md,
session 11). `CoalescingClient` wraps the API's asynchronous client for one request: a search or
a multi-get is held for a few turns of the event loop (the tasks started by nested
`asyncio.gather`s issue theirs a turn or two apart), then everything held goes as one request and
each caller gets its own answer — or the exception its own request would have raised. A lone
search or multi-get goes as it is; a round goes only once the round before it has landed (what
its answers lead callers to ask goes with it). Everything else is the wrapped client's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import HTTP_EXCEPTIONS, NotFoundError, TransportError

# Loop turns a read is held for: the deepest nesting of gathers on the 360 view's path is three
# (route → search.lookup.customer_360 → search.events.view → search.events.figures), one turn each.
HELD_TURNS = 4
# Search parameters an _msearch header line carries; a search with any other goes on its own.
_HEADER_PARAMS = frozenset({"ignore_unavailable", "allow_no_indices", "routing", "preference", "search_type", "expand_wildcards"})


def _exception(status: int, error: Any) -> Exception:
    kind = error.get("type", "") if isinstance(error, dict) else str(error)
    return HTTP_EXCEPTIONS.get(status, TransportError)(status, kind, {"error": error, "status": status})


class CoalescingClient:
    """An AsyncOpenSearch whose concurrent searches and multi-gets share round trips (module docstring)."""

    def __init__(self, client: AsyncOpenSearch, held_turns: int = HELD_TURNS) -> None:
        self._client = client
        self._held_turns = held_turns
        self._searches: list[tuple[dict[str, Any], dict[str, Any], asyncio.Future[Any]]] = []
        self._gets: list[tuple[list[dict[str, Any]], asyncio.Future[Any]]] = []
        self._scheduled = False
        self._flushing: set[asyncio.Task[None]] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def search(self, body: Any = None, index: Any = None, **params: Any) -> Any:
        if not set(params) <= _HEADER_PARAMS or not isinstance(body, dict):
            return await self._client.search(body=body, index=index, **params)
        header = {**({"index": index} if index is not None else {}), **params}
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._searches.append((header, body, future))
        self._schedule()
        return await future

    async def mget(self, body: Any = None, index: Any = None, **params: Any) -> Any:
        docs = self._docs(body, index, params)
        if not docs:  # not one to share, or nothing asked (answered as the node answers it)
            return await self._client.mget(body=body, index=index, **params)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._gets.append((docs, future))
        self._schedule()
        return await future

    async def get(self, index: Any, id: Any, **params: Any) -> Any:
        """A document by id, read by the multi-get of its turn."""
        ignored = params.pop("ignore", ())
        ignored = (ignored,) if isinstance(ignored, int) else tuple(ignored)
        docs = self._docs({"ids": [id]}, index, params)
        if not docs:
            return await self._client.get(index=index, id=id, **params, **({"ignore": list(ignored)} if ignored else {}))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._gets.append((docs, future))
        self._schedule()
        try:
            (doc,) = (await future)["docs"]
        except NotFoundError:  # the index itself is missing
            if 404 not in ignored:
                raise
            return {"_index": index, "_id": id, "found": False}
        if not doc.get("found") and 404 not in ignored:
            raise NotFoundError(404, "not_found", doc)
        return doc

    @staticmethod
    def _docs(body: Any, index: Any, params: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The documents of a multi-get, each naming its index and fields; None: not one to share."""
        if not isinstance(body, dict) or not set(params) <= {"_source_includes"}:
            return None
        includes = params.get("_source_includes")
        fields = includes.split(",") if isinstance(includes, str) else includes
        source = {"_source": {"includes": list(fields)}} if fields else {}
        if "ids" in body and index is not None:
            return [{"_index": index, "_id": id_, **source} for id_ in body["ids"]]
        if "docs" in body and not fields:
            return [doc if "_index" in doc or index is None else {**doc, "_index": index} for doc in body["docs"]]
        return None

    def _schedule(self) -> None:
        if self._scheduled:
            return
        self._scheduled = True
        loop = asyncio.get_running_loop()

        def turn(left: int) -> Callable[[], None]:
            def step() -> None:
                if left:
                    loop.call_soon(turn(left - 1))
                else:
                    self._scheduled = False
                    task = loop.create_task(self._flush())
                    self._flushing.add(task)  # held until done: the loop keeps only a weak reference
                    task.add_done_callback(self._flushing.discard)

            return step

        loop.call_soon(turn(self._held_turns))

    async def _flush(self) -> None:
        # A round goes once the round before it has landed, and takes everything asked meanwhile:
        # a read that needs an earlier answer (the 360 view's action rules need the segments found,
        # the household's search needs the customer) joins the next round instead of making one
        # of its own when the earlier answers come back at different times.
        earlier = [task for task in self._flushing if task is not asyncio.current_task() and not task.done()]
        if earlier:
            await asyncio.wait(earlier)
            for _ in range(self._held_turns):  # the callers those answers woke ask theirs
                await asyncio.sleep(0)
        searches, self._searches = self._searches, []
        gets, self._gets = self._gets, []
        await asyncio.gather(self._send_searches(searches), self._send_gets(gets))

    async def _send_searches(self, searches: list[tuple[dict[str, Any], dict[str, Any], asyncio.Future[Any]]]) -> None:
        if len(searches) == 1:
            header, body, future = searches[0]
            await _settle(future, self._client.search(body=body, **header))
            return
        if not searches:
            return
        lines: list[dict[str, Any]] = []
        for header, body, _future in searches:
            lines += [header, body]
        try:
            responses = (await self._client.msearch(body=lines))["responses"]
        except Exception as error:  # noqa: BLE001 - the whole request failed: every caller hears of it, as it would have
            for *_, future in searches:
                _fail(future, error)
            return
        for (_header, _body, future), response in zip(searches, responses, strict=True):
            if "error" in response:
                _fail(future, _exception(response.get("status", 500), response["error"]))
            else:
                _answer(future, response)

    async def _send_gets(self, gets: list[tuple[list[dict[str, Any]], asyncio.Future[Any]]]) -> None:
        if not gets:
            return
        docs = [doc for wanted, _future in gets for doc in wanted]
        try:
            found = (await self._client.mget(body={"docs": docs}))["docs"]
        except Exception as error:  # noqa: BLE001 - the whole request failed: every caller hears of it
            for _wanted, future in gets:
                _fail(future, error)
            return
        start = 0
        for wanted, future in gets:
            mine = found[start : start + len(wanted)]
            start += len(wanted)
            failed = next((doc["error"] for doc in mine if "error" in doc), None)
            if failed is not None:  # as a multi-get of its own would have failed (an index missing)
                _fail(future, _exception(404 if failed.get("type") == "index_not_found_exception" else 400, failed))
            else:
                _answer(future, {"docs": mine})


async def _settle(future: asyncio.Future[Any], call: Any) -> None:
    try:
        result = await call
    except Exception as error:  # noqa: BLE001 - handed to the caller whose request it was
        _fail(future, error)
    else:
        _answer(future, result)


# A caller may be cancelled while its read is held or in flight (a client gone, a timeout): its
# future is then done, and settling it would raise and leave the batch's other callers waiting.
def _answer(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
