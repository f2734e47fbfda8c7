"""Records ingested before a blocking key existed (issue 16, session 12): the real-time path searches
the keys stored with each record, so a full run on an index keyed by other rules writes every
record's keys again, and a record pushed after it finds an old record through the new key."""

from __future__ import annotations

from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from indexers.contract import SourceRecord
from indexers.ingest import Ingestion
from indexers.push import RecordPusher
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames
from search.resolve.blocking import KEY_RULES, blocking_keys, keys_version
from search.resolve.config import FullRunScale, ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import KEYS_VERSION_META, blocking_keys_current, candidate_records, get_records, update_blocking_keys
from tests.conftest import write_jsonl
from tests.search.resolve.test_blocking_typos import STORIES, _customer_of, _features, _ids

# Sandrine Tesin, and a later loyalty record of hers that only "a typo in each name" finds.
CUSTOMER, LATER = STORIES["a typo in each name"]
NEW_RULE = "a typo in each name"
OLDER_RULES = tuple(rule for rule in KEY_RULES if rule.kind != NEW_RULE)


def _ingest(opensearch: OpenSearch, names: IndexNames, folder: Path) -> None:
    with RejectsReport(folder / "rejects.jsonl") as report:
        customers = [customer for customer, _ in STORIES.values()]  # three people, Sandrine Tesin among them
        Ingestion(opensearch, names, report).run(SourceFiles.discover([write_jsonl(folder / "crm.jsonl", customers)]))
    opensearch.indices.refresh(index=names.records)


def _as_keyed_by_an_older_rcu(opensearch: OpenSearch, names: IndexNames) -> None:
    """The customer's stored keys without the new rule's, and no keys version on the index: what an
    rcu from before that rule left."""
    (stored,) = get_records(opensearch, names, _ids([CUSTOMER]))
    update_blocking_keys(opensearch, names, [(stored["record_id"], blocking_keys(_features(CUSTOMER), OLDER_RULES))])
    (mapping,) = opensearch.indices.get_mapping(index=names.records).values()
    meta = {k: v for k, v in mapping["mappings"].get("_meta", {}).items() if k != KEYS_VERSION_META}
    opensearch.indices.put_mapping(index=names.records, body={"_meta": meta})
    opensearch.indices.refresh(index=names.records)


def _found_in_real_time(opensearch: OpenSearch, names: IndexNames, config: ResolutionConfig) -> bool:
    later = _features(LATER)
    found = candidate_records(opensearch, names, [blocking_keys(later)], config.max_block_size, searchers=[later])
    return _ids([CUSTOMER])[0] in found


@pytest.mark.parametrize("partition_records", [200_000, 2], ids=["in memory", "partitioned"])
def test_a_new_key_finds_records_ingested_before_it_once_a_full_run_has_rekeyed_them(
    opensearch: OpenSearch, test_prefix: str, tmp_path: Path, partition_records: int
) -> None:
    # Both full runs: in memory, and partitioned on disk as at 1M (three records are past two per partition).
    names = IndexNames(f"{test_prefix}-rekey-{partition_records}")
    config = ResolutionConfig(scale=FullRunScale(partition_records=partition_records), workers=1)
    _ingest(opensearch, names, tmp_path)
    resolve_all(opensearch, names, config)
    _as_keyed_by_an_older_rcu(opensearch, names)
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
    update_blocking_keys(opensearch, names, [(stored["record_id"], ["marker:left alone"])])
    opensearch.indices.refresh(index=names.records)
    resolve_all(opensearch, names, config)
    after = opensearch.get(index=names.records, id=stored["record_id"], _source_includes=["blocking_keys"])
    assert after["_source"]["blocking_keys"] == ["marker:left alone"]


def test_the_keys_version_changes_when_a_rule_is_added_or_dropped() -> None:
    assert keys_version(OLDER_RULES) != keys_version()
    assert keys_version(KEY_RULES) == keys_version()
