"""Source records in the records index: which are live (a source's delete leaves a tombstone),
and finding them by an exact name (the counter's forgiving look-up searches customers)."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

# The filter clause keeping live records: tombstones stay in the index, out of every search.
LIVE_RECORD = {"term": {"deleted": False}}


def is_live(record: dict[str, Any]) -> bool:
    """LIVE_RECORD, for a record document already fetched."""
    return not record.get("deleted")


def find_records_by_family_name(client: OpenSearch, index: str, family_name: str, size: int = 10) -> list[dict[str, Any]]:
    """Live records of that family name, accents and case aside ("Hélène" = "HELENE"), as their `_source`."""
    query = {"bool": {"filter": [{"term": {"family_name": family_name}}, LIVE_RECORD]}}
    response = client.search(index=index, body={"query": query, "size": size, "sort": ["record_id"]})
    return [hit["_source"] for hit in response["hits"]["hits"]]
