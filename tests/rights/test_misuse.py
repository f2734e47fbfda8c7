"""Misuse: a key reading far more distinct customers than its role's rate per hour is slowed down
and reported (the audit trail, `rcu audit report`); a busy counter, opening the same customers
again and again, is not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from api.app import create_app
from api.policy import DEMO_KEYS, Policy
from rcu.cli import app as cli
from search.audit import ensure_audit_index
from search.client import async_client
from search.indices import IndexNames
from search.misuse import suspected
from settings import Settings, get_settings
from tests.rights.conftest import CAMPAIGNS_KEY

LIMIT = 20
DELAY_S = 0.3


@pytest.fixture(scope="module")
def watched(world: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    """The world's API with the counter and the campaign tool both limited to LIMIT customers an hour."""
    policy = tmp_path_factory.mktemp("misuse") / "policy.toml"
    text = Path(world.policy).read_text(encoding="utf-8")  # type: ignore[arg-type]
    text = text.replace("max_customers_per_hour = 600", f"max_customers_per_hour = {LIMIT}", 1)
    text = text.replace(
        'purpose = "marketing"\n\n[[keys]]\nname = "campaign tool"',
        f'purpose = "marketing"\nmax_customers_per_hour = {LIMIT}\n\n[[keys]]\nname = "campaign tool"',
    )
    policy.write_text(text, encoding="utf-8")
    settings = world.model_copy(update={"policy": policy, "misuse_delay_s": DELAY_S})
    with TestClient(create_app(settings, Policy.load(settings.policy))) as client:
        yield client, settings


def _customer_ids(opensearch: OpenSearch, world: Settings, count: int) -> list[str]:
    hits = opensearch.search(
        index=IndexNames(world.index_prefix).customers, body={"size": count, "_source": False, "sort": ["customer_id"]}
    )
    return [hit["_id"] for hit in hits["hits"]["hits"]]


def test_the_misuse_limit_slows_and_reports_a_bulk_reader_and_not_a_busy_counter(
    watched: tuple[TestClient, Settings], opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings = watched
    ids = _customer_ids(opensearch, world, LIMIT + 10)
    counter = {"X-API-Key": DEMO_KEYS["counter"]}
    started = time.monotonic()
    for _round in range(12):  # a busy morning: the same ten customers, over and over
        for customer_id in ids[:10]:
            assert client.get(f"/v1/customers/{customer_id}", headers=counter).status_code == 200
        client.get("/v1/search", params={"q": "Camille Garnier"}, headers=counter)
    assert time.monotonic() - started < 120 * DELAY_S  # never slowed down

    bulk = {"X-API-Key": CAMPAIGNS_KEY}
    timings = []
    for customer_id in ids:
        began = time.monotonic()
        client.get(f"/v1/customers/{customer_id}", headers=bulk)
        timings.append(time.monotonic() - began)
    assert all(t >= DELAY_S for t in timings[LIMIT + 1 :])  # slowed past the limit
    # Household members shown beside a customer count as seen too (they are audited), so the limit
    # may be reached a little before LIMIT sheets were opened; never at the first.
    assert timings[0] < DELAY_S

    admin = {"X-API-Key": DEMO_KEYS["admin"]}
    entries = client.get("/v1/audit", params={"limit": 500}, headers=admin).json()["entries"]
    suspicions = [e for e in entries if e["action"] == "misuse_suspected"]
    assert [e["caller"] for e in suspicions] == ["campaign tool"]  # once, for the bulk reader only

    monkeypatch.setenv("RCU_INDEX_PREFIX", settings.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", settings.opensearch_url)
    monkeypatch.setenv("RCU_POLICY", str(settings.policy))
    get_settings.cache_clear()
    try:
        report = CliRunner().invoke(cli, ["audit", "report", "--hours", "2"])
    finally:
        get_settings.cache_clear()
    assert report.exit_code == 0, report.output
    over = [line for line in report.output.splitlines() if line.startswith("OVER LIMIT")]
    assert len(over) == 1 and "campaign tool" in over[0]
    assert any(line.startswith("ok") and "demo counter agent" in line for line in report.output.splitlines())
    assert "suspected" in report.output


def test_the_suspicions_read_include_one_shipped_the_moment_before(
    opensearch: OpenSearch, opensearch_settings: Settings, names: IndexNames
) -> None:
    """The audit index refreshes itself once a minute: `suspected` reads what was shipped just
    before it too, as every reader of the audit trail does (an erasure's pseudonymizations are not
    refreshed either). `rcu audit report` happens to refresh in hourly_reads first, so this calls
    `suspected` alone."""

    async def create() -> None:
        client = async_client(opensearch_settings)
        try:
            await ensure_audit_index(client, names)
        finally:
            await client.close()

    asyncio.run(create())
    now = datetime.now(UTC)
    entry = {"caller": "campaign tool", "role": "marketing", "action": "misuse_suspected", "customer_ids": [], "at": now.isoformat()}
    entry["query"] = f"distinct_customers_last_hour={LIMIT + 1} limit={LIMIT}"
    opensearch.index(index=names.audit, body=entry, refresh="false")
    assert [e["caller"] for e in suspected(opensearch, names, now - timedelta(hours=1))] == ["campaign tool"]
