"""What the resolution tests share: 400 demo people and the stories, resolved once, whose trained
model the smaller stories reuse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from indexers.demo.sources import write_demo_data
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.model import MatchModel
from search.resolve.pipeline import resolve_all
from search.resolve.store import load_model, scan_customers
from tests.stories import COSENDEY, HELENE, OTHERS, PLACEHOLDER


@dataclass
class Resolved:
    names: IndexNames
    config: ResolutionConfig
    model: MatchModel
    customer_of: dict[str, str]
    demo: Path


def customer_assignment(opensearch: OpenSearch, names: IndexNames) -> dict[str, str]:
    # Real-time resolution does not refresh; a search-based view of every customer needs one.
    opensearch.indices.refresh(index=[names.customers, names.redirects])
    return {record_id: c["customer_id"] for c in scan_customers(opensearch, names) for record_id in c["records"]}


@pytest.fixture(scope="session")
def resolved(opensearch: OpenSearch, test_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resolved]:
    """400 demo people plus the stories (tests.stories), ingested and resolved once for the session."""
    from indexers.ingest import Ingestion
    from indexers.readers import SourceFiles
    from indexers.report import RejectsReport
    from tests.conftest import write_jsonl

    folder = tmp_path_factory.mktemp("resolve")
    write_demo_data(folder / "demo", persons=400, seed=17)
    write_jsonl(folder / "demo" / "stories.jsonl", HELENE + OTHERS + PLACEHOLDER + COSENDEY)
    names = IndexNames(f"{test_prefix}-resolve")
    with RejectsReport(folder / "rejects.jsonl") as report:
        Ingestion(opensearch, names, report).run(SourceFiles.discover([folder / "demo"]))
    config = ResolutionConfig()
    resolve_all(opensearch, names, config)
    model = load_model(opensearch, names)
    assert model is not None
    yield Resolved(names, config, model, customer_assignment(opensearch, names), folder / "demo")
