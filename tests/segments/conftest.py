"""A small world of its own per test module (demo people and tests.segments.people), with the demo
segments and action rules in force, and the API over it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.actions.sheet import customer_sheet
from search.events import Event, record_event
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.segments.conditions import store_definitions
from search.segments.definitions import load_segments
from search.segments.store import recompute_all
from settings import Settings
from tests.conftest import customer_assignment, write_jsonl
from tests.segments.people import PEOPLE, record_id

API = Path(__file__).resolve().parents[2] / "api"


@pytest.fixture(scope="module")
def world(opensearch: OpenSearch, opensearch_settings: Settings, test_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a freshly ingested and resolved world, the demo segments in force and recomputed,
    the demo rules in a file of its own (tests may rewrite it)."""
    folder = tmp_path_factory.mktemp("segments")
    write_demo_data(folder / "data", persons=40, seed=11)
    write_jsonl(folder / "data" / "people.jsonl", PEOPLE)
    names = IndexNames(f"{test_prefix}-{uuid.uuid4().hex[:6]}")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "data"]))
    resolve_all(opensearch, names, ResolutionConfig())
    segments = shutil.copy(API / "demo_segments.toml", folder / "segments.toml")
    actions = shutil.copy(API / "demo_actions.toml", folder / "actions.toml")
    settings = opensearch_settings.model_copy(update={"index_prefix": names.prefix, "segments": Path(segments), "actions": Path(actions)})
    store_definitions(opensearch, names, "segment", load_segments(Path(segments)), segments)
    recompute_all(opensearch, settings, names)
    return settings


@pytest.fixture(scope="module")
def world_names(world: Settings) -> IndexNames:
    return IndexNames.for_settings(world)


@pytest.fixture(scope="module")
def world_api(world: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(world, Policy.load(DEMO_POLICY))) as client:
        yield client


Call = Callable[..., Any]


@pytest.fixture(scope="module")
def as_role(world_api: TestClient) -> Callable[[str], Any]:
    """`as_role("marketing").get(...)`: the world's API called with that demo role's key."""

    class RoleClient:
        def __init__(self, role: str) -> None:
            self.headers = {"X-API-Key": DEMO_KEYS[role]}

        def __getattr__(self, method: str) -> Call:
            call = getattr(world_api, method)
            return lambda url, **kwargs: call(url, headers=self.headers, **kwargs)

    return RoleClient


@pytest.fixture(scope="module")
def customer_of(opensearch: OpenSearch, world_names: IndexNames) -> Callable[[dict[str, Any]], str]:
    def of(record: dict[str, Any]) -> str:
        return customer_assignment(opensearch, world_names)[record_id(record)]

    return of


def event(record: dict[str, Any], event_id: str, days_ago: float, **fields: Any) -> Event:
    """An event of `record`'s customer, `days_ago` days before now (a purchase unless told)."""
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return Event(**{"source": "caisse", "event_id": event_id, "at": at, "type": "purchase", "record_id": record_id(record), **fields})


def store_events(opensearch: OpenSearch, settings: Settings, events: list[Event]) -> None:
    for item in events:
        record_event(opensearch, settings, item, names=IndexNames.for_settings(settings))


@pytest.fixture
def cli(world: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`cli("segments", "counts")`: rcu run against the world's indices."""
    from typer.testing import CliRunner

    from rcu.cli import app
    from settings import get_settings

    monkeypatch.setenv("RCU_INDEX_PREFIX", world.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", world.opensearch_url)

    def run(*args: str) -> Any:
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield run
    get_settings.cache_clear()


def segments_on_sheet(opensearch: OpenSearch, world: Settings, names: IndexNames, customer_id: str) -> list[str]:
    """The segments the customer's sheet shows (its profile percolated when the sheet is read)."""
    sheet = customer_sheet(opensearch, world, names, customer_id, with_actions=False)
    assert sheet is not None
    return [segment.name for segment in sheet.segments]
