"""A pushed record is searchable by every process before its push answers: what a user relies on
must hold whatever the index's periodic refresh does, and whichever process (API worker, `rcu push`)
sends the next record. These tests stop the periodic refresh of the records index, so only what the
pushers do themselves can make a record a candidate (or stop it being one)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.ingest import Ingestion
from indexers.push import PUSH_THREADS, PushOutcome, RecordPusher
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.changes import read_changes
from search.events.attach import attach_events
from search.events.model import Event
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.resolve.realtime import RealTimeResolver
from tests.conftest import write_jsonl
from tests.stories import NEWCOMER, NEWCOMER_AT_THE_SHOP

SAME_PERSON = {**NEWCOMER_AT_THE_SHOP, "email": NEWCOMER["email"]}
LONE_NEWCOMER = {"source": "crm", "source_id": "L-1", "given_name": "Yvon", "family_name": "Kervarec", "birth_date": "1958-05-30"}


@pytest.fixture
def unrefreshed(opensearch: OpenSearch, test_prefix: str, tmp_path: Path) -> tuple[IndexNames, ResolutionConfig]:
    """A resolved index of two unrelated people whose records index never refreshes by itself."""
    names = IndexNames(f"{test_prefix}-unrefreshed-{uuid.uuid4().hex[:8]}")
    people: list[dict[str, Any]] = [
        {"source": "crm", "source_id": "1", "given_name": "Anne", "family_name": "Quéré", "birth_date": "1984-02-09"},
        {"source": "crm", "source_id": "2", "given_name": "Paul", "family_name": "Brard", "phone": "06 21 43 65 87"},
    ]
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(tmp_path / "two.jsonl", people)]))
    config = ResolutionConfig()
    resolve_all(opensearch, names, config)
    opensearch.indices.put_settings(index=names.records, body={"index": {"refresh_interval": "-1"}})
    return names, config


def _pusher(opensearch: OpenSearch, names: IndexNames, config: ResolutionConfig) -> RecordPusher:
    return RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))


def _assert_one_customer(opensearch: OpenSearch, names: IndexNames, first: PushOutcome, second: PushOutcome) -> None:
    """Both pushes answered the same customer, and its stored view holds exactly their two records."""
    assert first.customer_id and second.customer_id == first.customer_id
    view = opensearch.get(index=names.customers, id=first.customer_id)["_source"]
    assert set(view["records"]) == {first.record_id, second.record_id}


def test_a_pushed_record_is_searchable_and_found_by_the_next_push_of_the_same_person(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    first = pusher.push(SourceRecord.model_validate(NEWCOMER))
    assert opensearch.count(index=names.records, body={"query": {"ids": {"values": [first.record_id]}}})["count"] == 1
    second = pusher.push(SourceRecord.model_validate(SAME_PERSON))
    _assert_one_customer(opensearch, names, first, second)


def test_a_pushed_record_deleted_since_is_no_candidate_of_the_next_push(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    first = pusher.push(SourceRecord.model_validate(NEWCOMER))
    gone = pusher.push(SourceRecord.model_validate({**NEWCOMER, "deleted": True, "updated_at": "2026-11-20T10:00:02Z"}))
    assert gone.outcome == "deleted"
    second = pusher.push(SourceRecord.model_validate({**SAME_PERSON, "updated_at": "2026-11-20T10:00:03Z"}))
    assert second.customer_id and second.customer_id != first.customer_id
    view = opensearch.get(index=names.customers, id=second.customer_id)["_source"]
    assert view["records"] == [second.record_id]


def test_an_event_sent_by_e_mail_a_moment_after_its_record_was_pushed_reaches_that_record(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    pushed = _pusher(opensearch, names, config).push(SourceRecord.model_validate(NEWCOMER))
    event = Event("ecommerce", "order-1", datetime(2026, 11, 20, 10, 5, tzinfo=UTC), "purchase", identifier=("email", NEWCOMER["email"]))
    attachment = attach_events(opensearch, names, [event])[id(event)]
    assert (attachment.record_id, attachment.customer_id) == (pushed.record_id, pushed.customer_id)


def test_two_processes_pushing_two_records_of_one_person_back_to_back_make_one_customer(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    # Two API workers (or an API worker and `rcu push`): nothing held in one process helps the other.
    first = _pusher(opensearch, names, config).push(SourceRecord.model_validate(NEWCOMER))
    second = _pusher(opensearch, names, config).push(SourceRecord.model_validate(SAME_PERSON))
    _assert_one_customer(opensearch, names, first, second)


def test_a_record_deleted_by_a_push_never_comes_back_with_the_next_push_of_its_person(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    first = _pusher(opensearch, names, config).push(SourceRecord.model_validate(NEWCOMER))
    opensearch.indices.refresh(index=names.records)  # the record long searchable, as in production
    pusher = _pusher(opensearch, names, config)
    gone = pusher.push(SourceRecord.model_validate({**NEWCOMER, "deleted": True, "updated_at": "2026-11-20T10:00:02Z"}))
    assert gone.outcome == "deleted"
    second = pusher.push(SourceRecord.model_validate({**SAME_PERSON, "updated_at": "2026-11-20T10:00:03Z"}))
    assert second.customer_id
    view = opensearch.get(index=names.customers, id=second.customer_id)["_source"]
    assert view["records"] == [second.record_id]
    links = opensearch.mget(index=names.record_customers, body={"ids": [first.record_id]})["docs"]
    assert not any(link.get("found") and link["_source"]["customer_id"] == second.customer_id for link in links)


def test_a_record_re_pushed_under_a_new_family_name_keeps_it_when_the_next_record_joins(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    _pusher(opensearch, names, config).push(SourceRecord.model_validate(NEWCOMER))
    opensearch.indices.refresh(index=names.records)  # the first version long searchable
    pusher = _pusher(opensearch, names, config)
    married = pusher.push(SourceRecord.model_validate({**NEWCOMER, "family_name": "Le Bihan", "updated_at": "2026-11-21T10:00:00Z"}))
    assert married.outcome == "indexed"
    joining = {key: value for key, value in SAME_PERSON.items() if key != "family_name"}
    second = _pusher(opensearch, names, config).push(SourceRecord.model_validate({**joining, "updated_at": "2026-11-21T10:00:01Z"}))
    assert second.customer_id == married.customer_id
    golden = opensearch.get(index=names.customers, id=second.customer_id)["_source"]
    assert set(golden["records"]) == {married.record_id, second.record_id}
    assert golden["family_name"] == "Le Bihan"
    assert "Quéméner" not in str(golden)


def test_a_push_works_with_name_blocks_past_what_one_aggregation_returns(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    # A one-sided key's bound grows with the square of max_name_block_size: 20 asks for 191 holders,
    # past OpenSearch's default index.max_inner_result_window (100) for a top_hits aggregation.
    wide = config.model_copy(update={"max_name_block_size": 20, "max_block_size": 150})
    pusher = _pusher(opensearch, names, wide)
    first = pusher.push(SourceRecord.model_validate(NEWCOMER))
    second = pusher.push(SourceRecord.model_validate(SAME_PERSON))
    assert first.customer_id and second.customer_id == first.customer_id


def test_a_pushed_record_is_in_its_customers_search_hit_with_the_customers_periodic_refresh_stopped(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    names, config = unrefreshed
    # Only what the push does itself can make its customer searchable before it answers.
    opensearch.indices.put_settings(index=names.customers, body={"index": {"refresh_interval": "-1"}})
    pusher = _pusher(opensearch, names, config)
    for record in (NEWCOMER, SAME_PERSON):
        pushed = pusher.push(SourceRecord.model_validate(record))
        hits = opensearch.search(index=names.customers, body={"query": {"term": {"records": pushed.record_id}}})["hits"]["hits"]
        assert [hit["_id"] for hit in hits] == [pushed.customer_id]
        changes = read_changes(opensearch, names, 0, 100, None, 60.0).changes
        assert pushed.customer_id in {change["customer_id"] for change in changes}


def _requests_during(opensearch: OpenSearch, push: Callable[[], PushOutcome]) -> tuple[PushOutcome, list[tuple[bool, str]]]:
    """`push()`'s outcome, and each request it made: whether on the pushing thread (a wait in sequence), and its url."""
    pushing, requests = threading.get_ident(), []
    send = opensearch.transport.perform_request

    def seen(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        requests.append((threading.get_ident() == pushing, url))
        return send(method, url, *args, **kwargs)

    opensearch.transport.perform_request = seen  # type: ignore[method-assign]
    try:
        return push(), requests
    finally:
        opensearch.transport.perform_request = send  # type: ignore[method-assign]


def test_a_push_makes_its_caller_wait_for_at_most_six_requests_one_after_the_other(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    """Each request made in sequence is a round trip an integrator waits for (5–25 ms each under load,
    bench/RESULTS.md): the independent ones are made beside them, by other threads."""
    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    pusher.push(SourceRecord.model_validate(NEWCOMER))
    pusher.resolver.model()  # loaded: its periodic check is not a push's own request
    pushing, requests = threading.get_ident(), []
    send = opensearch.transport.perform_request

    def counted(*args: Any, **kwargs: Any) -> Any:
        requests.append(threading.get_ident() == pushing)
        return send(*args, **kwargs)

    opensearch.transport.perform_request = counted  # type: ignore[method-assign]
    try:
        # Undated: its indexed copy's version is read too. The person's customer exists: its links,
        # its document and its possible matches are read, the feed numbers a change.
        second = pusher.push(SourceRecord.model_validate({k: v for k, v in SAME_PERSON.items() if k != "updated_at"}))
    finally:
        opensearch.transport.perform_request = send  # type: ignore[method-assign]
    assert second.outcome == "indexed" and second.customer_id
    assert sum(requests) <= 6 < len(requests)


def test_a_newcomers_push_makes_its_caller_wait_for_at_most_five_requests_one_after_the_other(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    """A newcomer founds a customer whose id derives from its record id: whether that id was erased
    (a person back after an erasure must not get it again) is read beside the neighbourhood's other
    reads, not after the clustering, one round trip the integrator no longer waits for."""
    names, config = unrefreshed
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config), suppression_key=b"k" * 32)
    pusher.push(SourceRecord.model_validate(NEWCOMER))
    pusher.resolver.model()  # loaded: its periodic check is not a push's own request
    # The suppression list, the record's write, its candidates, the decisions, the writes.
    pushed, requests = _requests_during(opensearch, lambda: pusher.push(SourceRecord.model_validate(LONE_NEWCOMER)))
    assert pushed.outcome == "indexed" and pushed.customer_id
    assert opensearch.get(index=names.customers, id=pushed.customer_id)["_source"]["records"] == [pushed.record_id]  # founded one
    assert any("customer-redirects" in url for _, url in requests)  # its id's erasure was read
    assert sum(on_its_thread for on_its_thread, _ in requests) <= 5


def test_a_push_to_an_existing_customer_refreshes_nothing_but_the_shards_its_answer_must_show(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    """A refresh makes the node cut a segment of every shard of the index, and the caller waits for
    it: what a push reads by search (its customers' possible matches) every writer has left
    searchable, so the only refreshes are its own writes' (`refresh=true`, the shards written)."""
    names, config = unrefreshed
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config), suppression_key=b"k" * 32)
    pusher.push(SourceRecord.model_validate(NEWCOMER))
    second, requests = _requests_during(opensearch, lambda: pusher.push(SourceRecord.model_validate(SAME_PERSON)))
    urls = [url for _, url in requests]
    assert second.outcome == "indexed" and second.customer_id
    assert any(url.endswith("/_search") for url in urls)  # its customers' relations were read
    assert [url for url in urls if "_refresh" in url] == []


