"""Retention: `rcu retention` lists customers past the retention period and erases nothing;
with --apply it erases them (410 Gone) and ages out old audit entries, keeping recent ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.rights.retention import (
    CUSTOMER,
    ISM_PLUGIN,
    PROSPECT,
    RetentionPeriods,
    RetentionPlan,
    apply_retention,
    ism_presence,
    retention_plan,
)
from settings import Settings
from tests.rights.conftest import customer_of, no_periodic_refresh

RoleClient = Callable[[str], Any]


def test_retention_lists_then_erases_customers_past_the_period_and_ages_out_old_audit_entries(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, cli: Callable[..., Any]
) -> None:
    names = IndexNames(world.index_prefix)
    camille = customer_of(as_role, "Camille Garnier")  # updated in 2026
    as_role("counter").get(f"/v1/customers/{camille}")
    opensearch.index(
        index=names.audit,
        body={"at": "2020-01-01T00:00:00+00:00", "caller": "old", "role": "counter", "action": "customer", "customer_ids": ["COLD"]},
        refresh=True,
    )
    cutoff = datetime(2025, 1, 1, tzinfo=UTC)
    days = (datetime.now(UTC) - cutoff).days
    customers_before = opensearch.count(index=names.customers)["count"]

    dry = cli("retention", "--days", str(days))
    assert dry.exit_code == 0, dry.output
    listed = [line.split("\t") for line in dry.output.splitlines() if "\tlast update " in line]
    last_day = (datetime.now(UTC) - timedelta(days=days)).date().isoformat()
    assert listed and all(updated.removeprefix("last update ") <= last_day for _cid, updated in listed)
    assert camille not in {cid for cid, _ in listed}
    assert "dry run" in dry.output and opensearch.count(index=names.customers)["count"] == customers_before

    applied = cli("retention", "--days", str(days), "--apply")
    assert applied.exit_code == 0, applied.output
    assert f"erased {len(listed)} customers" in applied.output
    for customer_id, _ in listed[:5]:
        assert as_role("counter").get(f"/v1/customers/{customer_id}").status_code == 410
    assert as_role("counter").get(f"/v1/customers/{camille}").status_code == 200
    trail = as_role("admin").get("/v1/audit", params={"limit": 500}).json()["entries"]
    assert all(e["caller"] != "old" for e in trail) and any(camille in e["customer_ids"] for e in trail)


def test_retention_says_the_managed_node_has_no_index_state_management_and_ages_entries_out_itself(
    opensearch: OpenSearch, world: Settings, cli: Callable[..., Any]
) -> None:
    plugins = {plugin["name"] for node in opensearch.nodes.info(metric="plugins")["nodes"].values() for plugin in node["plugins"]}
    assert ISM_PLUGIN not in plugins and plugins, plugins  # the managed node: its own plugins, not ISM
    dry = cli("retention")
    assert dry.exit_code == 0, dry.output
    assert "index state management: absent on the connected cluster; entries aged out by delete by query" in dry.output


def test_index_state_management_is_present_only_when_every_node_has_it() -> None:
    def node(*plugins: str) -> dict[str, Any]:
        return {"plugins": [{"name": name} for name in plugins]}

    assert ism_presence({"nodes": {"a": node("analysis-phonetic", ISM_PLUGIN), "b": node(ISM_PLUGIN)}}) == "present"
    assert ism_presence({"nodes": {"a": node(ISM_PLUGIN), "b": node("analysis-phonetic")}}) == "partial"
    assert ism_presence({"nodes": {"a": node("analysis-phonetic")}}) == "absent"


def test_retention_ages_out_old_audit_entries_an_erasure_has_just_pseudonymized(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, cli: Callable[..., Any]
) -> None:
    """The erasure rewrites the audit entries about the person without refreshing the audit index:
    the age-out that follows must still delete those past the audit period."""
    names = IndexNames(world.index_prefix)
    person = {
        "source": "crm",
        "source_id": "RT1",
        "given_name": "Honorine",
        "family_name": "Pradalier",
        "birth_date": "1958-06-14",
        "email": "h.pradalier@free.fr",
        "phone": "0563112233",
        "updated_at": datetime.now(UTC).isoformat(),
    }
    customer = as_role("steward").post("/v1/records", json=person).json()["customer_id"]
    old = {"at": "2019-05-05T00:00:00+00:00", "caller": "old", "role": "counter", "action": "customer", "customer_ids": [customer]}
    opensearch.index(index=names.audit, body=old, refresh=True)
    with no_periodic_refresh(opensearch, world.index_prefix):
        assert as_role("privacy_officer").delete(f"/v1/customers/{customer}").status_code == 200
        applied = cli("retention", "--days", "36500", "--apply")
    assert applied.exit_code == 0, applied.output
    opensearch.indices.refresh(index=names.audit)
    left = opensearch.count(index=names.audit, body={"query": {"range": {"at": {"lt": "2020-01-01"}}}})["count"]
    assert left == 0


# Four people nobody else in the world resembles (one each per tag).
STRANGERS = {
    "B1": ("Anatole", "Quervellec", "1961-03-07"),
    "V1": ("Berthe", "Lozachmeur", "1948-09-22"),
    "S1": ("Cyprien", "Moalic", "1975-05-14"),
    "P1": ("Domitille", "Kerherve", "1990-12-01"),
    "B2": ("Eulalie", "Trividic", "1966-08-30"),
    "V2": ("Fulbert", "Guivarch", "1952-02-11"),
}


def _pushed(as_role: RoleClient, source: str, tag: str, updated: datetime) -> str:
    """A person known from one record of `source`, last updated at `updated`: its customer id."""
    given, family, born = STRANGERS[tag]
    person = {
        "source": source,
        "source_id": f"RT{tag}",
        "given_name": given,
        "family_name": family,
        "birth_date": born,
        "email": f"{given}.{family}@laposte.net".lower(),
        "updated_at": updated.isoformat(),
    }
    answer = as_role("steward").post("/v1/records", json=person)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["customer_id"])


def _listed_by_kind(output: str) -> dict[str, set[str]]:
    """`rcu retention`'s dry run: the customer ids listed under each kind's heading."""
    kinds: dict[str, set[str]] = {}
    current = None
    for line in output.splitlines():
        if " past " in line and line.split(" past ")[0] in ("prospects", "customers"):
            current = line.split(" past ")[0]
            kinds[current] = set()
        elif current and "\tlast update " in line:
            kinds[current].add(line.split("\t")[0])
    return kinds


def test_a_buyer_is_kept_for_the_customers_period_and_a_prospect_erased_after_its_own(
    as_role: RoleClient, world: Settings, cli: Callable[..., Any]
) -> None:
    now = datetime.now(UTC)
    four_years_ago = now - timedelta(days=4 * 365)
    buyer, visitor = _pushed(as_role, "crm", "B1", four_years_ago), _pushed(as_role, "crm", "V1", four_years_ago)
    for customer, kind, tag in ((buyer, "purchase", "B1"), (visitor, "visit", "V1")):
        event = {"source": "caisse_rennes", "event_id": f"RT-{tag}", "at": (now - timedelta(days=700)).isoformat(), "type": kind,
                 "record": f"crm:RT{tag}", "shop": "rennes", **({"amount": 12.5} if kind == "purchase" else {})}  # fmt: skip
        assert as_role("steward").post("/v1/events", json=event).status_code == 200, customer

    # A year for prospects: the visit 700 days ago is too old; five for customers: the purchase is recent enough.
    dry = cli("retention", "--days", "365", "--customer-days", str(5 * 365))
    assert dry.exit_code == 0, dry.output
    listed = _listed_by_kind(dry.output)
    assert visitor in listed["prospects"] and buyer not in listed["prospects"] | listed["customers"], dry.output
    # The same purchase, with a customers' period shorter than its age: listed, as a customer.
    shorter = _listed_by_kind(cli("retention", "--days", "365", "--customer-days", "600").output)
    assert buyer in shorter["customers"] and buyer not in shorter["prospects"]


def test_a_record_from_a_source_holding_customers_makes_a_customer_for_retention(
    as_role: RoleClient, world: Settings, cli: Callable[..., Any], monkeypatch: Any
) -> None:
    four_years_ago = datetime.now(UTC) - timedelta(days=4 * 365)
    subscriber = _pushed(as_role, "billing_telecom", "S1", four_years_ago)
    prospect = _pushed(as_role, "newsletter", "P1", four_years_ago)
    monkeypatch.setenv("RCU_CUSTOMER_SOURCES", '["billing_*"]')

    listed = _listed_by_kind(cli("retention").output)  # 3 years for prospects, 5 for customers: the defaults

    assert prospect in listed["prospects"]
    assert subscriber not in listed["prospects"] | listed["customers"], "four years without news: within a customer's five"


def _events_of(opensearch: OpenSearch, names: IndexNames, record_id: str) -> list[str]:
    opensearch.indices.refresh(index=names.events)
    hits = opensearch.search(index=names.events, body={"query": {"term": {"record_id": record_id}}, "size": 10})["hits"]["hits"]
    return sorted(hit["_source"]["type"] for hit in hits)


def test_a_former_buyer_outlives_the_events_period_and_is_kept_five_years_with_the_default_settings(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    # Default settings (prospects 3 years, customers 5, events 36 months, no customers' source):
    # a buyer's purchase 1,000 days ago and a visitor's visit as old, both records 4 years old.
    # 400 days on, both events are past the 36 months; the purchase must survive their ageing, or
    # the next run sees a prospect and erases the buyer at ~3 years instead of 5.
    names, now = IndexNames(world.index_prefix), datetime.now(UTC)
    buyer, visitor = (
        _pushed(as_role, "crm", "B2", now - timedelta(days=4 * 365)),
        _pushed(as_role, "crm", "V2", now - timedelta(days=4 * 365)),
    )
    for kind, tag in (("purchase", "B2"), ("visit", "V2")):
        event = {"source": "caisse_brest", "event_id": f"RT-{tag}", "at": (now - timedelta(days=1000)).isoformat(), "type": kind,
                 "record": f"crm:RT{tag}", "shop": "brest", **({"amount": 30.0} if kind == "purchase" else {})}  # fmt: skip
        assert as_role("steward").post("/v1/events", json=event).status_code == 200, event
    periods = RetentionPeriods(
        world.retention_days, world.customer_retention_days, tuple(world.customer_event_types), tuple(world.customer_sources)
    )
    assert (periods.prospect_days, periods.customer_days, world.events_retention_months, periods.customer_sources) == (1095, 1825, 36, ())
    later = now + timedelta(days=400)

    def plan() -> RetentionPlan:  # audit and change feed left alone: the world serves other tests
        return retention_plan(opensearch, names, later, periods, 36500, 36500, world.events_retention_months)

    first = plan()
    assert first.kinds.get(visitor) == PROSPECT and buyer not in first.kinds
    # The events aged out (nobody erased here: the world serves other tests), then the next run.
    apply_retention(opensearch, names, ResolutionConfig(), replace(first, customers=[]), later, 36500, 36500, None, "test")
    assert _events_of(opensearch, names, "crm:RTV2") == [] and _events_of(opensearch, names, "crm:RTB2") == ["purchase"]
    second = plan()
    assert second.kinds.get(visitor) == PROSPECT and buyer not in second.kinds, "a former buyer kept 5 years after the purchase"
    # Five years after the purchase the buyer goes too, as a customer.
    past_five = retention_plan(opensearch, names, now + timedelta(days=830), periods, 36500, 36500, world.events_retention_months)
    assert past_five.kinds.get(buyer) == CUSTOMER
