"""Liveness and readiness against the real node."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.policy import DEMO_POLICY, Policy
from settings import Settings


def test_health_answers_without_opensearch(opensearch_settings: Settings) -> None:
    unreachable = opensearch_settings.model_copy(update={"opensearch_url": "http://127.0.0.1:9"})
    with TestClient(create_app(unreachable, Policy.load(DEMO_POLICY))) as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_ready_when_opensearch_answers_and_the_indices_are_there(api_settings: Settings) -> None:
    with TestClient(create_app(api_settings, Policy.load(DEMO_POLICY))) as client:
        response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_not_ready_without_indices_says_what_to_run(opensearch_settings: Settings, test_prefix: str) -> None:
    empty = opensearch_settings.model_copy(update={"index_prefix": f"{test_prefix}-empty"})
    with TestClient(create_app(empty, Policy.load(DEMO_POLICY))) as client:
        response = client.get("/ready")
    assert response.status_code == 503 and "rcu resolve" in response.json()["detail"]


def test_not_ready_is_a_503_with_retry_after_and_no_internals(opensearch_settings: Settings) -> None:
    unreachable = opensearch_settings.model_copy(update={"opensearch_url": "http://127.0.0.1:9", "opensearch_timeout_s": 1})
    with TestClient(create_app(unreachable, Policy.load(DEMO_POLICY))) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Traceback" not in response.text and "ConnectionError" not in response.text
