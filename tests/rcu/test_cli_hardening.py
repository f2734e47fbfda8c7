"""`rcu ingest` and `rcu serve` defaults that keep a machine and its data safe (issue 15): the
rejects report lands under the rcu home and is never read back, an outage as long as a node
restart slows an ingest down without aborting it, and the API never serves its demo keys unasked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from api.policy import DEMO_POLICY, PolicyRefused, serving_policy
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from rcu.cli import EXIT_REJECTED, EXIT_USAGE, app
from search.client import bulk_client
from search.indices import IndexNames
from settings import Settings, get_settings
from tests.conftest import write_jsonl
from tests.relay import Relay

GOOD = b'{"source": "crm", "source_id": "1", "family_name": "Dupont"}\n'
BAD = b'{"source": "crm"}\n'


@pytest.fixture
def cli_home(opensearch_settings: Settings, test_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_settings.opensearch_url)
    monkeypatch.setenv("RCU_INDEX_PREFIX", f"{test_prefix}-clih")
    monkeypatch.setenv("RCU_HOME", str(home))
    monkeypatch.delenv("RCU_POLICY", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def test_ingest_writes_its_rejects_under_the_rcu_home_never_into_the_folder_it_reads(
    cli_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "crm.jsonl").write_bytes(GOOD + BAD)
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(app, ["ingest", "."])
    assert result.exit_code == EXIT_REJECTED, result.output
    (report,) = (cli_home / "rejects").glob("rejects-*.jsonl")
    assert str(report) in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["crm.jsonl"]
    # A report left in the folder by an older rcu, and this run's own report under any name, are never read.
    (folder / "rejects.jsonl").write_bytes(BAD * 3)
    mine = folder / "bilan.jsonl"
    result = CliRunner().invoke(app, ["ingest", ".", "--rejects", str(mine)], catch_exceptions=False)
    assert "read=2 " in result.output and "skipped, written by rcu" in result.output, result.output
    assert len(mine.read_bytes().splitlines()) == 1


def test_an_ingest_waits_through_an_outage_longer_than_a_few_retries(
    opensearch_settings: Settings, test_prefix: str, tmp_path: Path
) -> None:
    node = urlsplit(opensearch_settings.opensearch_url)
    relay = Relay((node.hostname or "127.0.0.1", node.port or 9200))
    settings = opensearch_settings.model_copy(update={"opensearch_url": f"http://127.0.0.1:{relay.port}", "ingest_retry_s": 60})
    waits: list[float] = []
    client = bulk_client(settings, on_wait=lambda waited, budget: waits.append(waited))
    source = write_jsonl(tmp_path / "crm.jsonl", [{"source": "crm", "source_id": f"R-{n}", "family_name": "Durand"} for n in range(50)])
    outage_s = 18  # longer than the 15 s rcu used to retry for before giving up
    threading.Timer(outage_s, relay.start).start()
    started = time.monotonic()
    try:
        with RejectsReport(tmp_path / "rejects.jsonl") as report:
            summary = Ingestion(client, IndexNames(f"{test_prefix}-outage"), report).run(SourceFiles.discover([source]))
    finally:
        client.close()
        relay.stop()
    assert time.monotonic() - started >= outage_s
    assert summary.outcomes["indexed"] == 50
    assert waits and max(waits) > 15


def test_serve_refuses_to_start_without_a_policy_and_says_how_to_write_one(cli_home: Path) -> None:
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == EXIT_USAGE
    assert "RCU_POLICY" in result.output and "hash-key" in result.output and "--demo-policy" in result.output


def test_serve_refuses_the_demo_policy_beyond_loopback(cli_home: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--demo-policy", "--host", "0.0.0.0"])
    assert result.exit_code == EXIT_USAGE and "loopback" in result.output
    with pytest.raises(PolicyRefused):
        serving_policy(get_settings(), True, "192.168.1.10")
    assert serving_policy(get_settings(), True, "127.0.0.1").keys  # asked for, on this machine: served
    assert serving_policy(get_settings().model_copy(update={"policy": DEMO_POLICY}), False, "0.0.0.0").roles


def test_ingesting_a_folder_holding_no_source_file_says_so(cli_home: Path, tmp_path: Path) -> None:
    # A mistyped folder, or an export not yet dropped, read=0 and nothing else: it looked like success.
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "notes.txt").write_text("pas un export")
    result = CliRunner().invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"nothing to ingest: no .jsonl, .ndjson or .csv file in {folder}" in result.output


def test_an_output_path_that_cannot_be_written_is_a_usage_error_not_a_traceback(cli_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "crm.jsonl"
    source.write_bytes(GOOD)
    for arguments in (["ingest", str(source), "--rejects", str(tmp_path)], ["xref", "--out", str(tmp_path)]):
        result = CliRunner().invoke(app, arguments)
        assert result.exit_code == EXIT_USAGE, (arguments, result.output)
        assert f"error: {tmp_path}: " in result.output and "Traceback" not in result.output, result.output
