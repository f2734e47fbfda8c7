"""Finding people by name: the views of a name in the index, combined in one query (records and
customers index names alike: see analyzers.index_settings)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def name_query(text: str, field: str = "full_name", filters: Sequence[dict[str, Any]] = (), fuzziness: str = "AUTO") -> dict[str, Any]:
    """Exact folded words first, then prefixes (type-ahead), the name without spaces or apostrophes,
    the French phonetic key, and typos last (`fuzziness`, first letter kept). Every word of `text`
    must match somewhere; `filters` narrow the documents searched."""
    return {
        "bool": {
            "should": [
                {"match": {field: {"query": text, "operator": "and", "boost": 4}}},
                {"match": {f"{field}.prefix": {"query": text, "operator": "and", "boost": 2}}},
                {"match": {f"{field}.compact": {"query": text, "boost": 3}}},
                {"match": {f"{field}.phonetic": {"query": text, "operator": "and", "boost": 1.5}}},
                {"match": {field: {"query": text, "operator": "and", "fuzziness": fuzziness, "prefix_length": 1}}},
            ],
            "minimum_should_match": 1,
            "filter": list(filters),
        }
    }
