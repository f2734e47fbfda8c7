"""Webhooks: the change feed pushed to a real local HTTP receiver — each subscriber gets what its
role reads at GET /v1/changes, signed, in order; a failing receiver gets the same batch again after
a growing wait; the cursor survives a restart of the worker; a batch failing N times is a dead
letter an admin sees and resumes, and a parked subscriber holds no other back."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from api.app import create_app
from api.policy import DEMO_KEYS, Policy
from rcu.cli import EXIT_USAGE, app
from search.indices import IndexNames
from search.webhooks import state as webhook_state
from search.webhooks.delivery import DeliveryPolicy, Subscriber, deliver_all, deliver_next
from search.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from settings import Settings, get_settings
from tests.rights.test_changes import FLORIAN

RoleClient = Callable[[str], Any]
SECRET = b"test-webhook-secret"


class Receiver:
    """A real HTTP server on a free local port, answering each POST with the next status of
    `answers` (then 200), and keeping what it was sent."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.always: int | None = None
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.always or (receiver.answers.pop(0) if receiver.answers else 200)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rcu-changes"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def changes(self) -> list[dict[str, Any]]:
        return [change for payload in self.payloads() for change in payload["changes"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def subscriber(policy_text: str, tmp_path: Path, name: str, url: str, role: str) -> Subscriber:
    """The subscriber `name` as the policy declares it (bound like a key of `role`)."""
    path = tmp_path / f"{name}.toml"
    path.write_text(f'{policy_text}\n[webhooks.{name}]\nurl = "{url}"\nrole = "{role}"\n', encoding="utf-8")
    (found,) = [s for s in Policy.load(path).webhook_subscribers({name: SECRET}) if s.name == name]
    return found


@pytest.fixture
def subscribe(world: Settings, tmp_path: Path) -> Callable[[str, str, str], Subscriber]:
    text = Path(world.policy).read_text(encoding="utf-8")  # type: ignore[arg-type]
    return lambda name, url, role: subscriber(text, tmp_path, name, url, role)


def _feed(as_role: RoleClient, role: str) -> list[dict[str, Any]]:
    changes, since = [], 0
    while True:
        page = as_role(role).get("/v1/changes", params={"since": since, "limit": 5000}).json()
        changes += page["changes"]
        since = page["cursor"]
        if not page["more"]:
            return changes


def test_a_subscriber_receives_the_changes_its_role_reads_signed_and_in_order(
    opensearch: OpenSearch, world: Settings, as_role: RoleClient, receiver: Receiver, http: httpx.Client, subscribe: Callable[..., Any]
) -> None:
    names = IndexNames(world.index_prefix)
    shops = subscribe("shops", receiver.url, "shop")  # bound to loyalty_*
    delivered = deliver_all(opensearch, names, http, [shops], DeliveryPolicy(batch=40))

    expected = _feed(as_role, "shop")
    assert expected and len(receiver.received) > 1, "the loyalty customers' changes, in several batches"
    assert receiver.changes() == expected  # the same filtering as GET /v1/changes, every change once, in order
    assert delivered == {"shops": len(expected)}
    assert len(expected) < len(_feed(as_role, "admin"))
    for headers, body in receiver.received:
        assert verify(SECRET, headers[SIGNATURE_HEADER], body, time.time())
        assert not verify(SECRET, headers[SIGNATURE_HEADER], body.replace(b"loyalty_", b"loyalty-"), time.time())
        assert not verify(b"another secret", headers[SIGNATURE_HEADER], body, time.time())
        assert json.loads(body)["delivery"] == headers[DELIVERY_HEADER]


def test_a_failing_receiver_gets_the_same_batch_again_after_a_growing_wait(
    opensearch: OpenSearch, world: Settings, receiver: Receiver, http: httpx.Client, subscribe: Callable[..., Any]
) -> None:
    names = IndexNames(world.index_prefix)
    flaky = subscribe("flaky", receiver.url, "integrator")
    policy = DeliveryPolicy(batch=25, backoff_s=2.0, backoff_max_s=600.0, max_attempts=5)
    receiver.answers = [500, 503]
    t0 = datetime.now(UTC)

    def step(after_s: float) -> str:
        return deliver_next(opensearch, names, http, flaky, policy, t0 + timedelta(seconds=after_s)).status

    assert step(0) == "failed"
    assert step(1.9) == "waiting"  # 2 s after the first failure
    assert step(2.1) == "failed"
    assert step(2.1 + 3.9) == "waiting"  # then 4 s
    assert step(2.1 + 4.1) == "delivered"
    first, second, third = receiver.payloads()
    assert first == second == third  # the very same batch, the same delivery id, until it is taken
    assert 0 < len(first["changes"]) <= 25
    assert step(6.3) == "delivered"
    assert receiver.payloads()[3]["changes"][0]["seq"] > first["changes"][-1]["seq"]
    state = webhook_state.load_state(opensearch, names, "flaky")
    assert (state.attempts, state.last_error, state.next_attempt_at) == (0, None, None)


def test_the_delivery_cursor_survives_a_restart_of_the_worker(
    opensearch: OpenSearch, world: Settings, as_role: RoleClient, receiver: Receiver, http: httpx.Client, subscribe: Callable[..., Any]
) -> None:
    names = IndexNames(world.index_prefix)
    crm = subscribe("restarting", receiver.url, "integrator")
    deliver_all(opensearch, names, http, [crm], DeliveryPolicy())
    before = receiver.changes()
    pushed = as_role("steward").post("/v1/records", json={**FLORIAN, "source": "ecommerce", "source_id": "WH1"}).json()

    webhook_state._ENSURED.clear()  # a new process: nothing in memory, only what OpenSearch keeps
    with httpx.Client() as fresh:
        deliver_all(opensearch, names, fresh, [crm], DeliveryPolicy())
    after = receiver.changes()[len(before) :]
    assert after, "the change made while the worker was down"
    assert min(c["seq"] for c in after) > max(c["seq"] for c in before)  # nothing delivered twice, nothing skipped
    assert [c["customer_id"] for c in after] == [pushed["customer_id"]]
    assert after[0]["records"] == ["ecommerce:WH1"]


def test_a_batch_failing_n_times_is_a_dead_letter_an_admin_sees_and_resumes(
    opensearch: OpenSearch, world: Settings, receiver: Receiver, http: httpx.Client, subscribe: Callable[..., Any], tmp_path: Path
) -> None:
    names = IndexNames(world.index_prefix)
    dead = subscribe("deadend", receiver.url, "integrator")
    healthy_receiver = Receiver()
    healthy = subscribe("healthy", healthy_receiver.url, "integrator")
    policy = DeliveryPolicy(batch=10, backoff_s=0.0, max_attempts=3)
    receiver.always = 500
    for _ in range(3):
        deliver_all(opensearch, names, http, [dead, healthy], policy)
    assert len(receiver.received) == 3
    assert healthy_receiver.changes(), "a parked subscriber holds no other back"
    deliver_all(opensearch, names, http, [dead], policy)
    assert len(receiver.received) == 3, "nothing is sent past a dead letter"

    policy_file = tmp_path / "deadend.toml"
    text = Path(world.policy).read_text(encoding="utf-8")  # type: ignore[arg-type]
    policy_file.write_text(f'{text}\n[webhooks.deadend]\nurl = "{receiver.url}"\nrole = "integrator"\n', encoding="utf-8")
    with TestClient(create_app(world, Policy.load(policy_file))) as api:
        admin, integrator = ({"X-API-Key": DEMO_KEYS[role]} for role in ("admin", "integrator"))
        assert api.get("/v1/webhooks", headers=integrator).status_code == 403
        (shown,) = api.get("/v1/webhooks", headers=admin).json()["subscribers"]
        assert shown["name"] == "deadend" and shown["parked"] and shown["attempts"] == 3 and shown["last_error"] == "HTTP 500"
        (letter,) = shown["dead_letters"]
        first_batch = json.loads(receiver.received[0][1])
        assert letter["delivery"] == first_batch["delivery"] and letter["from_seq"] == first_batch["changes"][0]["seq"]
        assert "resolved" not in letter

        receiver.always = None
        assert api.post("/v1/webhooks/deadend/resume", headers=admin).json()["parked"] is False
        assert api.post("/v1/webhooks/deadend/resume", headers=admin).status_code == 409
        assert api.post("/v1/webhooks/nobody/resume", headers=admin).status_code == 404
        deliver_all(opensearch, names, http, [dead], policy)
        (shown,) = api.get("/v1/webhooks", headers=admin).json()["subscribers"]
    assert json.loads(receiver.received[3][1])["delivery"] == first_batch["delivery"]  # the dead batch first
    assert receiver.changes()[len(first_batch["changes"]) * 3 :] == healthy_receiver.changes()
    assert shown["dead_letters"][0]["resolved"] == "retried" and not shown["parked"]
    healthy_receiver.server.shutdown()
    healthy_receiver.server.server_close()


def test_rcu_webhooks_run_delivers_and_refuses_a_subscriber_without_a_secret(
    world: Settings, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_role: RoleClient
) -> None:
    policy_file = tmp_path / "cli.toml"
    text = Path(world.policy).read_text(encoding="utf-8")  # type: ignore[arg-type]
    policy_file.write_text(f'{text}\n[webhooks.cli-shops]\nurl = "{receiver.url}"\nrole = "shop"\n', encoding="utf-8")
    for name, value in {
        "RCU_INDEX_PREFIX": world.index_prefix,
        "OPENSEARCH_URL": world.opensearch_url,
        "RCU_POLICY": str(policy_file),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RCU_WEBHOOK_SECRETS", raising=False)
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, ["webhooks", "run", "--once"])
        assert refused.exit_code == EXIT_USAGE and "RCU_WEBHOOK_SECRETS" in refused.output
        monkeypatch.setenv("RCU_WEBHOOK_SECRETS", json.dumps({"cli-shops": SECRET.decode()}))
        get_settings.cache_clear()
        ran = CliRunner().invoke(app, ["webhooks", "run", "--once"])
        assert ran.exit_code == 0, ran.output
        status = CliRunner().invoke(app, ["webhooks", "status"])
    finally:
        get_settings.cache_clear()
    assert receiver.changes() == _feed(as_role, "shop")
    assert f"cli-shops\tdelivered {len(receiver.changes())} changes" in ran.output
    assert status.output.startswith("ok\tcli-shops")
