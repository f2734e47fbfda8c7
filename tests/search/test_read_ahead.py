"""A whole-index run reads its scroll pages ahead, in slices (search.read_ahead): every document
must come exactly once whatever the slicing, an error while reading must stop the run rather than
leave customers silently without a profile, and a run that stops early must not leave threads
reading behind it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import bulk

from search.indices import IndexNames
from search.read_ahead import ScrollIncomplete, in_lists, pages_ahead, read_ahead


def test_every_item_of_every_source_comes_once_in_its_source_order() -> None:
    got = list(read_ahead(iter(range(500)), iter(range(1000, 1300)), depth=3))

    assert sorted(got) == [*range(500), *range(1000, 1300)]
    assert [i for i in got if i < 1000] == list(range(500))


def test_an_error_while_reading_reaches_the_run_instead_of_ending_it_short() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ConnectionError("node gone")

    with pytest.raises(ConnectionError, match="node gone"):
        list(read_ahead(failing(), iter(range(10))))


def test_a_run_that_stops_early_leaves_no_thread_reading_behind_it() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            n += 1
            yield n

    before = {t for t in threading.enumerate() if t.name == "rcu-read-ahead"}
    items = read_ahead(endless(), endless())
    assert next(items) >= 1
    items.close()
    time.sleep(0.3)
    assert {t for t in threading.enumerate() if t.name == "rcu-read-ahead" and t.is_alive()} <= before


def test_in_lists_keeps_every_item_and_the_last_list_short() -> None:
    assert list(in_lists(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_sliced_scroll_read_ahead_gives_every_document_exactly_once(opensearch: OpenSearch, names: IndexNames) -> None:
    index = names.events + "-slices"
    opensearch.indices.create(index=index, body={"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    try:
        bulk(opensearch, ({"_index": index, "_id": f"e{i}", "_source": {"n": i}} for i in range(2_345)), refresh=True)

        for slices in (1, 2, 3):
            pages = list(pages_ahead(opensearch, index, {"query": {"match_all": {}}, "sort": ["_doc"]}, size=500, slices=slices))
            seen = [hit["_source"]["n"] for page in pages for hit in page]
            assert sorted(seen) == list(range(2_345)), slices
            assert all(len(page) <= 500 for page in pages)
    finally:
        opensearch.indices.delete(index=index)


def test_a_page_read_ahead_brings_each_document_s_id_and_source_only(opensearch: OpenSearch, names: IndexNames) -> None:
    # A whole-index run reads millions of hits: each one's index name, score and sort values are a
    # third of an event's bytes, written by the node and parsed by rcu for nothing.
    index = names.events + "-keys"
    opensearch.indices.create(index=index, body={"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    try:
        bulk(opensearch, ({"_index": index, "_id": f"e{i}", "_source": {"n": i}} for i in range(25)), refresh=True)

        pages = list(pages_ahead(opensearch, index, {"sort": [{"n": "desc"}]}, size=10))

        assert [len(page) for page in pages] == [10, 10, 5]
        assert [hit for page in pages for hit in page] == [{"_id": f"e{i}", "_source": {"n": i}} for i in reversed(range(25))]
    finally:
        opensearch.indices.delete(index=index)


def _open_scrolls(opensearch: OpenSearch) -> int:
    nodes = opensearch.nodes.stats(metric="indices", index_metric="search")["nodes"]
    return sum(node["indices"]["search"]["open_contexts"] for node in nodes.values())


def test_a_shard_that_fails_stops_the_reading_instead_of_ending_it_short(opensearch: OpenSearch, names: IndexNames) -> None:
    # A real shard failure: the query cannot be run on the index mapping `at` as a date, and runs
    # on the other. The node answers the hits of the shard that worked, as if they were all.
    working, failing = names.events + "-shard-ok", names.events + "-shard-ko"
    for index, kind in ((working, "keyword"), (failing, "date")):
        opensearch.indices.create(
            index=index,
            body={"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": {"properties": {"at": {"type": kind}}}},
        )
    try:
        bulk(opensearch, ({"_index": working, "_source": {"at": "pas une date"}} for _ in range(30)), refresh=True)
        opened = _open_scrolls(opensearch)

        with pytest.raises(ScrollIncomplete, match="1 of 2 shards answered"):
            list(pages_ahead(opensearch, f"{working},{failing}", {"query": {"term": {"at": "pas une date"}}}, size=10))

        assert _open_scrolls(opensearch) <= opened
    finally:
        opensearch.indices.delete(index=f"{working},{failing}")
