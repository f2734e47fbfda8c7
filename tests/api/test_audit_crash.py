"""The audit trail survives the API's death (real `rcu serve` processes, real node): the API is
killed (SIGKILL) in the middle of a look-up load, started again, and every look-up it had answered
has its audit entry in the audit index, once; and entries reach the index within about the
shipping interval while the API runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from opensearchpy import OpenSearch

from api.policy import DEMO_KEYS
from search.indices import IndexNames
from settings import Settings

COUNTER = {"X-API-Key": DEMO_KEYS["counter"]}


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _serve(settings: Settings, journal: Path, port: int, ship_interval_s: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPENSEARCH_URL": settings.opensearch_url,
        "RCU_INDEX_PREFIX": settings.index_prefix,
        "RCU_AUDIT_JOURNAL_PATH": str(journal),
        "RCU_AUDIT_SHIP_INTERVAL_S": str(ship_interval_s),
    }
    rcu = str(Path(sys.executable).with_name("rcu"))
    server = subprocess.Popen(
        [rcu, "serve", "--demo-policy", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError("rcu serve did not answer in 60 s")


def _entries(opensearch: OpenSearch, names: IndexNames, marker: str) -> list[dict[str, Any]]:
    opensearch.indices.refresh(index=names.audit)
    body = {"query": {"prefix": {"query": marker}}, "size": 10_000}
    return [hit["_source"] for hit in opensearch.search(index=names.audit, body=body)["hits"]["hits"]]


def test_every_look_up_answered_before_the_api_was_killed_has_its_audit_entry_after_restart(
    api_settings: Settings, opensearch: OpenSearch, tmp_path: Path
) -> None:
    names = IndexNames(api_settings.index_prefix)
    port = _free_port()
    # A long shipping interval: when the API dies, most answered look-ups are in the journal only.
    server = _serve(api_settings, tmp_path, port, ship_interval_s=30)
    answered: list[str] = []
    stop = threading.Event()

    def agent(number: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=COUNTER, timeout=5) as http:
            sent = 0
            while not stop.is_set():
                query = f"crashtest dupont {number}x{sent}"
                sent += 1
                try:
                    response = http.get("/v1/search", params={"q": query})
                except httpx.HTTPError:
                    return  # the API is gone: this look-up was never answered
                if response.status_code in (200, 422):  # both are answers, both audited
                    answered.append(query)

    agents = [threading.Thread(target=agent, args=(n,)) for n in range(4)]
    for thread in agents:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    stop.set()
    for thread in agents:
        thread.join(timeout=10)
    assert len(answered) >= 150, f"only {len(answered)} look-ups answered before the kill"
    in_index_before = len(_entries(opensearch, names, "crashtest"))

    restarted = _serve(api_settings, tmp_path, port, ship_interval_s=0.2)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            entries = _entries(opensearch, names, "crashtest")
            if {e["query"] for e in entries} >= set(answered):
                break
            time.sleep(0.5)
        queries = [e["query"] for e in entries]
        assert not set(answered) - set(queries), f"{len(set(answered) - set(queries))} answered look-ups without an audit entry"
        assert len(queries) == len(set(queries)), "an entry replayed after the crash is kept once"
        assert in_index_before < len(answered), "the kill came before the entries were shipped (otherwise nothing was replayed)"

        # While the API runs, an entry reaches the index within about the shipping interval.
        sent = time.monotonic()
        assert (
            httpx.get(f"http://127.0.0.1:{port}/v1/search", params={"q": "crashtest fresh"}, headers=COUNTER, timeout=5).status_code == 200
        )
        while not _entries(opensearch, names, "crashtest fresh") and time.monotonic() - sent < 10:
            time.sleep(0.1)
        assert _entries(opensearch, names, "crashtest fresh"), "an entry was not shipped within 10 s"
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    assert not list(tmp_path.glob("slot-*")), "a clean stop ships everything and leaves no journal behind"


def test_a_look_up_whose_audit_entry_the_disk_refuses_is_not_answered(api_settings: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.policy import DEMO_POLICY, Policy

    settings = api_settings.model_copy(update={"audit_journal_path": tmp_path})
    with TestClient(create_app(settings, Policy.load(DEMO_POLICY))) as client:
        journal = client.app.state.audit.journal  # type: ignore[attr-defined]
        os.close(journal._fd)
        journal._fd = os.open("/dev/full", os.O_WRONLY)  # every write fails: no space left on device
        answer = client.get("/v1/search", params={"q": "dupont"}, headers=COUNTER)
        assert answer.status_code == 503, answer.text
        assert "results" not in answer.json() and "audit" in answer.json()["detail"]
