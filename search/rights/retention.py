"""Retention (CNIL: a prospect's data 3 years after the last contact; a former customer's for as
long as it may serve as evidence): customers whose records were not updated, and who had no event,
for their kind's period are erased like any erasure request; audit entries and change feed entries
older than their own periods are aged out — by delete by query, on every cluster: OpenSearch's index
state management plugin (ISM) acts on whole indices (rollover, delete), while the audit trail and the
change feed are one index each, and the managed node cannot have the plugin (it is not on Maven
Central, README *Retention*). `index_state_management` says whether the connected cluster has it.

A person is a **customer**, not a prospect, when rcu holds a sign of a purchase or a contract: an
event of a configured type (a purchase, a web order, a subscription) or a record from a source
configured as holding customers (a billing or loyalty system: having a card there is a relationship). Everyone else — known from a contact form, a newsletter,
a call, a visit — is a prospect.

The events that make a customer are kept for the customers' period, not the events' (36 months):
deleted with the others, they would leave a former buyer with no sign of the contract, classed a
prospect and erased at 3 years instead of 5 (review, session 14). Other events age out as before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.events.figures import record_filter
from search.events.rights import active_records, expire_events, expired_indices, retention_cutoff
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.rights.erasure import erase_customer
from search.rights.overlay import CustomerNotFound
from search.rights.trail import record_operator_action
from search.segments.conditions import forget_last_run

PROSPECT, CUSTOMER = "prospect", "customer"


@dataclass(frozen=True)
class RetentionPeriods:
    """Each kind's period, and what makes a customer (settings: retention_days, customer_retention_days,
    customer_event_types, customer_sources)."""

    prospect_days: int
    customer_days: int
    customer_event_types: tuple[str, ...] = ("purchase", "web_order", "subscription")
    customer_sources: tuple[str, ...] = ()

    def days(self, kind: str) -> int:
        return self.customer_days if kind == CUSTOMER else self.prospect_days

    def from_customers_source(self, record_ids: Sequence[str]) -> bool:
        return any(fnmatchcase(r.partition(":")[0], pattern) for r in record_ids for pattern in self.customer_sources)


@dataclass
class RetentionPlan:
    customers: list[tuple[str, str]] = field(default_factory=list)  # (customer_id, last update)
    kinds: dict[str, str] = field(default_factory=dict)  # customer_id → PROSPECT or CUSTOMER, of those listed
    undated_customers: int = 0  # no record carries updated_at: kept, and said
    audit_entries: int = 0
    changes: int = 0
    kept_for_events: int = 0  # no record update in the period, but an event in it: still a customer
    event_indices: list[str] = field(default_factory=list)  # events indices wholly past the events' retention
    events_cutoff: datetime | None = None  # events before this are deleted, the straddling index's too
    contract_types: tuple[str, ...] = ()  # events of these types are kept until contracts_cutoff instead
    contracts_cutoff: datetime | None = None  # the customers' period: a former buyer's sign of a contract


def _older_than(date_field: str, cutoff: datetime) -> dict[str, Any]:
    return {"range": {date_field: {"lt": cutoff.isoformat()}}}


def _when(value: str) -> datetime:
    """A stored `updated_at` (ISO 8601, `Z` or an offset; a date alone read as UTC midnight)."""
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _count(client: OpenSearch, index: str, query: dict[str, Any]) -> int:
    if not client.indices.exists(index=index):
        return 0
    return int(client.count(index=index, body={"query": query})["count"])


def contract_records(client: OpenSearch, names: IndexNames, record_ids: Sequence[str], types: Sequence[str]) -> set[str]:
    """Those of `record_ids` with an event of one of `types` (a purchase, a subscription), at any time."""
    if not record_ids or not types or not client.indices.exists_alias(name=names.events):
        return set()
    found: set[str] = set()
    for start in range(0, len(record_ids), 1000):
        batch = list(record_ids[start : start + 1000])
        body = {
            "query": {"bool": {"filter": [record_filter(batch), {"terms": {"type": list(types)}}]}},
            "size": 0,
            "aggs": {"records": {"terms": {"field": "record_id", "size": len(batch)}}},
        }
        found.update(b["key"] for b in client.search(index=names.events, body=body)["aggregations"]["records"]["buckets"])
    return found


def retention_plan(
    client: OpenSearch,
    names: IndexNames,
    now: datetime,
    retention: int | RetentionPeriods,
    audit_days: int,
    changes_days: int,
    event_months: int = 36,
) -> RetentionPlan:
    """What `rcu retention --apply` would erase and age out at `now`: each customer past its kind's
    period (`retention`; a number of days: one period for both). An event within that period (a
    purchase, a visit, a call) is activity: its customer is kept."""
    periods = retention if isinstance(retention, RetentionPeriods) else RetentionPeriods(retention, retention)
    plan = RetentionPlan()
    cutoffs = {kind: now - timedelta(days=periods.days(kind)) for kind in (PROSPECT, CUSTOMER)}
    query = {"query": _older_than("updated_at", max(cutoffs.values())), "_source": ["customer_id", "updated_at", "records"]}
    stale = [h["_source"] for h in scan(client, index=names.customers, query=query, size=2000)]
    contracts = contract_records(client, names, [r for c in stale for r in c.get("records", [])], periods.customer_event_types)
    by_kind: dict[str, list[dict[str, Any]]] = {PROSPECT: [], CUSTOMER: []}
    for customer in stale:
        records = customer.get("records", [])
        kind = CUSTOMER if contracts.intersection(records) or periods.from_customers_source(records) else PROSPECT
        if _when(customer["updated_at"]) < cutoffs[kind]:
            by_kind[kind].append(customer)
    for kind, candidates in by_kind.items():
        active = active_records(client, names, [r for c in candidates for r in c.get("records", [])], cutoffs[kind])
        plan.kept_for_events += sum(1 for c in candidates if active.intersection(c.get("records", [])))
        for c in candidates:
            if not active.intersection(c.get("records", [])):
                plan.customers.append((c["customer_id"], c["updated_at"]))
                plan.kinds[c["customer_id"]] = kind
    plan.customers.sort()
    plan.events_cutoff = retention_cutoff(now, event_months)
    plan.contract_types, plan.contracts_cutoff = periods.customer_event_types, min(plan.events_cutoff, cutoffs[CUSTOMER])
    plan.event_indices = expired_indices(client, names, plan.contracts_cutoff if plan.contract_types else plan.events_cutoff)
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
        expire_events(client, names, plan.event_indices, plan.events_cutoff, plan.contract_types, plan.contracts_cutoff)
        forget_last_run(client, names)  # last_seen, shops and channels may have gone with the events
    for index, date_field, days in ((names.audit, "at", audit_days), (names.changes, "at", changes_days)):
        if client.indices.exists(index=index):
            query = _older_than(date_field, now - timedelta(days=days))
            # The erasures just made rewrote entries there without a refresh (search.rights.erasure_plan):
            # a delete by query working from the last refreshed view would skip them as conflicts.
            client.indices.refresh(index=index)
            client.delete_by_query(index=index, body={"query": query}, refresh=True, conflicts="proceed")
    return erased


ISM_PLUGIN = "opensearch-index-management"


def index_state_management(client: OpenSearch) -> str:
    """Whether the connected cluster has OpenSearch's index state management plugin: `present` (on
    every node), `absent` (on none) or `partial`, from the nodes' plugin lists."""
    return ism_presence(client.nodes.info(metric="plugins"))


def ism_presence(nodes_info: dict[str, Any]) -> str:
    """`present`, `absent` or `partial`: the ISM plugin among each node's plugins (`_nodes/plugins`)."""
    having = [any(plugin.get("name") == ISM_PLUGIN for plugin in node.get("plugins", [])) for node in nodes_info.get("nodes", {}).values()]
    if having and all(having):
        return "present"
    return "partial" if any(having) else "absent"
