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


def _concrete_indices_of(opensearch: OpenSearch, names: IndexNames) -> dict[str, str]:
    """alias or bare name → concrete index, for every index under the test's prefix."""
    found = {}
    for index, entry in opensearch.indices.get_alias(index=f"{names.prefix}-*").items():
        aliases = list(entry["aliases"])
        found[aliases[0] if aliases else index] = index
    return found


def test_every_index_rcu_creates_is_reached_through_an_alias(opensearch: OpenSearch, names: IndexNames) -> None:
    import asyncio

    from search.audit import ensure_audit_index
    from search.client import async_client
    from search.resolve.store import ensure_resolution_indices
    from settings import get_settings

    ensure_records_index(opensearch, names)
    ensure_resolution_indices(opensearch, names)

    async def audit() -> None:
        client = async_client(get_settings())
        try:
            await ensure_audit_index(client, names)
        finally:
            await client.close()

    asyncio.run(audit())
    indices = _concrete_indices_of(opensearch, names)
    expected = {
        names.records,
        names.customers,
        names.redirects,
        names.record_customers,
        names.resolution_state,
        names.possible_matches,
        names.decisions,
        names.identity_conflicts,
        names.audit,
    }
    assert set(indices) == expected
    assert all(index == f"{alias}-v1" for alias, index in indices.items())


def test_reindex_moves_an_index_of_an_older_rcu_behind_its_alias_keeping_its_documents(opensearch: OpenSearch, names: IndexNames) -> None:
    from search.indices import index_bodies, reindex_index

    body = index_bodies(names)[names.record_customers]
    # An older rcu created record links as a plain index of the alias's name, without a fingerprint.
    opensearch.indices.create(index=names.record_customers, body={"settings": body["settings"], "mappings": body["mappings"]})
    opensearch.index(index=names.record_customers, id="crm:1", body={"customer_id": "C1"}, refresh=True)
    old, new = reindex_index(opensearch, names.record_customers, body)
    assert (old, new) == (names.record_customers, f"{names.record_customers}-v1")
    assert list(opensearch.indices.get_alias(name=names.record_customers)) == [new]
    assert opensearch.get(index=names.record_customers, id="crm:1")["_source"] == {"customer_id": "C1"}
    opensearch.index(index=names.record_customers, id="crm:2", body={"customer_id": "C2"}, refresh=True)
    assert opensearch.count(index=names.record_customers)["count"] == 2


def test_reindex_keeps_the_configured_shards_and_replicas(opensearch: OpenSearch, names: IndexNames) -> None:
    from search.sizing import IndexLayout

    laid_out = IndexNames(names.prefix, IndexLayout(records_shards=3, replicas=0))
    ensure_records_index(opensearch, laid_out)
    _, new = reindex_records(opensearch, laid_out)
    assert opensearch.indices.get_settings(index=new)[new]["settings"]["index"]["number_of_shards"] == "3"
