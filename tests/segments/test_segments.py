"""Segments against a real node: conditions stored as percolator queries, kept live, recomputed
after a definition change, and what marketing sees of them."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from search.indices import IndexNames
from search.segments.conditions import definitions_in_force, store_definitions
from search.segments.definitions import DefinitionsRefused, load_segments
from search.segments.store import profile_of, refresh_profiles
from settings import Settings
from tests.segments.conftest import API, event, store_events
from tests.segments.people import LOYAL, NO_EMAIL, RESTRICTED

CUSTOMER_ID = re.compile(r"^C[0-9A-F]{12}$")


def _segments(opensearch: OpenSearch, world: Settings, names: IndexNames, customer_id: str) -> list[str]:
    profile = profile_of(opensearch, world, names, customer_id)
    assert profile is not None
    return profile["segments"]


def test_a_purchase_moves_a_customer_into_client_fidele_at_once(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, customer_of: Callable[[dict[str, Any]], str]
) -> None:
    customer = customer_of(LOYAL)
    store_events(opensearch, world, [event(LOYAL, f"L{day}", days_ago=day * 20, shop="nantes") for day in range(1, 6)])
    refresh_profiles(opensearch, world, world_names, [customer])
    assert "client_fidele" not in _segments(opensearch, world, world_names, customer)
    store_events(opensearch, world, [event(LOYAL, "L6", days_ago=0.01, shop="nantes", amount=25.0)])
    assert "client_fidele" in refresh_profiles(opensearch, world, world_names, [customer])[customer]