def test_a_push_asks_the_statements_and_the_decisions_naming_its_records_in_one_request(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    """Each request costs the node and the pusher its handling, whatever it asks (a push made 13 at
    100k, bench/RESULTS.md session 19): the consents and corrections naming the neighbourhood's
    records and the stewards' decisions naming them are two searches of one msearch."""
    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    pusher.push(SourceRecord.model_validate(NEWCOMER))
    second, requests = _requests_during(opensearch, lambda: pusher.push(SourceRecord.model_validate(SAME_PERSON)))
    urls = [url for _, url in requests]
    assert second.outcome == "indexed" and second.customer_id
    assert sum(url.split("?")[0].endswith("/_msearch") for url in urls) == 1
    assert [url for url in urls if names.decisions in url or names.subject_statements in url] == []


def test_a_push_computes_the_features_of_each_record_it_meets_once(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pushed record meets its candidates under many keys; the gated ones (a name in a postcode, a
    typo in each name …) look at each holder's features, and the scoring at every record's again. The
    pusher's CPU is an integrator's wait: each record's features are computed once per push."""
    import search.resolve.features as features_module
    import search.resolve.pipeline as pipeline_module
    import search.resolve.store as store_module

    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    first = pusher.push(SourceRecord.model_validate(NEWCOMER))
    computed: list[str] = []
    compute = features_module.features_from_document

    def counted(document: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        computed.append(document["record_id"])
        return compute(document, *args, **kwargs)

    for module in (features_module, pipeline_module, store_module):
        monkeypatch.setattr(module, "features_from_document", counted, raising=False)
    second = pusher.push(SourceRecord.model_validate(SAME_PERSON))
    assert second.customer_id == first.customer_id
    assert computed.count(first.record_id) == 1
    assert sorted(computed) == sorted(set(computed))


def test_pushes_start_no_more_threads_than_their_pusher_keeps(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The requests a push makes at once run on threads its pusher keeps: started anew for each push
    (five per push) they cost about a sixth of the API's CPU per push, and on a loaded machine each
    start waited for a core before the request could leave (bench/RESULTS.md, session 18). However
    many pushes, the threads started stay within the pusher's pool."""
    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    first = pusher.push(SourceRecord.model_validate(NEWCOMER))
    started: list[str] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    # Undated ones too: their indexed copy is read beside the suppression list; the customer's reads,
    # its id's erasure and the feed's writes run beside the push's own.
    people = [{k: v for k, v in SAME_PERSON.items() if k != "updated_at"}, LONE_NEWCOMER]
    people += [{**NEWCOMER, "source_id": f"newcomer-{n}"} for n in range(4)]
    pushed = [pusher.push(SourceRecord.model_validate(person)) for person in people]
    assert {p.customer_id for p in pushed} - {first.customer_id} == {pushed[1].customer_id}
    assert len(started) <= PUSH_THREADS < 5 * len(people)


def _periodic_refreshes(opensearch: OpenSearch, *indices: str) -> dict[str, int]:
    """Refreshes of what searches see (periodic or asked for); a real-time get of a document written
    since refreshes only the engine's own reader (counted in `total`, not here)."""
    stats = opensearch.indices.stats(index=",".join(indices), metric="refresh")["indices"]
    return {index: found["primaries"]["refresh"]["external_total"] for index, found in stats.items()}


def test_a_push_leaves_the_indices_read_by_id_unrefreshed_and_their_reads_current(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    """The record links and the change feed's counters are written by every push and read only by
    real-time gets (or by a reader that refreshes first): a refresh each second of their shards cost
    the node a quarter to a third of a push's CPU at 100k for no reader (bench/RESULTS.md, session 15)."""
    from search.resolve.store import current_assignment

    names, config = unrefreshed
    pusher = _pusher(opensearch, names, config)
    first = pusher.push(SourceRecord.model_validate(NEWCOMER))
    before = _periodic_refreshes(opensearch, names.record_customers, names.sequences)
    second = pusher.push(SourceRecord.model_validate(SAME_PERSON))
    time.sleep(2.5)  # past two periodic refreshes at OpenSearch's default interval (1 s)
    assert _periodic_refreshes(opensearch, names.record_customers, names.sequences) == before
    links = opensearch.mget(index=names.record_customers, body={"ids": [first.record_id, second.record_id]})["docs"]
    assert [link["_source"]["customer_id"] for link in links] == [second.customer_id] * 2
    assert current_assignment(opensearch, names)[second.record_id] == second.customer_id
    changes = read_changes(opensearch, names, 0, 100, None, 60.0).changes
    assert second.customer_id in {change["customer_id"] for change in changes}


def test_record_links_of_an_older_rcu_stop_refreshing_each_second_once_a_process_uses_them(
    opensearch: OpenSearch, unrefreshed: tuple[IndexNames, ResolutionConfig]
) -> None:
    import search.changes as changes_module
    import search.resolve.store as store_module

    names, config = unrefreshed
    _pusher(opensearch, names, config).push(SourceRecord.model_validate(NEWCOMER))
    for alias in (names.record_customers, names.sequences):  # as an older rcu created them
        opensearch.indices.put_settings(index=alias, body={"index": {"refresh_interval": None}})
    store_module._ENSURED.discard(names.prefix)  # a new process
    changes_module._ENSURED.discard(names.prefix)
    _pusher(opensearch, names, config).push(SourceRecord.model_validate(SAME_PERSON))
    found = opensearch.indices.get_settings(index=f"{names.record_customers},{names.sequences}", name="index.refresh_interval")
    assert sorted(settings["settings"]["index"]["refresh_interval"] for settings in found.values()) == ["60s", "60s"]
