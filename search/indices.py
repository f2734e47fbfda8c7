"""rcu's indices: versioned concrete indices behind stable aliases, created and migrated here.

`<prefix>-records` is an alias; the data lives in `<prefix>-records-v<N>`. `reindex_records` builds
the next version with the current analysis and mappings, copies every document with its external
version, swaps the alias in one atomic call, copies once more what was written meanwhile (external
versions make that idempotent), then drops the old index.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from analyzers.index_settings import possible_matches_index_body, records_index_body

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexNames:
    prefix: str

    @property
    def records(self) -> str:
        return f"{self.prefix}-records"

    @property
    def customers(self) -> str:
        return f"{self.prefix}-customers"

    @property
    def redirects(self) -> str:
        """Merge and split events of customer ids (plain index, one document per event)."""
        return f"{self.prefix}-customer-redirects"

    @property
    def record_customers(self) -> str:
        """record_id → customer_id, read with real-time gets so a resolution never waits for a refresh."""
        return f"{self.prefix}-record-customers"

    @property
    def resolution_state(self) -> str:
        """The trained match model and the last run's watermark."""
        return f"{self.prefix}-resolution"

    @property
    def possible_matches(self) -> str:
        """Pairs of customers that may be one person, for a data steward (alias of a versioned index)."""
        return f"{self.prefix}-possible-matches"

    @property
    def audit(self) -> str:
        """Who saw which customer, when, through which query (append-only)."""
        return f"{self.prefix}-audit"

    def records_version(self, version: int) -> str:
        return f"{self.records}-v{version}"


class SchemaOutdated(Exception):
    """The index's analysis or mappings differ from the code's: run `rcu reindex`."""


def _current_index(client: OpenSearch, alias: str) -> str | None:
    if not client.indices.exists_alias(name=alias):
        return None
    (index,) = client.indices.get_alias(name=alias).keys()
    return index


def _version_of(index: str) -> int:
    match = re.search(r"-v(\d+)$", index)
    return int(match.group(1)) if match else 0


def _fingerprint(client: OpenSearch, index: str) -> str | None:
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    return mapping.get("_meta", {}).get("rcu_schema")


def ensure_records_index(client: OpenSearch, names: IndexNames, body: dict[str, Any] | None = None) -> str:
    """The concrete records index behind the alias, created (v1) if there is none.

    Raises SchemaOutdated when the existing index was built from other analysis or mappings."""
    return ensure_versioned_index(client, names.records, body or records_index_body())


def ensure_possible_matches_index(client: OpenSearch, names: IndexNames) -> str:
    """The concrete possible-matches index behind its alias, created (v1) if there is none."""
    return ensure_versioned_index(client, names.possible_matches, possible_matches_index_body())


def ensure_versioned_index(client: OpenSearch, alias: str, body: dict[str, Any]) -> str:
    """The concrete index behind `alias` (`<alias>-v<N>`), created as v1 when there is none."""
    current = _current_index(client, alias)
    if current is None:
        current = f"{alias}-v1"
        client.indices.create(index=current, body={**body, "aliases": {alias: {"is_write_index": True}}})
        log.info("index_created index=%s alias=%s", current, alias)
        return current
    expected = body["mappings"]["_meta"]["rcu_schema"]
    if _fingerprint(client, current) != expected:
        raise SchemaOutdated(f"{current} was built from another schema than this rcu's; run `rcu reindex`.")
    return current


def reindex_records(client: OpenSearch, names: IndexNames, body: dict[str, Any] | None = None) -> tuple[str | None, str]:
    """Move the records to a new index version with the current schema; returns (old, new)."""
    body = body or records_index_body()
    old = _current_index(client, names.records)
    if old is None:
        return None, ensure_records_index(client, names, body)
    new = names.records_version(_version_of(old) + 1)
    client.indices.create(index=new, body=body)

    def copy() -> dict[str, Any]:
        return client.reindex(
            body={
                "conflicts": "proceed",
                "source": {"index": old},
                "dest": {"index": new, "version_type": "external"},
            },
            wait_for_completion=True,
            refresh=True,
            request_timeout=3600,
        )

    copy()
    client.indices.update_aliases(
        body={
            "actions": [
                {"remove": {"index": old, "alias": names.records}},
                {"add": {"index": new, "alias": names.records, "is_write_index": True}},
            ]
        }
    )
    # Writes that reached the old index while the first copy ran: external versions keep only newer ones.
    copy()
    client.indices.delete(index=old)
    log.info("reindexed old=%s new=%s", old, new)
    return old, new
