"""Profiles stored by an rcu before session 14 held the memberships of their day in a `segments`
field. After the upgrade (`rcu reindex`) no profile holds it, so a condition that names it reads
the same nothing on the 360 view, the actions page and marketing's counts and exports."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from analyzers.index_settings import KEYWORD, profiles_index_body
from search.indices import IndexNames, SchemaOutdated, stamped
from search.segments.conditions import store_definitions
from search.segments.definitions import SegmentDefinition, load_segments
from search.segments.store import ensure_profiles_index
from settings import Settings
from tests.segments.conftest import API
from tests.segments.people import LOYAL

STALE = "senior"  # a membership the old profile kept, though the customer is not (or no longer) a senior


def _older_profiles_index(opensearch: OpenSearch, names: IndexNames, stale_for: str) -> None:
    """The profiles index as an rcu of session 13 left it: its mapping with `segments`, every
    profile as today, and `stale_for`'s holding a membership of its day."""
    profiles = [hit["_source"] for hit in scan(opensearch, index=names.profiles, query={"query": {"match_all": {}}})]
    for index in opensearch.indices.get_alias(name=names.profiles):
        opensearch.indices.delete(index=index)
    older = copy.deepcopy(profiles_index_body())
    older["mappings"]["properties"]["segments"] = KEYWORD
    opensearch.indices.create(index=f"{names.profiles}-v1", body={**stamped(older), "aliases": {names.profiles: {"is_write_index": True}}})
    for profile in profiles:
        held = [STALE] if profile["customer_id"] == stale_for else []
        opensearch.index(index=names.profiles, id=profile["customer_id"], body={**profile, "segments": held})
    opensearch.indices.refresh(index=names.profiles)


def test_an_old_profile_holding_segments_never_makes_the_sheet_the_actions_page_and_the_counts_disagree(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    as_role: Callable[[str], Any],
    customer_of: Callable[[dict[str, Any]], str],
    cli: Callable[..., Any],
) -> None:
    customer = customer_of(LOYAL)
    _older_profiles_index(opensearch, world_names, stale_for=customer)
    with pytest.raises(SchemaOutdated, match="rcu reindex"):
        ensure_profiles_index(opensearch, world_names)  # nothing is written into it before the upgrade
    assert cli("reindex").exit_code == 0
    assert "segments" not in opensearch.get(index=world_names.profiles, id=customer)["_source"]
    # A segment over the old memberships: accepted (no field is refused by name), and empty everywhere.
    over_memberships = SegmentDefinition(name="etait_senior", label="Était senior", condition=f"segments:{STALE}")
    store_definitions(opensearch, world_names, "segment", [*load_segments(API / "demo_segments.toml"), over_memberships], "test")
    on_view = {s["name"] for s in as_role("counter").get(f"/v1/customers/{customer}").json()["segments"]}
    on_actions_page = {s["name"] for s in as_role("counter").get(f"/v1/customers/{customer}/actions").json()["segments"]}
    counts = {row["name"]: row["customers"] for row in as_role("marketing").get("/v1/segments").json()["segments"]}
    exported = as_role("marketing").get("/v1/segments/etait_senior/customers", params={"limit": 100}).json()["customer_ids"]
    assert on_view == on_actions_page and "etait_senior" not in on_view
    assert counts["etait_senior"] == 0 and exported == []
