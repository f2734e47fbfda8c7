"""A pushed record's candidates searched while the record is written, and what makes that safe.

A push used to write its record with `refresh=true`, wait, and only then search its candidates, so
that of two records of one person pushed at the same time (two API workers, `rcu push`) the one
searched second always found the other. Both waits were in sequence. Now the write (still refreshed
before the answer) and the candidate search run at once, and once the write is searchable a second,
small search asks whether any live record holding one of the keys the first search could use is
there that it did not see, or saw in an older version (`arrived_since`): the same guarantee — of two
such checks, the later one runs after the other push's record was refreshed, so it sees it — for a
search that reads ids and versions only, made beside the reads that follow the candidates. When a
record did arrive (rare: only pushes of one neighbourhood in the same few milliseconds), the caller
resolves again from a fresh candidate search, exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.records import LIVE_RECORD
from search.resolve.features import FeaturesOnce
from search.resolve.store import CandidateSearch


@dataclass(frozen=True)
class CandidatesBesideWrite:
    """The candidates of records searched while they were being written (not yet searchable), with
    the features computed for the search (the neighbourhood's memo, search.resolve.features)."""

    search: CandidateSearch
    features: FeaturesOnce


def arrived_since(client: OpenSearch, names: IndexNames, search: CandidateSearch, own: set[str]) -> bool:
    """Whether a live record other than `own` now holds one of the keys `search` could use and was not
    among what it saw (or was, in an older version), or a record it saw is no longer live. Ids and versions only, no `_source`; at most one
    hit more than were seen. Keys past their bound are not asked: a record arriving under one of them
    would not be a candidate through it either."""
    if not search.usable:
        return False
    seen = {record_id: version for record_id, version in search.seen.items() if record_id not in own}
    body: dict[str, Any] = {
        "size": len(seen) + 1,
        "_source": False,
        "version": True,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [{"terms": {"blocking_keys": list(search.usable)}}, LIVE_RECORD],
                "must_not": [{"ids": {"values": sorted(own)}}],
            }
        },
    }
    hits = client.search(index=names.records, body=body, request_cache=False)["hits"]["hits"]
    # Arrived, changed or left: a record seen that is no longer live (tombstoned, erased) must not be
    # clustered from the copy read before (an erasure would not be complete) — start over as well.
    return len(hits) != len(seen) or any(seen.get(hit["_id"]) != hit["_version"] for hit in hits)
