"""Source records in the records index: which are live (a source's delete leaves a tombstone),
and finding them by name."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from search.name_query import name_query

# The filter clause keeping live records: tombstones stay in the index, out of every search.
LIVE_RECORD = {"term": {"deleted": False}}


def is_live(record: dict[str, Any]) -> bool:
    """LIVE_RECORD, for a record document already fetched."""
    return not record.get("deleted")


def find_records_by_name(client: OpenSearch, index: str, text: str, size: int = 10) -> list[dict[str, Any]]:
    """Live records whose names match `text`, best first, as their `_source`."""
    response = client.search(index=index, body={"query": name_query(text, filters=[LIVE_RECORD]), "size": size})
    return [hit["_source"] for hit in response["hits"]["hits"]]
