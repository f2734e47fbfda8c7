"""Reading a whole index while this process works on what it has read: scroll pages produced in
background threads, so that the node answers the next page (or the next search) while Python sums
up, builds and serializes the last one.

Why: a whole-index run (the first `rcu segments`) used to alternate — the node working while
Python waited for its answer, then Python working while the node waited for the next request — so
its wall time was the node's CPU plus Python's (1M customers, session 14: 88 s for 98 µs of rcu
CPU and 109 µs of node CPU per customer, ≈ 201 µs of wall). With the reading done ahead, the two
overlap on two cores. A scroll split into slices (OpenSearch's sliced scroll) lets the node serve
two pages at once while Python is busy with neither.

Order: pages of several sources (slices) arrive interleaved; a caller whose result depends on
order must not use more than one.

Consumers close what they read ahead (`contextlib.closing`) rather than leave it to the garbage
collector: a consumer's error keeps its frames, and with them the generator, alive in the
traceback, and the producers would go on holding their threads and scroll contexts."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from typing import Any, TypeVar

from opensearchpy import OpenSearch

T = TypeVar("T")

# Items produced ahead per source before a producer waits for the consumer: bounds the memory a
# slow consumer lets pile up (a few scroll pages) while keeping the node busy.
_DEPTH = 2
_DONE = object()
# What a scroll page brings: each hit's id and source, and what says the page is whole. Not each
# hit's index name, score and sort values — a third of an event's bytes, serialized by the node
# and parsed here for nothing (parsing the pages was 11% of a first `rcu segments` run's CPU in
# this process: py-spy, 100,000 synthetic customers, ≈ 3 events each, session 16).
_PAGE_KEYS = "_scroll_id,_shards,timed_out,hits.hits._id,hits.hits._source"


class ScrollIncomplete(Exception):
    """A page of a scroll came without the answer of every shard (a shard failed or timed out):
    what was read is not the whole index, and a run over it would treat the missing documents as
    gone (profiles deleted as stale, figures summed short)."""

    def __init__(self, index: str, answered: int, total: int, why: str) -> None:
        super().__init__(
            f"reading {index} stopped: {answered} of {total} shards answered{why}; "
            "run the same command again once every shard answers (cluster health green)"
        )
        self.index = index


def _complete(index: str, response: dict[str, Any]) -> dict[str, Any]:
    """`response`, a scroll page, if every shard answered it in time (as opensearchpy.helpers.scan
    checks: successful + skipped = total); ScrollIncomplete otherwise."""
    shards = response.get("_shards") or {}
    answered, total = shards.get("successful", 0) + shards.get("skipped", 0), shards.get("total", 0)
    if answered < total or shards.get("failed") or response.get("timed_out"):
        reasons = sorted({str((failure.get("reason") or {}).get("type")) for failure in shards.get("failures") or []})
        why = (", timed out" if response.get("timed_out") else "") + (f" ({', '.join(reasons)})" if reasons else "")
        raise ScrollIncomplete(index, answered, total, why)
    return response


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(*sources: Iterable[T], depth: int = _DEPTH) -> Generator[T, None, None]:
    """The items of every source, each source iterated in a thread of its own, at most `depth`
    items ahead of the consumer per source. An error in a source is raised to the consumer; a
    consumer that stops early stops the producers (at their next item)."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth * max(len(sources), 1))
    stopping = threading.Event()

    def put(item: object) -> bool:
        while not stopping.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce(source: Iterable[T]) -> None:
        try:
            for item in source:
                if not put(item):
                    return
        except Exception as error:  # noqa: BLE001 — handed to the consumer, raised there
            put(_Failed(error))
        finally:
            # A source stopped early is closed here, in its thread: a scroll clears its context now.
            close = getattr(source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
            put(_DONE)

    threads = [threading.Thread(target=produce, args=(source,), daemon=True, name="rcu-read-ahead") for source in sources]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = handoff.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield item
    finally:
        stopping.set()
        for thread in threads:
            thread.join(timeout=30)


def in_lists(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def scroll_pages(
    client: OpenSearch, index: str, body: dict[str, Any], size: int, scroll: str = "5m", sliced: tuple[int, int] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The hits of a scroll over `index`, a page (up to `size` hits) at a time; `sliced` =
    (slice id, slices) reads one slice of a sliced scroll. The scroll is cleared at the end, or
    when the consumer stops early. A page some shard did not answer raises ScrollIncomplete."""
    request = {**body, "size": size, **({"slice": {"id": sliced[0], "max": sliced[1]}} if sliced and sliced[1] > 1 else {})}
    response = client.search(index=index, body=request, scroll=scroll, filter_path=_PAGE_KEYS)
    scroll_id = response.get("_scroll_id")
    try:
        # Every page, the last (empty) one too: a shard failing mid-scroll answers no more hits.
        while hits := _complete(index, response).get("hits", {}).get("hits"):
            yield hits
            response = client.scroll(body={"scroll_id": scroll_id, "scroll": scroll}, filter_path=_PAGE_KEYS)
            scroll_id = response.get("_scroll_id", scroll_id)
    finally:
        if scroll_id:
            client.clear_scroll(body={"scroll_id": [scroll_id]}, ignore=(404,))


def pages_ahead(
    client: OpenSearch, index: str, body: dict[str, Any], size: int, slices: int = 1
) -> Generator[list[dict[str, Any]], None, None]:
    """Every page of a scroll over `index`, read ahead in `slices` threads (a sliced scroll when
    more than one): pages come in no particular order across slices. Close it (`contextlib.closing`)
    when the reading may stop early."""
    return read_ahead(*(scroll_pages(client, index, body, size, sliced=(i, slices)) for i in range(slices)))
