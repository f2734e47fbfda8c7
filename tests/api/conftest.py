"""The API against the real node: demo people and the story records ingested and resolved once
per session under an index prefix of their own, and clients holding each demo role's key."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import Settings
from tests.conftest import write_jsonl
from tests.stories import (
    AT_THE_COUNTER,
    DUPONT,
    EACH_PART_A_TYPO,
    GIVEN_FIRST,
    GOLDEN_SLIP,
    HELENE,
    INITIAL_FIRST,
    INITIAL_ONLY,
    LIVES_THERE_NOW,
    LOOK_ALIKES,
    NAMESAKES,
    NO_TOWN_NOW,
    OTHERS,
    OVERSEAS_LINES,
    RANKED_AND_RECENT,
    SWAPPED_NAMES,
    TOWN_ARTICLE,
    TWO_SLIPS,
    UNVERIFIED_PHONE,
    WHOLE_NAMES,
    WHOLE_TOWN,
)


@pytest.fixture(scope="session")
def api_settings(
    opensearch: OpenSearch, opensearch_settings: Settings, test_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    folder = tmp_path_factory.mktemp("api")
    write_demo_data(folder / "demo", persons=300, seed=23)
    write_jsonl(
        folder / "demo" / "stories.jsonl",
        HELENE
        + OTHERS
        + DUPONT
        + WHOLE_NAMES
        + NAMESAKES
        + AT_THE_COUNTER
        + RANKED_AND_RECENT
        + GIVEN_FIRST
        + LIVES_THERE_NOW
        + WHOLE_TOWN
        + LOOK_ALIKES
        + EACH_PART_A_TYPO
        + INITIAL_FIRST
        + INITIAL_ONLY
        + UNVERIFIED_PHONE
        + TOWN_ARTICLE
        + OVERSEAS_LINES
        + TWO_SLIPS
        + GOLDEN_SLIP
        + NO_TOWN_NOW
        + SWAPPED_NAMES,
    )
    names = IndexNames(f"{test_prefix}-api")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "demo"]))
    resolve_all(opensearch, names, ResolutionConfig())
    return opensearch_settings.model_copy(update={"index_prefix": names.prefix})


@pytest.fixture(scope="session")
def api(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, Policy.load(DEMO_POLICY))) as client:
        yield client


@pytest.fixture
def search(api: TestClient) -> Callable[..., dict]:
    """`search(q, role="counter", **headers)`: the API's answer to a look-up, as that role."""

    def run(q: str, role: str = "counter", **headers: str) -> dict:
        response = api.get("/v1/search", params={"q": q}, headers={"X-API-Key": DEMO_KEYS[role], **headers})
        assert response.status_code == 200, response.text
        return response.json()

    return run


@pytest.fixture(scope="session")
def as_role(api: TestClient) -> Callable[[str], TestClient]:
    """`as_role("counter").get(...)`: the API called with that demo role's key."""

    class RoleClient:
        def __init__(self, role: str) -> None:
            self.headers = {"X-API-Key": DEMO_KEYS[role]}

        def get(self, url: str, headers: dict[str, str] | None = None, **kwargs: object):
            return api.get(url, headers={**self.headers, **(headers or {})}, **kwargs)

        def post(self, url: str, headers: dict[str, str] | None = None, **kwargs: object):
            return api.post(url, headers={**self.headers, **(headers or {})}, **kwargs)

        def put(self, url: str, headers: dict[str, str] | None = None, **kwargs: object):
            return api.put(url, headers={**self.headers, **(headers or {})}, **kwargs)

    return RoleClient  # type: ignore[return-value]


def serve_in_thread(settings: Settings, log_level: str = "warning") -> tuple[str, Callable[[], None]]:
    """The API served by uvicorn on a free port; returns its URL and how to stop it."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, Policy.load(DEMO_POLICY)), host="127.0.0.1", port=port, log_level=log_level)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def served(api_settings: Settings) -> Iterator[str]:
    """The API on a real server, for clients that need one (a browser, schemathesis)."""
    url, stop = serve_in_thread(api_settings)
    yield url
    stop()
