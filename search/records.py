"""Finding source records by name: the views of a name in the index, combined in one query."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

LIVE = {"term": {"deleted": False}}


def name_query(text: str, field: str = "full_name", filters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Exact folded words first, then prefixes (type-ahead), the name without spaces or apostrophes,
    the French phonetic key, and one-typo fuzziness last. Every word of `text` must match somewhere.
    `filters` default to live records only."""
    return {
        "bool": {
            "should": [
                {"match": {field: {"query": text, "operator": "and", "boost": 4}}},
                {"match": {f"{field}.prefix": {"query": text, "operator": "and", "boost": 2}}},
                {"match": {f"{field}.compact": {"query": text, "boost": 3}}},
                {"match": {f"{field}.phonetic": {"query": text, "operator": "and", "boost": 1.5}}},
                {"match": {field: {"query": text, "operator": "and", "fuzziness": "AUTO", "prefix_length": 1}}},
            ],
            "minimum_should_match": 1,
            "filter": [LIVE] if filters is None else filters,
        }
    }


def find_records_by_name(client: OpenSearch, index: str, text: str, size: int = 10) -> list[dict[str, Any]]:
    """Live records whose names match `text`, best first, as their `_source`."""
    response = client.search(index=index, body={"query": name_query(text), "size": size})
    return [hit["_source"] for hit in response["hits"]["hits"]]
