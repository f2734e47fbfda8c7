"""What a resolution run logs: its figures, never a person's values (a blocking key holds an
e-mail, a phone, names with a birth date or a postcode)."""

from __future__ import annotations

import logging

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from tests.conftest import Ingest


def test_a_key_too_common_to_link_on_is_logged_by_kind_never_by_its_value(
    ingest: Ingest, opensearch: OpenSearch, names: IndexNames, caplog: pytest.LogCaptureFixture
) -> None:
    people = [
        {"source": "crm", "source_id": f"P{n}", "given_name": given, "family_name": "Marchand", "email": "placeholder.marchand@test.fr"}
        for n, given in enumerate(("Lucie", "Marc", "Anaïs", "Hugo", "Zoé"))
    ]
    ingest(people)
    with caplog.at_level(logging.INFO):
        report = resolve_all(opensearch, names, ResolutionConfig(max_block_size=3))
    assert "em:placeholder.marchand@test.fr" in report.frequent_keys  # reported to whoever runs it
    logged = [record.getMessage() for record in caplog.records]
    assert any("frequent_blocking_key" in line and "kind=em" in line for line in logged), logged
    assert not [line for line in logged if "placeholder" in line or "marchand" in line.lower()]
