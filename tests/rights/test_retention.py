"""Retention: `rcu retention` lists customers past the retention period and erases nothing;
with --apply it erases them (410 Gone) and ages out old audit entries, keeping recent ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from search.indices import IndexNames
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
