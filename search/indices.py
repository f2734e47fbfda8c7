"""rcu's indices: versioned concrete indices behind stable aliases, created and migrated here.

Every index rcu creates is reached through an alias: `<prefix>-records` is an alias and the data
lives in `<prefix>-records-v<N>`; so do customers, redirects, record links, resolution state,
possible matches and the audit trail. `reindex_index` builds the next version with the current analysis and mappings,
copies every document with its version, swaps the alias in one atomic call, copies once more what
was written meanwhile (external versions make that idempotent), then drops the old index: searches
never see a missing index. Shards and replicas come from the names' layout (search/sizing.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch, RequestError

from analyzers.index_settings import (
    audit_index_body,
    changes_index_body,
    conditions_index_body,
    customers_index_body,
    decisions_index_body,
    identity_conflicts_index_body,
    keyring_index_body,
    possible_matches_index_body,
    profiles_index_body,
    record_customers_index_body,
    records_index_body,
    redirects_index_body,
    resolution_state_index_body,
    sequences_index_body,
    subject_statements_index_body,
    suppression_index_body,
    webhooks_index_body,
)
from search.sizing import IndexLayout
from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexNames:
    prefix: str
    layout: IndexLayout = field(default_factory=IndexLayout)

    @classmethod
    def for_settings(cls, settings: Settings) -> IndexNames:
        """The names under RCU_INDEX_PREFIX, with shards and replicas sized from the settings."""
        return cls(settings.index_prefix, IndexLayout.from_settings(settings))

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
        """Pairs of customers that may be one person, for a data steward (search.resolve.possible)."""
        return f"{self.prefix}-possible-matches"

    @property
    def audit(self) -> str:
        """Who saw which customer, when, through which query (append-only)."""
        return f"{self.prefix}-audit"

    @property
    def keyring(self) -> str:
        """The audit trail's key per customer id: an erasure deletes it (search.audit_keys)."""
        return f"{self.prefix}-keyring"

    @property
    def subject_statements(self) -> str:
        """What a customer or a steward stated through the API: consents and rectifications (search.rights)."""
        return f"{self.prefix}-subject-statements"

    @property
    def changes(self) -> str:
        """The change feed: one document per change, ordered by `seq` (search.changes)."""
        return f"{self.prefix}-changes"

    @property
    def sequences(self) -> str:
        """Counters handing out change feed sequence numbers."""
        return f"{self.prefix}-sequences"

    @property
    def suppression(self) -> str:
        """Keyed hashes of erased identifiers, so a source cannot bring an erased person back."""
        return f"{self.prefix}-suppression"

    @property
    def conditions(self) -> str:
        """Segment conditions and next-best-action rules, as percolator queries (search.segments)."""
        return f"{self.prefix}-conditions"

    @property
    def profiles(self) -> str:
        """One profile per customer: the fields conditions are written over, and its segments."""
        return f"{self.prefix}-profiles"

    @property
    def decisions(self) -> str:
        """A data steward's decisions, each a rule every later resolution respects (search.steward)."""
        return f"{self.prefix}-decisions"

    @property
    def identity_conflicts(self) -> str:
        """Customers whose records disagree on an identity field, for the steward's queue."""
        return f"{self.prefix}-identity-conflicts"

    @property
    def events(self) -> str:
        """Interactions (search.events): an alias over `<prefix>-events-YYYY` (or `-YYYY.MM`, per the layout's period)."""
        return f"{self.prefix}-events"

    def events_index(self, year: int, month: int) -> str:
        """The concrete index holding the events of a month (by the event's time): its year's, or its own."""
        return f"{self.events}-{year:04d}" if self.layout.events_period == "year" else f"{self.events}-{year:04d}.{month:02d}"

    @property
    def webhooks(self) -> str:
        """Webhook delivery cursors, retries and dead letters (search.webhooks)."""
        return f"{self.prefix}-webhooks"

    def records_version(self, version: int) -> str:
        return f"{self.records}-v{version}"


