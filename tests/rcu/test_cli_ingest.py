"""`rcu ingest` as an integrator runs it: a summary, a rejects file, an exit code that tells."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from rcu.cli import EXIT_REJECTED, EXIT_USAGE, app
from settings import Settings, get_settings


@pytest.fixture
def cli_env(opensearch_settings: Settings, test_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_settings.opensearch_url)
    monkeypatch.setenv("RCU_INDEX_PREFIX", f"{test_prefix}-cli")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_ingest_exits_nonzero_and_writes_rejects_when_a_record_is_bad(tmp_path: Path) -> None:
    source = tmp_path / "crm.jsonl"
    source.write_bytes(b'{"source": "crm", "source_id": "1", "family_name": "Dupont"}\n{"source": "crm"}\n')
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(app, ["ingest", str(source), "--rejects", str(rejects)])
    assert result.exit_code == EXIT_REJECTED, result.output
    assert "indexed=1" in result.output and "rejected=1" in result.output
    (entry,) = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert entry["line"] == 2 and "source_id" in entry["reason"]


@pytest.mark.usefixtures("cli_env")
def test_ingest_of_clean_data_exits_zero(tmp_path: Path) -> None:
    source = tmp_path / "crm.jsonl"
    source.write_bytes(b'{"source": "crm", "source_id": "2", "family_name": "Durand"}\n')
    result = CliRunner().invoke(app, ["ingest", str(source), "--rejects", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("cli_env")
def test_a_csv_without_mapping_is_a_usage_error_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text("A;B\n1;2\n")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "export.csv")])
    assert result.exit_code == EXIT_USAGE
    assert "mapping" in result.output
