"""The API over a small world of its own (demo people, the stories and the rights people), one per
test module: erasures and consent changes never leak into other tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from rcu.cli import app
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import Settings, get_settings
from tests.conftest import write_jsonl
from tests.rights.people import RIGHTS_PEOPLE
from tests.stories import DUPONT, HELENE

SUPPRESSION_KEY = "test-suppression-key-not-for-production"
# A marketing role that reads e-mails and phones: what consent leaves it is what the customer allowed.
CAMPAIGNS_ROLE = """
[roles.campaigns]
description = "E-mail, SMS, phone and postal campaigns."
endpoints = ["search", "customers", "cards", "actions"]
read = ["names", "emails", "phones", "street", "postcode", "city", "loyalty_cards"]
purpose = "marketing"

[[keys]]
name = "campaign tool"
role = "campaigns"
sha256 = "{digest}"
"""
CAMPAIGNS_KEY = "test-campaigns-key"


@pytest.fixture(scope="module")
def world(opensearch: OpenSearch, opensearch_settings: Settings, test_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a freshly ingested and resolved world, with a policy adding the campaigns role."""
    from api.policy import hash_key

    folder = tmp_path_factory.mktemp("rights")
    write_demo_data(folder / "data", persons=60, seed=7)
    write_jsonl(folder / "data" / "people.jsonl", RIGHTS_PEOPLE + HELENE + DUPONT)
    names = IndexNames(f"{test_prefix}-{uuid.uuid4().hex[:6]}")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "data"]))
    resolve_all(opensearch, names, ResolutionConfig())
    policy = folder / "policy.toml"
    policy.write_text(
        DEMO_POLICY.read_text(encoding="utf-8") + CAMPAIGNS_ROLE.replace("{digest}", hash_key(CAMPAIGNS_KEY)), encoding="utf-8"
    )
    return opensearch_settings.model_copy(
        update={"index_prefix": names.prefix, "policy": policy, "suppression_key": SecretStr(SUPPRESSION_KEY)}
    )


@pytest.fixture(scope="module")
def world_api(world: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(world, Policy.load(world.policy))) as client:
        yield client


Call = Callable[..., object]


@pytest.fixture(scope="module")
def as_role(world_api: TestClient) -> Callable[[str], TestClient]:
    """`as_role("privacy_officer").get(...)`: the world's API called with that role's key."""

    class RoleClient:
        def __init__(self, role: str) -> None:
            self.headers = {"X-API-Key": CAMPAIGNS_KEY if role == "campaigns" else DEMO_KEYS[role]}

        def __getattr__(self, method: str) -> Call:
            call = getattr(world_api, method)
            return lambda url, **kwargs: call(url, headers=self.headers, **kwargs)

    return RoleClient  # type: ignore[return-value]


@pytest.fixture
def cli(world: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`cli("retention", "--days", "30")`: rcu's command line on the world's indices, with the suppression key."""
    monkeypatch.setenv("RCU_INDEX_PREFIX", world.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", world.opensearch_url)
    monkeypatch.setenv("RCU_SUPPRESSION_KEY", SUPPRESSION_KEY)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


def customer_of(as_role: Callable[[str], TestClient], q: str) -> str:
    """The customer id the steward finds first for `q`."""
    results = as_role("steward").get("/v1/search", params={"q": q}).json()["results"]
    assert results, f"nobody found for {q!r}"
    return results[0]["customer_id"]


def data_folder(world: Settings) -> Path:
    return Path(world.policy).parent / "data"  # type: ignore[arg-type]


@contextlib.contextmanager
def no_periodic_refresh(client: OpenSearch, prefix: str) -> Iterator[None]:
    """Every index of the world refreshed only when someone asks: what a search sees is then exactly
    what the writers made searchable themselves."""
    before = client.indices.get_settings(index=f"{prefix}-*", name="index.refresh_interval")
    client.indices.put_settings(index=f"{prefix}-*", body={"index": {"refresh_interval": "-1"}})
    try:
        yield
    finally:
        for index, settings in before.items():
            interval = settings["settings"].get("index", {}).get("refresh_interval")
            client.indices.put_settings(index=index, body={"index": {"refresh_interval": interval}})
