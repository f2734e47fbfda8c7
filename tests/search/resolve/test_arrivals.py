"""A push's candidates searched while its record was written: what changed in the neighbourhood
since the search starts the resolution over (search.resolve.arrivals), on a real node."""

from __future__ import annotations

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.arrivals import arrived_since
from search.resolve.blocking import blocking_keys
from search.resolve.config import ResolutionConfig
from search.resolve.features import features_from_document
from search.resolve.store import candidate_search, get_records
from tests.conftest import Ingest

PERSON = {"given_name": "Maëlle", "family_name": "Kerhervé", "email": "maelle.kerherve@example.fr"}


def _search(opensearch: OpenSearch, names: IndexNames, record_id: str):  # type: ignore[no-untyped-def]
    record = features_from_document(get_records(opensearch, names, [record_id])[0])
    config = ResolutionConfig()
    return candidate_search(opensearch, names, [blocking_keys(record)], config.max_block_size, config.max_name_block_size, [record])


def test_a_record_seen_by_the_search_and_erased_since_starts_the_resolution_over(
    opensearch: OpenSearch, names: IndexNames, ingest: Ingest
) -> None:
    ingest([{"source": "crm", "source_id": "A", **PERSON}, {"source": "shop", "source_id": "B", **PERSON}])
    opensearch.indices.refresh(index=names.records)
    searched = _search(opensearch, names, "crm:A")
    assert "shop:B" in searched.found
    assert not arrived_since(opensearch, names, searched, {"crm:A"})

    # B is tombstoned (erased, or deleted at its source) between the search and the check.
    opensearch.update(index=names.records, id="shop:B", body={"doc": {"deleted": True}}, refresh=True)

    assert arrived_since(opensearch, names, searched, {"crm:A"})


def test_a_record_arrived_since_the_search_starts_the_resolution_over(opensearch: OpenSearch, names: IndexNames, ingest: Ingest) -> None:
    ingest([{"source": "crm", "source_id": "A", **PERSON}])
    opensearch.indices.refresh(index=names.records)
    searched = _search(opensearch, names, "crm:A")
    assert not arrived_since(opensearch, names, searched, {"crm:A"})

    ingest([{"source": "shop", "source_id": "B", **PERSON}])
    opensearch.indices.refresh(index=names.records)

    assert arrived_since(opensearch, names, searched, {"crm:A"})
