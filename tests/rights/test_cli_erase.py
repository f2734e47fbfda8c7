"""`rcu subject erase`: the operator's erasure from the command line — exit 0 and 410 afterwards,
exit 5 for an unknown customer, exit 2 without the suppression key (nothing erased)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from rcu.cli import EXIT_NOT_FOUND, EXIT_USAGE, app
from settings import Settings, get_settings
from tests.rights.conftest import SUPPRESSION_KEY, customer_of

RoleClient = Callable[[str], Any]


@pytest.fixture
def cli(world: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    monkeypatch.setenv("RCU_INDEX_PREFIX", world.index_prefix)
    monkeypatch.setenv("OPENSEARCH_URL", world.opensearch_url)

    def run(*args: str, key: str | None = SUPPRESSION_KEY) -> Any:
        if key:
            monkeypatch.setenv("RCU_SUPPRESSION_KEY", key)
        else:
            monkeypatch.delenv("RCU_SUPPRESSION_KEY", raising=False)
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args))

    yield run
    get_settings.cache_clear()


def test_rcu_subject_erase_erases_and_says_why_when_it_cannot(as_role: RoleClient, cli: Callable[..., Any]) -> None:
    gaspard = customer_of(as_role, "Gaspard Vernet")
    without_key = cli("subject", "erase", gaspard, key=None)
    assert without_key.exit_code == EXIT_USAGE and "RCU_SUPPRESSION_KEY" in without_key.output
    assert as_role("counter").get(f"/v1/customers/{gaspard}").status_code == 200  # nothing erased

    erased = cli("subject", "erase", gaspard, "--expunge")
    assert erased.exit_code == 0, erased.output
    assert f"erased {gaspard}: records=10" in erased.output and "expunged" in erased.output
    assert as_role("counter").get(f"/v1/customers/{gaspard}").status_code == 410
    trail = as_role("admin").get("/v1/audit", params={"limit": 500}).json()["entries"]
    assert any(e["action"] == "erasure" and e["role"] == "operator" and e["caller"].startswith("cli:") for e in trail)

    assert cli("subject", "erase", gaspard).exit_code == EXIT_NOT_FOUND
