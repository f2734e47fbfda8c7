"""When OpenSearch goes away the API answers 503 with Retry-After, and serves again once it is
back; bad parameters are 422s with a readable message; no stack trace ever reaches a client.
The node stays up: the path to it is cut by stopping a TCP relay in front of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from settings import Settings
from tests.relay import Relay

RoleClient = Callable[[str], object]


@pytest.fixture
def relayed(api_settings: Settings) -> Iterator[tuple[TestClient, Relay]]:
    node = urlsplit(api_settings.opensearch_url)
    relay = Relay((node.hostname or "127.0.0.1", node.port or 9200))
    relay.start()
    settings = api_settings.model_copy(update={"opensearch_url": f"http://127.0.0.1:{relay.port}", "opensearch_timeout_s": 2})
    try:
        with TestClient(create_app(settings, Policy.load(DEMO_POLICY))) as client:
            yield client, relay
    finally:
        relay.stop()


def test_opensearch_unreachable_is_a_503_and_service_resumes_when_it_is_back(relayed: tuple[TestClient, Relay]) -> None:
    client, relay = relayed
    headers = {"X-API-Key": DEMO_KEYS["counter"]}
    assert client.get("/v1/search", params={"q": "dupont"}, headers=headers).status_code == 200
    relay.stop()
    down = client.get("/v1/search", params={"q": "dupont"}, headers=headers)
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert down.json() == {"detail": "The search engine is unavailable; try again shortly."}
    assert client.get("/v1/cards/2905555555555", headers=headers).status_code == 503
    relay.start()
    assert client.get("/v1/search", params={"q": "dupont"}, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"q": ""}, "q"),
        ({"q": "d"}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "dupont", "limit": 0}, "limit"),
        ({"q": "dupont", "limit": 500}, "limit"),
        ({}, "q"),
        ({"q": "x" * 300}, "q"),
    ],
)
def test_bad_search_parameters_are_a_readable_422(as_role: RoleClient, params: dict, where: str) -> None:
    response = as_role("counter").get("/v1/search", params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{where}:")


@pytest.mark.parametrize("q", ['dupont" OR 1=1', "dup* AND (jea~", "{{'$where'}}", "name:(dupont) AND _exists_:email", "\\"])
def test_query_syntax_in_the_box_is_just_text(as_role: RoleClient, q: str) -> None:
    response = as_role("steward").get("/v1/search", params={"q": q})
    assert response.status_code in (200, 422)
    assert "Traceback" not in response.text and "opensearch" not in response.text.lower()
