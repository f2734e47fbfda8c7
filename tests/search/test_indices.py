"""The records index lives behind an alias and can be rebuilt without losing a record or a version."""

from __future__ import annotations

import copy

import pytest
from opensearchpy import OpenSearch

from analyzers.index_settings import records_index_body, schema_fingerprint
from search.indices import IndexNames, SchemaOutdated, ensure_records_index, reindex_records
from tests.conftest import Ingest


def test_records_are_written_through_a_versioned_alias(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    ingest([{"source": "crm", "source_id": "1", "family_name": "Dupont"}])
    assert list(opensearch.indices.get_alias(name=names.records)) == [names.records_version(1)]


def test_reindex_moves_every_record_with_its_version_to_the_next_index(ingest: Ingest, opensearch: OpenSearch, names: IndexNames) -> None:
    records = [{"source": "crm", "source_id": str(i), "family_name": f"Dupont{i}", "updated_at": "2024-05-01T00:00:00Z"} for i in range(50)]
    ingest(records)
    before = opensearch.get(index=names.records, id="crm:7")["_version"]
    old, new = reindex_records(opensearch, names)
    assert (old, new) == (names.records_version(1), names.records_version(2))
    assert list(opensearch.indices.get_alias(name=names.records)) == [new]
    assert not opensearch.indices.exists(index=old)
    assert opensearch.count(index=names.records)["count"] == 50
    assert opensearch.get(index=names.records, id="crm:7")["_version"] == before
    summary, _ = ingest(records)
    assert summary.outcomes["unchanged"] == 50


def test_an_index_built_from_another_schema_is_refused_until_reindexed(opensearch: OpenSearch, names: IndexNames) -> None:
    older = copy.deepcopy(records_index_body())
    older["mappings"]["properties"].pop("blocking_keys")
    older["mappings"]["_meta"]["rcu_schema"] = schema_fingerprint(older)
    ensure_records_index(opensearch, names, older)
    with pytest.raises(SchemaOutdated, match="rcu reindex"):
        ensure_records_index(opensearch, names)
    reindex_records(opensearch, names)
    assert ensure_records_index(opensearch, names) == names.records_version(2)