class SchemaOutdated(Exception):
    """The index's analysis or mappings differ from the code's: run `rcu reindex`."""


def _current_index(client: OpenSearch, alias: str) -> str | None:
    """The concrete index behind `alias`; an index of that very name made by an older rcu counts too
    (it moves behind an alias at the next `rcu reindex`)."""
    if client.indices.exists_alias(name=alias):
        (index,) = client.indices.get_alias(name=alias).keys()
        return index
    return alias if client.indices.exists(index=alias) else None


def _version_of(index: str) -> int:
    match = re.search(r"-v(\d+)$", index)
    return int(match.group(1)) if match else 0


def _fingerprint(client: OpenSearch, index: str) -> str | None:
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    return mapping.get("_meta", {}).get("rcu_schema")


def records_body(names: IndexNames) -> dict[str, Any]:
    """The records index's body with the names' shards and replicas."""
    return records_index_body(names.layout.records_shards, names.layout.replicas)


def index_bodies(names: IndexNames) -> dict[str, dict[str, Any]]:
    """alias → body of every index rcu creates under these names, with their shards and replicas."""
    layout = names.layout
    return {
        names.records: records_body(names),
        names.customers: customers_index_body(layout.customers_shards, layout.replicas),
        names.redirects: redirects_index_body(layout.replicas),
        names.record_customers: record_customers_index_body(layout.record_customers_shards, layout.replicas),
        names.resolution_state: resolution_state_index_body(layout.replicas),
        names.audit: audit_index_body(layout.replicas),
        names.keyring: keyring_index_body(layout.replicas),
        names.subject_statements: subject_statements_index_body(layout.replicas),
        names.changes: changes_index_body(layout.replicas),
        names.sequences: sequences_index_body(layout.replicas),
        names.suppression: suppression_index_body(layout.replicas),
        names.possible_matches: possible_matches_index_body(layout.replicas),
        names.conditions: conditions_index_body(layout.replicas),
        names.profiles: profiles_index_body(layout.replicas),
        names.decisions: decisions_index_body(layout.replicas),
        names.identity_conflicts: identity_conflicts_index_body(layout.replicas),
        names.webhooks: webhooks_index_body(layout.replicas),
    }


def ensure_records_index(client: OpenSearch, names: IndexNames, body: dict[str, Any] | None = None) -> str:
    """The concrete records index behind the alias, created (v1) if there is none.

    Raises SchemaOutdated when the existing index was built from other analysis or mappings."""
    return ensure_versioned_index(client, names.records, body or records_body(names))


