"""Retention (CNIL: a prospect's data 3 years after the last contact): customers whose records were
not updated for `retention_days` are erased like any erasure request; audit entries and change
feed entries older than their own periods are aged out. The node has no index state management
plugin here (OpenSearch's ISM would age time-based indices); rcu deletes by query instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.events.rights import active_records, expire_events, expired_indices, retention_cutoff
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.rights.erasure import erase_customer
from search.rights.overlay import CustomerNotFound
from search.rights.trail import record_operator_action
from search.segments.conditions import forget_last_run


@dataclass
class RetentionPlan:
    customers: list[tuple[str, str]] = field(default_factory=list)  # (customer_id, last update)
    undated_customers: int = 0  # no record carries updated_at: kept, and said
    audit_entries: int = 0
    changes: int = 0
    kept_for_events: int = 0  # no record update in the period, but an event in it: still a customer
    event_indices: list[str] = field(default_factory=list)  # events indices wholly past the events' retention
    events_cutoff: datetime | None = None  # events before this are deleted, the straddling index's too


def _older_than(date_field: str, cutoff: datetime) -> dict[str, Any]:
    return {"range": {date_field: {"lt": cutoff.isoformat()}}}


def _count(client: OpenSearch, index: str, query: dict[str, Any]) -> int:
    if not client.indices.exists(index=index):
        return 0
    return int(client.count(index=index, body={"query": query})["count"])


def retention_plan(
    client: OpenSearch,
    names: IndexNames,
    now: datetime,
    retention_days: int,
    audit_days: int,
    changes_days: int,
    event_months: int = 36,
) -> RetentionPlan:
    """What `rcu retention --apply` would erase and age out at `now`. An event within the period
    (a purchase, a visit, a call) is activity: its customer is kept."""
    plan = RetentionPlan()
    cutoff = now - timedelta(days=retention_days)
    query = {"query": _older_than("updated_at", cutoff), "_source": ["customer_id", "updated_at", "records"]}
    stale = [h["_source"] for h in scan(client, index=names.customers, query=query, size=2000)]
    active = active_records(client, names, [r for customer in stale for r in customer.get("records", [])], cutoff)
    kept = [c for c in stale if active.intersection(c.get("records", []))]
    plan.kept_for_events = len(kept)
    plan.customers = sorted((c["customer_id"], c["updated_at"]) for c in stale if not active.intersection(c.get("records", [])))
    plan.events_cutoff = retention_cutoff(now, event_months)
    plan.event_indices = expired_indices(client, names, plan.events_cutoff)
    plan.undated_customers = _count(client, names.customers, {"bool": {"must_not": [{"exists": {"field": "updated_at"}}]}})
    plan.audit_entries = _count(client, names.audit, _older_than("at", now - timedelta(days=audit_days)))
    plan.changes = _count(client, names.changes, _older_than("at", now - timedelta(days=changes_days)))
    return plan


def apply_retention(
    client: OpenSearch,
    names: IndexNames,
    config: ResolutionConfig,
    plan: RetentionPlan,
    now: datetime,
    audit_days: int,
    changes_days: int,
    key: bytes | None,
    by: str,
) -> int:
    """Erase the plan's customers and age out old audit and change entries; returns customers erased."""
    erased = 0
    for customer_id, _updated_at in plan.customers:
        try:
            report = erase_customer(client, names, config, customer_id, key, by)
            record_operator_action(client, names, "retention_erasure", [report.pseudonym])
            erased += 1
        except CustomerNotFound:  # merged or erased since the plan was made
            continue
    if plan.events_cutoff:
        expire_events(client, names, plan.event_indices, plan.events_cutoff)
        forget_last_run(client, names)  # last_seen, shops and channels may have gone with the events
    for index, date_field, days in ((names.audit, "at", audit_days), (names.changes, "at", changes_days)):
        if client.indices.exists(index=index):
            query = _older_than(date_field, now - timedelta(days=days))
            # The erasures just made rewrote entries there without a refresh (search.rights.erasure_plan):
            # a delete by query working from the last refreshed view would skip them as conflicts.
            client.indices.refresh(index=index)
            client.delete_by_query(index=index, body={"query": query}, refresh=True, conflicts="proceed")
    return erased
