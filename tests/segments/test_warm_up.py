"""The node warmed when `rcu serve` starts (search.warm_up): the 360 view's and the look-up's query
shapes run against no customer — nothing personal answered, nothing audited — in the background,
and a node that is down neither stops the API's start nor the warm-up later."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

import search.warm_up as warm_up_module
from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from api.routes.customers import DEFAULT_PAGE
from search.actions.rules import load_rules_file
from search.client import async_client
from search.indices import IndexNames
from search.warm_up import PHANTOM_ID, WarmUpPlan, warm_up
from settings import Settings
from tests.segments.conftest import event, store_events
from tests.segments.people import LOYAL


def _searched_indices(header: dict[str, Any] | None, url: str) -> set[str]:
    index = (header or {}).get("index") or url.strip("/").split("/")[0]
    return set(index if isinstance(index, list) else str(index).split(","))


def test_the_warm_up_runs_the_view_and_look_up_shapes_and_answers_no_customer(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = world_names
    # A look-up that finds a customer of the world when asked at the counter: the warm-up's finds no one.
    monkeypatch.setattr(warm_up_module, "LOOKUP_TEXTS", (*warm_up_module.LOOKUP_TEXTS, "octavie brunelle 44000"))
    store_events(opensearch, world, [event(LOYAL, "warm-1", 3, amount=40.0, shop="lyon2")])  # the events indices exist
    assert world.actions is not None
    load_rules_file(opensearch, names, world.actions)  # action rules in force: their percolation runs too
    accesses = [role.field_access() for role in Policy.load(DEMO_POLICY).roles.values() if "customers" in role.endpoints]
    sent: list[tuple[str, str, Any, Any]] = []

    async def run() -> int:
        client = async_client(world, timeout=30)
        perform = client.transport.perform_request

        async def recorded(method: str, url: str, params: Any = None, body: Any = None, headers: Any = None) -> Any:
            answer = await perform(method, url, params=params, body=body, headers=headers)
            sent.append((method, url, body, answer))
            return answer

        client.transport.perform_request = recorded  # type: ignore[method-assign,assignment]
        try:
            return await warm_up(client, WarmUpPlan(names, tuple(accesses), tuple(world.events_holding_attributes), DEFAULT_PAGE, rounds=2))
        finally:
            await client.close()

    with caplog.at_level(logging.DEBUG, logger="search.warm_up"):
        assert asyncio.run(run()) == 2
    searched: set[str] = set()
    percolated = False
    for _method, url, body, answer in sent:
        if url.endswith("_msearch"):
            text = body.decode() if isinstance(body, bytes) else body
            lines = [json.loads(line) for line in text.splitlines()] if isinstance(text, str) else text
            for header, request, response in zip(lines[::2], lines[1::2], answer["responses"], strict=True):
                searched |= _searched_indices(header, url)
                percolated |= "percolate" in json.dumps(request)
                assert response.get("hits", {}).get("hits", []) == [] or all(
                    hit["_index"].startswith(names.conditions) for hit in response["hits"]["hits"]
                ), "a warm-up search answered a document other than a condition"
        elif url.endswith("_search"):
            searched |= _searched_indices(None, url)
            assert answer["hits"]["hits"] == [], "a warm-up look-up answered a customer"
        elif url.endswith("_mget"):
            found = [doc for doc in answer["docs"] if doc.get("found")]
            assert all(doc["_index"].startswith(names.conditions) for doc in found), "a warm-up multi-get read a profile or a customer"
        else:
            assert answer is None or not answer.get("found"), f"a warm-up get read a document: {url}"
            searched |= _searched_indices(None, url)
    assert all(method in ("GET", "POST", "HEAD") for method, *_ in sent), "the warm-up wrote"
    # Every index the 360 view and the look-up read was asked, the conditions by percolation.
    wanted = {names.customers, names.records, names.events, names.conditions, names.possible_matches}
    assert wanted <= searched
    assert percolated
    assert not any(names.audit in index for index in searched)
    # What it logged names no one.
    for record in (r for r in caplog.records if r.name == "search.warm_up"):
        assert PHANTOM_ID not in record.getMessage() and "martin" not in record.getMessage().lower()


def test_the_api_serves_at_once_with_the_warm_up_in_the_background_and_warms_the_node_once(world: Settings) -> None:
    settings = world.model_copy(update={"warm_up_rounds": 3, "warm_up_check_s": 0.2})
    with TestClient(create_app(settings, Policy.load(DEMO_POLICY))) as api:
        warmer = api.app.state.warmer  # type: ignore[attr-defined]
        assert api.get("/health").status_code == 200
        deadline = time.monotonic() + 60
        while warmer.state != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert api.get("/ready").json()["warm_up"] == "done"
        time.sleep(0.6)  # several checks of the node's start time: the same node is not warmed again
        assert warmer.warmed == 1
        # Nobody was read: no audit entry names the phantom id.
        trail = api.get("/v1/audit", params={"customer_id": PHANTOM_ID}, headers={"X-API-Key": DEMO_KEYS["admin"]})
        assert trail.status_code == 200 and trail.json()["entries"] == []


def test_a_node_that_is_down_neither_stops_the_api_from_starting_nor_the_warm_up_from_waiting(world: Settings) -> None:
    down = world.model_copy(
        update={"opensearch_url": "http://127.0.0.1:9", "warm_up_rounds": 3, "warm_up_check_s": 0.05, "api_opensearch_timeout_s": 0.5}
    )
    with TestClient(create_app(down, Policy.load(DEMO_POLICY))) as api:
        assert api.get("/health").status_code == 200
        time.sleep(0.5)
        warmer = api.app.state.warmer  # type: ignore[attr-defined]
        assert warmer.state == "waiting" and warmer.warmed == 0
        assert warmer._task is not None and not warmer._task.done()  # still asking, at every check