def stamped(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with its schema fingerprint in `mappings._meta.rcu_schema` (bodies from
    analyzers.index_settings carry one already; plain bodies get one from their mappings)."""
    mappings = body.get("mappings", {})
    if "rcu_schema" in mappings.get("_meta", {}):
        return body
    relevant = {"analysis": body.get("settings", {}).get("analysis"), "mappings": mappings}
    fingerprint = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
    return {**body, "mappings": {**mappings, "_meta": {**mappings.get("_meta", {}), "rcu_schema": fingerprint}}}


def ensure_versioned_index(client: OpenSearch, alias: str, body: dict[str, Any]) -> str:
    """The concrete index behind `alias` (`<alias>-v<N>`), created as v1 when there is none."""
    body = stamped(body)
    current = _current_index(client, alias)
    if current is None:
        current = f"{alias}-v1"
        try:
            client.indices.create(index=current, body={**body, "aliases": {alias: {"is_write_index": True}}})
            log.info("index_created index=%s alias=%s", current, alias)
            return current
        except RequestError as error:
            # Another first run created it meanwhile (index and alias in one call): use theirs.
            if error.error != "resource_already_exists_exception":
                raise
            current = _current_index(client, alias) or current
    found = _fingerprint(client, current)
    # An index of the alias's own name from an older rcu has no fingerprint: used as it is until `rcu reindex`.
    if found != body["mappings"]["_meta"]["rcu_schema"] and not (current == alias and found is None):
        raise SchemaOutdated(f"{current} was built from another schema than this rcu's; run `rcu reindex`.")
    return current


def reindex_records(client: OpenSearch, names: IndexNames, body: dict[str, Any] | None = None) -> tuple[str | None, str]:
    """Move the records to a new index version with the current schema; returns (old, new)."""
    return reindex_index(client, names.records, body or records_body(names))


def legacy_fields(names: IndexNames) -> dict[str, list[str]]:
    """alias → the fields an older rcu wrote that this rcu's strict mapping no longer holds, dropped
    from every document `rcu reindex` copies: the memberships profiles held before session 14
    (a segment is its condition searched, and a stored membership would be read by a condition)."""
    return {names.profiles: ["segments"]}


def _dropping(fields: Sequence[str]) -> dict[str, Any]:
    """A reindex's script removing `fields` from each document copied (nothing when none)."""
    if not fields:
        return {}
    return {
        "script": {"lang": "painless", "source": "for (f in params.fields) { ctx._source.remove(f) }", "params": {"fields": list(fields)}}
    }


def reindex_index(
    client: OpenSearch, alias: str, body: dict[str, Any], dropped: Sequence[str] = (), *, block_writes: bool = False
) -> tuple[str | None, str]:
    """Move the documents behind `alias` to a new index version built from `body`, without the
    `dropped` fields (`legacy_fields`); returns (old, new). With `block_writes`, the old version
    refuses writes while it is copied (its writers retry later): for an index whose deletions must
    never be undone (the audit keyring: a key an erasure deleted), which the copy would not carry."""
    body = stamped(body)
    old = _current_index(client, alias)
    if old is None:
        return None, ensure_versioned_index(client, alias, body)
    new = f"{alias}-v{_version_of(old) + 1}"
    client.indices.create(index=new, body=body)
    if old == alias:
        return old, _move_behind_alias(client, alias, new, dropped)
    if block_writes:
        return old, _copy_blocked(client, alias, old, new, dropped)

    def copy() -> dict[str, Any]:
        return client.reindex(
            body={
                "conflicts": "proceed",
                "source": {"index": old},
                "dest": {"index": new, "version_type": "external"},
                **_dropping(dropped),
            },
            wait_for_completion=True,
            refresh=True,
            request_timeout=3600,
        )

    copy()
    client.indices.update_aliases(
        body={
            "actions": [
                {"remove": {"index": old, "alias": alias}},
                {"add": {"index": new, "alias": alias, "is_write_index": True}},
            ]
        }
    )
    # Writes that reached the old index while the first copy ran: external versions keep only newer ones.
    copy()
    client.indices.delete(index=old)
    log.info("reindexed old=%s new=%s", old, new)
    return old, new


def _copy_blocked(client: OpenSearch, alias: str, old: str, new: str, dropped: Sequence[str]) -> str:
    """One copy of `old` while it refuses writes, then the alias moves to `new` and `old` goes;
    `old` takes writes again if anything fails before."""
    client.indices.put_settings(index=old, body={"index": {"blocks.write": True}})
    try:
        client.indices.refresh(index=old)  # the copy reads what a search sees: the last writes too
        client.reindex(
            body={"source": {"index": old}, "dest": {"index": new, "version_type": "external"}, **_dropping(dropped)},
            wait_for_completion=True,
            refresh=True,
            request_timeout=3600,
        )
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": new, "alias": alias, "is_write_index": True}}, {"remove_index": {"index": old}}]}
        )
    finally:
        if client.indices.exists(index=old):
            client.indices.put_settings(index=old, body={"index": {"blocks.write": False}})
    log.info("reindexed old=%s new=%s", old, new)
    return new


def _move_behind_alias(client: OpenSearch, name: str, new: str, dropped: Sequence[str] = ()) -> str:
    """An index named like its alias (older rcu) moves to `new`: writes to it are blocked while it is
    copied, then one atomic call deletes it and points the alias of the same name at `new`."""
    return _copy_blocked(client, name, name, new, dropped)
