"""The pages agents and stewards see speak French: every rule that can hold two customers apart
(search.resolve.possible.REASONS, shown in English to integrators) has a French label in both the
counter page and the review page, so neither ever falls back to the English reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search.resolve.comparisons import comparisons_for
from search.resolve.possible import REASONS

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def _held_apart_labels(script: str) -> set[str]:
    table = re.search(r"const HELD_APART = \{(.*?)\};", (STATIC / script).read_text(), re.S)
    assert table, f"{script} has no HELD_APART table"
    return set(re.findall(r"^\s*([a-z_]+):", table.group(1), re.M))


@pytest.mark.parametrize("script", ["counter.js", "revue.js"])
def test_every_rule_holding_two_customers_apart_is_said_in_french(script: str) -> None:
    rules = {rule for rule in REASONS if rule is not None}
    assert rules - _held_apart_labels(script) == set()


def test_every_comparison_level_a_steward_reads_is_said_in_french() -> None:
    # The review page shows each field's level of a possible match ("même code postal, autre rue").
    table = re.search(r"const LEVELS = \{(.*?)\};", (STATIC / "revue.js").read_text(), re.S)
    assert table, "revue.js has no LEVELS table"
    said = set(re.findall(r'"([^"]+)":', table.group(1)))
    levels = {level for comparison in comparisons_for(("an identifier",)) for level in comparison.levels}
    assert levels - said == set()
