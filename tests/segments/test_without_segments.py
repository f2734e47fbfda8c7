"""A referential with no segment defined pays nothing for segments: a pushed record, an event or a
consent writes no profile; action rules alone still give the counter its proposals."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import Settings
from tests.conftest import customer_assignment, write_jsonl
from tests.segments.people import LOYAL, person, record_id

SENIOR = person("NS1", "Eudoxie", "Margerin", "1941-05-30", "Albi", "81000")
RULES = """
[actions.visite_senior]
label = "Proposer un rendez-vous conseil"
reason = "Client de 65 ans ou plus"
condition = "age:>=65"
priority = 10
"""


@pytest.fixture(scope="module")
def bare_world(
    opensearch: OpenSearch, opensearch_settings: Settings, test_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, IndexNames, Settings]]:
    """Two customers, no segment file, no rules file: the API over them."""
    folder = tmp_path_factory.mktemp("bare")
    write_jsonl(folder / "people.jsonl", [LOYAL, SENIOR])
    names = IndexNames(f"{test_prefix}-{uuid.uuid4().hex[:6]}")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "people.jsonl"]))
    resolve_all(opensearch, names, ResolutionConfig())
    settings = opensearch_settings.model_copy(update={"index_prefix": names.prefix, "segments": None, "actions": None})
    with TestClient(create_app(settings, Policy.load(DEMO_POLICY))) as api:
        yield api, names, settings


def _headers(role: str) -> dict[str, str]:
    return {"X-API-Key": DEMO_KEYS[role]}


def test_with_no_segment_defined_a_push_an_event_and_a_view_write_no_profile(
    opensearch: OpenSearch, bare_world: tuple[TestClient, IndexNames, Settings]
) -> None:
    api, names, _settings = bare_world
    pushed = api.post(
        "/v1/records",
        json={**SENIOR, "city": "Castres", "postcode": "81100", "updated_at": "2026-11-02T10:00:00Z"},
        headers=_headers("steward"),
    )
    assert pushed.status_code == 200, pushed.text
    customer = pushed.json()["customer_id"]
    purchase = {
        "source": "caisse_albi",
        "event_id": "NS-1",
        "at": datetime.now(UTC).isoformat(),
        "type": "purchase",
        "record": record_id(SENIOR),
        "amount": 12.5,
        "shop": "albi",
    }
    sent = api.post("/v1/events", json=purchase, headers=_headers("steward"))
    assert sent.status_code == 200, sent.text
    view = api.get(f"/v1/customers/{customer}", headers=_headers("counter"))
    assert view.status_code == 200, view.text
    assert view.json()["segments"] == [] and view.json()["figures"]["spend_12m"] == 12.5
    assert not opensearch.indices.exists(index=names.profiles)


def test_action_rules_without_segments_still_propose_at_the_counter_and_store_no_profile(
    opensearch: OpenSearch, bare_world: tuple[TestClient, IndexNames, Settings], tmp_path: Path
) -> None:
    _api, names, settings = bare_world
    rules = tmp_path / "actions.toml"
    rules.write_text(RULES, encoding="utf-8")
    with TestClient(create_app(settings.model_copy(update={"actions": rules}), Policy.load(DEMO_POLICY))) as api:
        customers = customer_assignment(opensearch, names)
        senior = api.get(f"/v1/customers/{customers[record_id(SENIOR)]}", headers=_headers("counter")).json()
        younger = api.get(f"/v1/customers/{customers[record_id(LOYAL)]}", headers=_headers("counter")).json()
    assert [a["action"] for a in senior["next_actions"]] == ["visite_senior"]
    assert senior["next_actions"][0]["reason"] == "Client de 65 ans ou plus"
    assert younger["next_actions"] == []
    assert not opensearch.indices.exists(index=names.profiles)
