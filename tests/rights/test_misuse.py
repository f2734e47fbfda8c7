"""Misuse: a key reading far more distinct customers than its role's rate per hour is slowed down
and reported (the audit trail, `rcu audit report`); a busy counter, opening the same customers
again and again, is not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from api.app import create_app
from api.policy import DEMO_KEYS, Policy, hash_key
from rcu.cli import app as cli
from search.audit import ensure_audit_index
from search.client import async_client
from search.indices import IndexNames
from search.misuse import WatchedAuditWriter, suspected
from settings import Settings, get_settings
from tests.rights.conftest import CAMPAIGNS_KEY

LIMIT = 20
DELAY_S = 0.3
# Keys of the campaigns role of their own, one per test: the audit trail's last hour is shared by the module.
SPLIT_KEY, RESTART_KEY, BUSY_KEY = "test-split-key", "test-restart-key", "test-busy-key"
SLOW_S = 1.5  # their slow-down: a look-up on this shared, loaded machine sometimes takes DELAY_S by itself


def one_clock_hour() -> Callable[[], datetime]:
    """The audit clock of a test's API processes: the instant it was made, for every entry. Reads are
    reported per key and *clock* hour (`rcu audit report`, the suspicion's id): with the wall clock, a
    test running across hh:00 split its reads over two hours (none over the limit) or left two
    suspicions, one per hour — what the behaviour is, not what the test checks."""
    frozen = datetime.now(UTC)
    return lambda: frozen


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
    for name, key in (("split tool", SPLIT_KEY), ("restart tool", RESTART_KEY), ("busy counter", BUSY_KEY)):
        text += f'\n[[keys]]\nname = "{name}"\nrole = "campaigns"\nsha256 = "{hash_key(key)}"\n'
    policy.write_text(text, encoding="utf-8")
    # The shared count is read when a test says so (_share), not every minute.
    settings = world.model_copy(update={"policy": policy, "misuse_delay_s": DELAY_S, "misuse_refresh_s": 3600.0})
    with TestClient(create_app(settings, Policy.load(settings.policy), one_clock_hour())) as client:
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


def _share(*clients: TestClient) -> None:
    """What each API process does in the background every RCU_MISUSE_REFRESH_S, once every
    journal is shipped (each a second after its look-ups): the trail's per-key count read."""
    for client in clients:
        assert client.portal is not None
        client.portal.call(client.app.state.audit_shipper.flush, client.app.state.settings.api_opensearch_timeout_s)  # type: ignore[attr-defined]
    for client in clients:
        assert client.portal is not None
        writer: WatchedAuditWriter = client.app.state.audit  # type: ignore[attr-defined]
        client.portal.call(writer.refresh_shared, client.app.state.opensearch, client.app.state.names)  # type: ignore[attr-defined]


def _open(client: TestClient, customer_id: str, key: str) -> float:
    began = time.monotonic()
    assert client.get(f"/v1/customers/{customer_id}", headers={"X-API-Key": key}).status_code == 200
    return time.monotonic() - began


def test_reads_split_across_two_api_processes_add_up_and_are_reported_once(
    watched: tuple[TestClient, Settings], opensearch: OpenSearch, world: Settings
) -> None:
    """A leaked key spread over two workers, each below the limit, is slowed on both once they read
    the trail; one suspicion is written for the key and hour, not one per worker. A busy counter
    opening the same ten customers on both workers reads ten customers, not twenty."""
    settings = watched[1].model_copy(update={"misuse_delay_s": SLOW_S})
    policy = Policy.load(settings.policy)
    ids = _customer_ids(opensearch, world, 2 * (LIMIT // 2 + 1) + 2)
    half = LIMIT // 2 + 1  # each worker alone stays under the limit, both together pass it
    clock = one_clock_hour()  # the two workers, within one clock hour (their one suspicion's id)
    with TestClient(create_app(settings, policy, clock)) as first, TestClient(create_app(settings, policy, clock)) as second:
        for _round in range(3):
            for client in (first, second):
                assert all(_open(client, customer_id, BUSY_KEY) < SLOW_S for customer_id in ids[:10])
            _share(first, second)
        assert all(_open(first, customer_id, SPLIT_KEY) < SLOW_S for customer_id in ids[:half])
        assert all(_open(second, customer_id, SPLIT_KEY) < SLOW_S for customer_id in ids[half : 2 * half])
        _share(first, second)
        assert _open(first, ids[-2], SPLIT_KEY) >= SLOW_S
        assert _open(second, ids[-1], SPLIT_KEY) >= SLOW_S
        assert _open(first, ids[0], BUSY_KEY) < SLOW_S
        assert _open(second, ids[1], BUSY_KEY) < SLOW_S
        _share(first, second)
        entries = first.get("/v1/audit", params={"limit": 500}, headers={"X-API-Key": DEMO_KEYS["admin"]}).json()["entries"]
    assert [e["caller"] for e in entries if e["action"] == "misuse_suspected" and e["caller"] in ("split tool", "busy counter")] == [
        "split tool"
    ]


def test_a_restarted_api_still_knows_what_a_key_read_in_the_last_hour(
    watched: tuple[TestClient, Settings], opensearch: OpenSearch, world: Settings
) -> None:
    settings = watched[1].model_copy(update={"misuse_delay_s": SLOW_S})
    policy = Policy.load(settings.policy)
    ids = _customer_ids(opensearch, world, LIMIT + 3)
    with TestClient(create_app(settings, policy)) as before:
        assert all(_open(before, customer_id, RESTART_KEY) < SLOW_S for customer_id in ids[: LIMIT // 2 + 1])
    # Stopped (its journal shipped on the way out), started again: it seeds from the trail.
    with TestClient(create_app(settings, policy)) as after:
        timings = [_open(after, customer_id, RESTART_KEY) for customer_id in ids[LIMIT // 2 + 1 :]]
    assert timings[0] < SLOW_S
    assert all(t >= SLOW_S for t in timings[-2:])  # past LIMIT over both lives, slowed
