"""Records ingested before a blocking key existed (issue 16, session 12): the real-time path searches
the keys stored with each record, so a full run on an index keyed by other rules writes every
record's keys again, and a record pushed after it finds an old record through the new key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

import search.resolve.features
import search.resolve.partitioned
import search.resolve.pipeline
from indexers.contract import SourceRecord
from indexers.ingest import Ingestion
from indexers.push import RecordPusher
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames
from search.resolve.blocking import KEY_RULES, blocking_keys, keys_version
from search.resolve.config import FullRunScale, ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.pipeline import resolve_all
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import (
    KEYS_VERSION_META,
    blocking_keys_current,
    candidate_records,
    get_records,
    read_for_rekey,
    update_blocking_keys,
    write_rekeyed,
)
from tests.conftest import write_jsonl
from tests.search.resolve.test_blocking_typos import STORIES, _customer_of, _features, _ids

# Sandrine Tesin, and a later loyalty record of hers that only "a typo in each name" finds.
CUSTOMER, LATER = STORIES["a typo in each name"]
NEW_RULE = "a typo in each name"
OLDER_RULES = tuple(rule for rule in KEY_RULES if rule.kind != NEW_RULE)


def _ingest(opensearch: OpenSearch, names: IndexNames, folder: Path, updated_at: str | None = None) -> None:
    with RejectsReport(folder / "rejects.jsonl") as report:
        # Three people, Sandrine Tesin among them.
        customers: list[dict[str, Any] | str | bytes] = [
            {**customer, "updated_at": updated_at} if updated_at else customer for customer, _ in STORIES.values()
        ]
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(folder / "crm.jsonl", customers)]))
    opensearch.indices.refresh(index=names.records)


def _as_keyed_by_an_older_rcu(opensearch: OpenSearch, names: IndexNames) -> None:
    """The customer's stored keys without the new rule's, and no keys version on the index: what an
    rcu from before that rule left."""
    (stored,) = get_records(opensearch, names, _ids([CUSTOMER]))
    update_blocking_keys(opensearch, names, [stored["record_id"]], lambda doc: blocking_keys(features_from_document(doc), OLDER_RULES))
    (mapping,) = opensearch.indices.get_mapping(index=names.records).values()
    meta = {k: v for k, v in mapping["mappings"].get("_meta", {}).items() if k != KEYS_VERSION_META}
    opensearch.indices.put_mapping(index=names.records, body={"_meta": meta})
    opensearch.indices.refresh(index=names.records)


def _found_in_real_time(opensearch: OpenSearch, names: IndexNames, config: ResolutionConfig) -> bool:
    later = _features(LATER)
    found = candidate_records(opensearch, names, [blocking_keys(later)], config.max_block_size, searchers=[later])
    return _ids([CUSTOMER])[0] in found


def _keyed_by_an_older_rcu(
    opensearch: OpenSearch, prefix: str, tmp_path: Path, partition_records: int
) -> tuple[IndexNames, ResolutionConfig]:
    """The demo's records ingested and resolved, then left as an older rcu keyed them (a full run's
    configuration: in memory, or partitioned on disk as at 1M when `partition_records` is small)."""
    names = IndexNames(prefix)
    config = ResolutionConfig(scale=FullRunScale(partition_records=partition_records), workers=1)
    _ingest(opensearch, names, tmp_path)
    resolve_all(opensearch, names, config)
    _as_keyed_by_an_older_rcu(opensearch, names)
    return names, config


@pytest.mark.parametrize("partition_records", [200_000, 2], ids=["in memory", "partitioned"])
def test_a_new_key_finds_records_ingested_before_it_once_a_full_run_has_rekeyed_them(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, partition_records: int
) -> None:
    # Both full runs: in memory, and partitioned on disk as at 1M (three records are past two per partition).
    names, config = _keyed_by_an_older_rcu(opensearch, f"{test_prefix}-rekey-{partition_records}", tmp_path, partition_records)
    # Before the full run the new key's pair is out of the real-time path's reach.
    assert not blocking_keys_current(opensearch, names)
    assert not _found_in_real_time(opensearch, names, config)
    resolve_all(opensearch, names, config)
    assert blocking_keys_current(opensearch, names)
    assert _found_in_real_time(opensearch, names, config)
    pushed = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config)).push(SourceRecord.model_validate(LATER))
    assert pushed.customer_id == _customer_of(opensearch, names)[_ids([CUSTOMER])[0]]


def test_an_index_filled_by_this_rcu_is_not_rekeyed_by_a_full_run(opensearch: OpenSearch, test_prefix: str, tmp_path: Path) -> None:
    # A fresh index is keyed by today's rules from its first record: a full run leaves its stored
    # keys alone (rewriting a million records' keys at every run would double the write stage).
    names, config = IndexNames(f"{test_prefix}-keyed"), ResolutionConfig()
    _ingest(opensearch, names, tmp_path)
    assert blocking_keys_current(opensearch, names)
    (stored,) = get_records(opensearch, names, _ids([CUSTOMER]))
    update_blocking_keys(opensearch, names, [stored["record_id"]], lambda doc: ["marker:left alone"])
    opensearch.indices.refresh(index=names.records)
    resolve_all(opensearch, names, config)
    after = opensearch.get(index=names.records, id=stored["record_id"], _source_includes=["blocking_keys"])
    assert after["_source"]["blocking_keys"] == ["marker:left alone"]


def test_the_keys_version_changes_when_a_rule_is_added_or_dropped() -> None:
    # Every rule makes keys of the probes: dropping any one of them (or adding it back) is seen.
    assert keys_version(OLDER_RULES) != keys_version()
    for rule in KEY_RULES:
        assert keys_version(tuple(r for r in KEY_RULES if r is not rule)) != keys_version(), rule.kind


def test_the_keys_version_changes_when_a_name_normalizer_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    # New records' keys change with the names' folding; so must the version, or old records keep
    # keys no new record makes.
    today = keys_version()
    folded = search.resolve.features.fold_name
    monkeypatch.setattr(search.resolve.features, "fold_name", lambda name: folded(name).replace("ph", "f"))
    monkeypatch.setattr(search.resolve.features, "_phonetic", lambda name: name.upper())
    keys_version.cache_clear()
    try:
        assert keys_version() != today
    finally:
        keys_version.cache_clear()


def _resolve_all_while(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]) -> Callable[..., Any]:
    """resolve_all with `meanwhile` run after it has read the records, before it writes anything."""
    scoring = search.resolve.pipeline.resolve_records

    def resolve_records(*args: Any, **kwargs: Any) -> Any:
        meanwhile()
        return scoring(*args, **kwargs)

    monkeypatch.setattr(search.resolve.pipeline, "resolve_records", resolve_records)
    return resolve_all


def _stored(opensearch: OpenSearch, names: IndexNames, record_id: str) -> dict[str, Any]:
    opensearch.indices.refresh(index=names.records)
    source: dict[str, Any] = opensearch.get(index=names.records, id=record_id)["_source"]
    return source


def test_a_record_pushed_during_a_rekey_keeps_the_keys_of_its_new_content(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The full run read Sandrine Tesin as she was; she is pushed married meanwhile. Her stored keys
    # are her new name's (the real-time path finds her by it), not the old name's the run read.
    names, config = IndexNames(f"{test_prefix}-rekey-race"), ResolutionConfig(workers=1)
    _ingest(opensearch, names, tmp_path)
    resolve_all(opensearch, names, config)
    _as_keyed_by_an_older_rcu(opensearch, names)
    married = {**CUSTOMER, "family_name": "Garnier", "birth_name": "Tesin"}
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    _resolve_all_while(monkeypatch, lambda: pusher.push(SourceRecord.model_validate(married)))(opensearch, names, config)
    stored = _stored(opensearch, names, _ids([CUSTOMER])[0])
    assert stored["family_name"] == "Garnier"
    assert sorted(stored["blocking_keys"]) == sorted(blocking_keys(features_from_document(stored)))


def test_a_record_pushed_between_the_rekeys_read_and_write_keeps_its_push(opensearch: OpenSearch, test_prefix: str, tmp_path: Path) -> None:
    names, config = IndexNames(f"{test_prefix}-rekey-window"), ResolutionConfig(workers=1)
    _ingest(opensearch, names, tmp_path)
    resolve_all(opensearch, names, config)
    record_id = _ids([CUSTOMER])[0]
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))

    def keys_of_while_pushed(document: dict[str, Any]) -> list[str]:
        pusher.push(SourceRecord.model_validate({**CUSTOMER, "family_name": "Garnier"}))
        return blocking_keys(features_from_document(document))

    rekeyed = update_blocking_keys(opensearch, names, [record_id], keys_of_while_pushed)
    assert (rekeyed.rekeyed, rekeyed.changed, rekeyed.failed) == (0, 1, 0)
    stored = _stored(opensearch, names, record_id)
    assert stored["family_name"] == "Garnier"
    assert sorted(stored["blocking_keys"]) == sorted(blocking_keys(features_from_document(stored)))


@pytest.mark.parametrize("updated_at", [None, "2026-03-01T10:00:00+00:00"], ids=["undated", "dated"])
def test_a_rekeyed_record_pushed_again_unchanged_is_unchanged(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, updated_at: str | None
) -> None:
    # A rekey is not a new version of the record: the source sending the same copy again is told
    # `unchanged`, not `stale`, and nothing is written.
    names, config = IndexNames(f"{test_prefix}-rekey-same-{'undated' if updated_at is None else 'dated'}"), ResolutionConfig(workers=1)
    record = {**CUSTOMER, "updated_at": updated_at} if updated_at else CUSTOMER
    _ingest(opensearch, names, tmp_path, updated_at)
    resolve_all(opensearch, names, config)
    pusher = RecordPusher(opensearch, names, RealTimeResolver(opensearch, names, config))
    _as_keyed_by_an_older_rcu(opensearch, names)
    before = opensearch.get(index=names.records, id=_ids([CUSTOMER])[0])["_version"]
    resolve_all(opensearch, names, config)
    assert blocking_keys_current(opensearch, names)
    assert pusher.push(SourceRecord.model_validate(record)).outcome == "unchanged"
    assert opensearch.get(index=names.records, id=_ids([CUSTOMER])[0])["_version"] == before


@pytest.mark.parametrize("partition_records", [200_000, 2], ids=["in memory", "partitioned"])
def test_a_rekey_that_failed_leaves_the_index_to_be_rekeyed_again(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, partition_records: int
) -> None:
    # The records index refuses writes during the run: no record got today's keys, so the index is
    # not marked as keyed by today's rules, the run says how many were left, and the next run
    # rewrites them.
    names, config = _keyed_by_an_older_rcu(opensearch, f"{test_prefix}-rekey-failed-{partition_records}", tmp_path, partition_records)
    opensearch.indices.put_settings(index=names.records, body={"index.blocks.write": True})
    try:
        report = resolve_all(opensearch, names, config)
    finally:
        opensearch.indices.put_settings(index=names.records, body={"index.blocks.write": None})
    assert not blocking_keys_current(opensearch, names)
    assert not _found_in_real_time(opensearch, names, config)
    assert report.keys_not_rewritten == 3
    assert "keys_not_rewritten=3" in report.line()
    assert resolve_all(opensearch, names, config).keys_not_rewritten == 0
    assert blocking_keys_current(opensearch, names)
    assert _found_in_real_time(opensearch, names, config)


def _records_refresh_interval(opensearch: OpenSearch, names: IndexNames) -> str | None:
    (found,) = opensearch.indices.get_settings(index=names.records, name="index.refresh_interval").values()
    return found["settings"].get("index", {}).get("refresh_interval")


@pytest.mark.parametrize("partition_records", [200_000, 2], ids=["in memory", "partitioned"])
def test_a_full_run_rewriting_every_records_keys_writes_them_without_periodic_refreshes_and_restores_the_index(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, partition_records: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each record is written back whole: with the records index's periodic refresh on, the node
    # makes a segment of them every second (a 1M rewrite took most of a 1,264 s run). The index is
    # as its owner set it once the run is over: searchable every 3 s here, its new keys found.
    names, config = _keyed_by_an_older_rcu(opensearch, f"{test_prefix}-rekey-bulk-{partition_records}", tmp_path, partition_records)
    opensearch.indices.put_settings(index=names.records, body={"index": {"refresh_interval": "3s"}})
    seen: list[str | None] = []
    keyed = search.resolve.pipeline.blocking_keys

    def keys_while_watching(record: Any, *rules: Any) -> list[str]:
        seen.append(_records_refresh_interval(opensearch, names))
        return keyed(record, *rules)

    monkeypatch.setattr(search.resolve.pipeline, "blocking_keys", keys_while_watching)
    resolve_all(opensearch, names, config)
    assert seen and set(seen) == {"-1"}
    assert _records_refresh_interval(opensearch, names) == "3s"
    assert blocking_keys_current(opensearch, names)
    assert _found_in_real_time(opensearch, names, config)


def test_a_full_run_that_fails_after_rewriting_keys_gives_the_records_index_its_refreshes_back(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run stops with an error once keys are rewritten (the node gone while customers are
    # written): the records index, put in bulk mode for the rewrite, refreshes as its owner set it.
    names, config = _keyed_by_an_older_rcu(opensearch, f"{test_prefix}-rekey-broken", tmp_path, 2)
    opensearch.indices.put_settings(index=names.records, body={"index": {"refresh_interval": "3s"}})

    def node_gone(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the node went away while customers were written")

    monkeypatch.setattr(search.resolve.partitioned, "_apply", node_gone)
    with pytest.raises(ConnectionError):
        resolve_all(opensearch, names, config)
    assert _records_refresh_interval(opensearch, names) == "3s"
    assert not blocking_keys_current(opensearch, names)


def test_a_record_erased_between_the_rekeys_read_and_write_is_not_brought_back(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path
) -> None:
    # A full run's rewrite read Sandrine Tesin's record; her erasure deleted it; the rewrite then
    # writes. OpenSearch forgets a delete after `index.gc_deletes` (60 s; a loaded node's 429
    # retries can outlast it): set to nothing here, the write at her old version creates her again
    # unless the rewrite undoes what it created.
    names, config = IndexNames(f"{test_prefix}-rekey-erased"), ResolutionConfig(workers=1)
    _ingest(opensearch, names, tmp_path)
    resolve_all(opensearch, names, config)
    record_id = _ids([CUSTOMER])[0]
    opensearch.indices.put_settings(index=names.records, body={"index": {"gc_deletes": "0s"}})
    actions = read_for_rekey(opensearch, names, [record_id], lambda doc: blocking_keys(features_from_document(doc)))
    opensearch.delete(index=names.records, id=record_id, refresh=True)
    opensearch.indices.flush(index=names.records)
    rekeyed = write_rekeyed(opensearch, names, actions)
    opensearch.indices.refresh(index=names.records)
    assert not opensearch.exists(index=names.records, id=record_id)
    assert (rekeyed.rekeyed, rekeyed.failed) == (0, 0)
