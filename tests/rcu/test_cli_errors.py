"""Every rcu command fails the same way when OpenSearch does not answer: exit code 4 and one
line saying what to do, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from rcu.cli import EXIT_NODE_DOWN, EXIT_USAGE, app
from settings import Settings, get_settings
from tests.relay import Relay


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def nothing_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("OPENSEARCH_URL", url)
    monkeypatch.setenv("RCU_HOME", str(tmp_path / "home"))
    # The bulk client's patient back-off (seconds per command) is not what is tested here.
    monkeypatch.setenv("RCU_INGEST_RETRY_S", "0")  # give up at the first failure
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "{source}", "--rejects", "{out}"],
        ["resolve"],
        ["resolve", "--full"],
        ["explain", "crm:1", "crm:2"],
        ["xref", "--out", "{out}"],
        ["reindex"],
        ["snapshot", "list"],
        ["snapshot", "create"],
    ],
    ids=lambda command: " ".join(command[:2]) if command[0] == "resolve" else command[0],
)
def test_every_command_exits_4_with_a_hint_when_opensearch_does_not_answer(
    nothing_answers: str, tmp_path: Path, command: list[str]
) -> None:
    source = tmp_path / "crm.jsonl"
    source.write_bytes(b'{"source": "crm", "source_id": "1", "family_name": "Dupont"}\n')
    arguments = [part.format(source=source, out=tmp_path / "out") for part in command]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == EXIT_NODE_DOWN, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"OpenSearch at {nothing_answers} does not answer" in result.output
    assert "rcu opensearch start" in result.output and "Traceback" not in result.output


def test_a_missing_source_file_is_a_usage_error(nothing_answers: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "nowhere.jsonl")])
    assert result.exit_code == EXIT_USAGE
    assert "nowhere.jsonl" in result.output


def test_demo_exits_4_when_opensearch_goes_away_after_it_answered(
    opensearch_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    node = urlsplit(opensearch_settings.opensearch_url)
    relay = Relay((node.hostname or "127.0.0.1", node.port or 9200), connections=1)  # the node check, then nothing
    relay.start()
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{relay.port}")
    monkeypatch.setenv("RCU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RCU_INDEX_PREFIX", "rcu-test-demo-down")
    monkeypatch.setenv("RCU_INGEST_RETRY_S", "0")  # give up at the first failure
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--persons", "3", "--no-serve"])
    finally:
        get_settings.cache_clear()
        relay.stop()
    assert "(started)" not in result.output
    assert result.exit_code == EXIT_NODE_DOWN, result.output
    assert "does not answer" in result.output and "Traceback" not in result.output
