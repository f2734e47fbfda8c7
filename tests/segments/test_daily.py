"""`rcu segments` as time passes, against a real node: only the profiles time or a household made
stale are computed again, and every profile ends as a full recompute at the same moment leaves it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.actions.rules import load_rules_file
from search.actions.sheet import customer_sheet
from search.indices import IndexNames
from search.segments.conditions import definitions_in_force, store_definitions
from search.segments.daily import bring_up_to_date
from search.segments.definitions import load_segments
from search.segments.membership import memberships
from search.segments.store import recompute_all, refresh_profiles
from settings import Settings
from tests.segments.conftest import event, store_events
from tests.segments.people import HOLDER, LOYAL, NO_EMAIL, REFUSER


def _profiles(opensearch: OpenSearch, names: IndexNames, *left_out: str) -> dict[str, dict[str, Any]]:
    """Every stored profile, less the moment it was computed at (and the fields `left_out`), with
    the segments it is in (each condition in force searched over the profiles)."""
    opensearch.indices.refresh(index=names.profiles)
    hits = scan(opensearch, index=names.profiles, query={"query": {"match_all": {}}})
    found = memberships(opensearch, names, definitions_in_force(opensearch, names, "segment"))
    return {
        hit["_id"]: {
            **{k: v for k, v in hit["_source"].items() if k not in ("computed_at", *left_out)},
            "segments": found.get(hit["_id"], []),
        }
        for hit in hits
    }


def test_the_next_run_computes_again_only_what_time_and_households_changed_and_ends_as_a_full_recompute(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    customer_of: Callable[[dict[str, Any]], str],
    cli: Callable[..., Any],
) -> None:
    loyal, holder = customer_of(LOYAL), customer_of(HOLDER)
    # Six visits in the year, the oldest 300 days ago: "client fidèle" today, not in 100 days.
    store_events(opensearch, world, [event(LOYAL, f"D{n}", days_ago=300 - n * 10, shop="nantes") for n in range(6)])
    refresh_profiles(opensearch, world, world_names, [loyal])
    assert "client_fidele" in _profiles(opensearch, world_names)[loyal]["segments"]
    # Honorine moves in with Gaspard: the live path computes her profile again, not Gaspard's.
    moved = customer_of(NO_EMAIL)
    size = _profiles(opensearch, world_names)[holder]["household_size"]
    home = opensearch.get(index=world_names.customers, id=holder)["_source"]["household_key"]
    opensearch.update(index=world_names.customers, id=moved, body={"doc": {"household_key": home}}, refresh=True)
    refresh_profiles(opensearch, world, world_names, [moved])
    assert _profiles(opensearch, world_names)[moved]["household_size"] == size + 1
    assert _profiles(opensearch, world_names)[holder]["household_size"] == size

    today = cli("segments", "--file", str(world.segments))
    assert today.exit_code == 0, today.output
    assert "rebuilt=" in today.output  # the earlier full run is not done again
    assert _profiles(opensearch, world_names)[holder]["household_size"] == size + 1

    later = datetime.now(UTC) + timedelta(days=100)
    report = bring_up_to_date(opensearch, world, world_names, later)
    assert report.rebuilt is not None and 0 < report.rebuilt < report.customers, report.line()
    # No condition in force names days_since_seen ("inactif" is written on last_seen): not rewritten.
    assert report.aged == 0
    brought = _profiles(opensearch, world_names, "days_since_seen")
    assert "client_fidele" not in brought[loyal]["segments"]
    recompute_all(opensearch, world, world_names, later)
    assert _profiles(opensearch, world_names, "days_since_seen") == brought


def test_a_member_leaving_a_household_has_the_size_of_those_who_stay_brought_down_by_the_next_run(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, customer_of: Callable[[dict[str, Any]], str]
) -> None:
    holder, moved = customer_of(HOLDER), customer_of(NO_EMAIL)
    home = opensearch.get(index=world_names.customers, id=holder)["_source"]["household_key"]
    opensearch.update(index=world_names.customers, id=moved, body={"doc": {"household_key": home}}, refresh=True)
    refresh_profiles(opensearch, world, world_names, [moved])
    bring_up_to_date(opensearch, world, world_names)
    together = _profiles(opensearch, world_names)[holder]["household_size"]
    assert together == _profiles(opensearch, world_names)[moved]["household_size"]
    # She moves out: the live path computes her profile again; those who stay all still state the
    # old size, agreeing with each other — only their count tells the household changed.
    opensearch.update(index=world_names.customers, id=moved, body={"doc": {"household_key": "elsewhere-44000"}}, refresh=True)
    refresh_profiles(opensearch, world, world_names, [moved])
    assert _profiles(opensearch, world_names)[holder]["household_size"] == together
    report = bring_up_to_date(opensearch, world, world_names)
    assert report.rebuilt is not None and report.rebuilt < report.customers, report.line()
    assert _profiles(opensearch, world_names)[holder]["household_size"] == together - 1


def test_a_condition_on_days_since_seen_has_every_day_count_moved_on_by_the_next_run(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path
) -> None:
    by_days = tmp_path / "segments.toml"
    assert world.segments is not None
    by_days.write_text(world.segments.read_text(encoding="utf-8").replace('"last_seen:<=now-183d"', '"days_since_seen:>=183"'))
    store_definitions(opensearch, world_names, "segment", load_segments(by_days), by_days)
    recompute_all(opensearch, world, world_names)
    later = datetime.now(UTC) + timedelta(days=30)
    report = bring_up_to_date(opensearch, world, world_names, later)
    assert report.aged and report.rebuilt is not None and report.rebuilt < report.customers, report.line()
    brought = _profiles(opensearch, world_names)
    recompute_all(opensearch, world, world_names, later)
    assert _profiles(opensearch, world_names) == brought


def _seen_40_days_ago_counted_5(
    opensearch: OpenSearch,
    world: Settings,
    names: IndexNames,
    customer_of: Callable[[dict[str, Any]], str],
    person: dict[str, Any],
    shop: str,
) -> str:
    """The customer of `person`, last seen 40 days ago, whose stored profile says 5 days since: as
    a profile computed 35 days ago holds it, while no condition named the day count."""
    customer = customer_of(person)
    store_events(opensearch, world, [event(person, f"SEEN-{shop}", days_ago=40, type="visit", shop=shop)])
    refresh_profiles(opensearch, world, names, [customer])
    opensearch.update(index=names.profiles, id=customer, body={"doc": {"days_since_seen": 5}}, refresh=True)
    return customer


def test_an_action_rule_on_days_since_seen_sees_todays_day_count_not_the_stored_one(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    customer_of: Callable[[dict[str, Any]], str],
    tmp_path: Path,
) -> None:
    customer = _seen_40_days_ago_counted_5(opensearch, world, world_names, customer_of, REFUSER, "metz")
    rules = tmp_path / "actions.toml"
    rules.write_text(
        '[actions.relance]\nlabel = "Relancer"\nreason = "Pas vu depuis un mois"\ncondition = "days_since_seen:>=30"\n', encoding="utf-8"
    )
    load_rules_file(opensearch, world_names, rules)
    sheet = customer_sheet(opensearch, world, world_names, customer, with_actions=True)
    assert sheet is not None
    assert [proposal.action for proposal in sheet.actions] == ["relance"]


def test_a_new_condition_on_days_since_seen_is_settled_on_todays_day_counts_not_the_stored_ones(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    customer_of: Callable[[dict[str, Any]], str],
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    customer = _seen_40_days_ago_counted_5(opensearch, world, world_names, customer_of, HOLDER, "rennes")
    assert world.segments is not None
    with_relance = tmp_path / "segments.toml"
    relance = '\n[segments.a_relancer]\nlabel = "À relancer"\ncondition = "days_since_seen:>=30"\n'
    with_relance.write_text(world.segments.read_text(encoding="utf-8") + relance, encoding="utf-8")
    try:
        settled = cli("segments", "--file", str(with_relance), "--definitions-only")
        assert settled.exit_code == 0, settled.output
        assert "a_relancer" in _profiles(opensearch, world_names)[customer]["segments"]
    finally:
        assert cli("segments", "--file", str(world.segments), "--definitions-only").exit_code == 0
    assert "a_relancer" not in _profiles(opensearch, world_names)[customer]["segments"]
