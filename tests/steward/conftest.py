"""The steward's workbench over a small world of its own per test module (demo people and
tests.steward.people): decisions never leak into other tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from pydantic import SecretStr

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from search.resolve.store import customers_of
from settings import Settings
from tests.conftest import write_jsonl
from tests.steward.people import STEWARD_PEOPLE


@pytest.fixture(scope="module")
def steward_world(
    opensearch: OpenSearch, opensearch_settings: Settings, test_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    folder = tmp_path_factory.mktemp("steward")
    write_demo_data(folder / "data", persons=60, seed=11)
    write_jsonl(folder / "data" / "people.jsonl", STEWARD_PEOPLE)
    names = IndexNames(f"{test_prefix}-{uuid.uuid4().hex[:6]}")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "data"]))
    resolve_all(opensearch, names, ResolutionConfig())
    return opensearch_settings.model_copy(
        update={"index_prefix": names.prefix, "suppression_key": SecretStr("test-steward-suppression-key")}
    )


@pytest.fixture(scope="module")
def world_names(steward_world: Settings) -> IndexNames:
    return IndexNames(steward_world.index_prefix)


@pytest.fixture(scope="module")
def steward_api(steward_world: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(steward_world, Policy.load(DEMO_POLICY))) as client:
        yield client


class RoleClient:
    def __init__(self, api: TestClient, role: str) -> None:
        self.api, self.headers = api, {"X-API-Key": DEMO_KEYS[role]}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.api.get(url, headers=self.headers, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.api.post(url, headers=self.headers, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.api.delete(url, headers=self.headers, **kwargs)


@pytest.fixture(scope="module")
def as_role(steward_api: TestClient) -> Callable[[str], RoleClient]:
    return lambda role: RoleClient(steward_api, role)


@pytest.fixture(scope="module")
def customer_of(opensearch: OpenSearch, world_names: IndexNames) -> Callable[[str], str]:
    """The customer holding a record now (real-time gets, as resolution reads it)."""

    def find(record_id: str) -> str:
        (customer_id,) = customers_of(opensearch, world_names, [record_id])
        return customer_id

    return find
