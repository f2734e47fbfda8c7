"""`rcu subject erase`: the operator's erasure from the command line — exit 0 and 410 afterwards,
exit 5 for an unknown customer, exit 2 without the suppression key (nothing erased), exit 6 when
`--expunge` could not merge the erased documents away (the shards still holding them named)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from rcu.cli import EXIT_NOT_FOUND, EXIT_USAGE, app
from rcu.errors import EXIT_INCOMPLETE
from search.rights import erasure
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
    assert f"erased {gaspard}: records=10" in erased.output
    assert "expunged: docs.deleted=0 held=none" in erased.output
    assert as_role("counter").get(f"/v1/customers/{gaspard}").status_code == 410
    trail = as_role("admin").get("/v1/audit", params={"limit": 500}).json()["entries"]
    assert any(e["action"] == "erasure" and e["role"] == "operator" and e["caller"].startswith("cli:") for e in trail)

    assert cli("subject", "erase", gaspard).exit_code == EXIT_NOT_FOUND


def test_erase_with_expunge_says_which_shards_still_hold_the_deleted_documents_and_fails(
    as_role: RoleClient, cli: Callable[..., Any], world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica offline or a lease sync slower than the wait: the leases never pass the erasure.
    Only the lease reading is replaced (every copy's leases retaining from seq_no 0); the node is real."""
    bastien = customer_of(as_role, "Bastien Rolland")
    read_leases = erasure._retention

    def leases_never_pass(client: Any, indices: str) -> dict[Any, tuple[int | None, int | None]]:
        return {copy: (top, 0 if top is not None and top >= 0 else lowest) for copy, (top, lowest) in read_leases(client, indices).items()}

    monkeypatch.setattr(erasure, "_retention", leases_never_pass)
    monkeypatch.setenv("RCU_EXPUNGE_LEASE_WAIT_S", "0")
    erased = cli("subject", "erase", bastien, "--expunge")
    assert erased.exit_code == EXIT_INCOMPLETE, erased.output
    assert f"erased {bastien}: records=" in erased.output and "expunged:" not in erased.output
    assert f"retention leases hold {world.index_prefix}-" in erased.output and "[0]" in erased.output
    assert as_role("counter").get(f"/v1/customers/{bastien}").status_code == 410  # the erasure itself is done
