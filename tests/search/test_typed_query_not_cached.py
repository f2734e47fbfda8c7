"""What a counter agent typed is personal data: no cache of the look-up path may keep it in the
API's memory once the look-up is answered (STYLE: personal data never in logs or caches). Pure:
parsing, planning and highlighting need no node."""

from __future__ import annotations

import functools
import gc

from api.policy import DEMO_POLICY, Policy
from search.customer_query import plan_lookup
from search.highlights import highlight_customer
from search.query_parser import parse_query


def _caches_holding(fragment: str) -> list[str]:
    """The functools caches of rcu's look-up packages whose keys or values mention `fragment`."""
    holders = []
    for cached in gc.get_objects():
        if isinstance(cached, functools._lru_cache_wrapper) and cached.__module__.split(".")[0] in ("search", "analyzers", "api"):
            for store in gc.get_referents(cached):
                if isinstance(store, dict) and fragment in repr(list(store.items())).lower():
                    holders.append(f"{cached.__module__}.{cached.__qualname__}")
    return holders


def test_no_cache_keeps_what_the_counter_typed_after_a_look_up() -> None:
    access = Policy.load(DEMO_POLICY).roles["counter"].field_access()
    customer = {"given_name": "Zorbanix", "family_name": "Quellefleur", "name_variants": ["Quellefleur Zorbanix"]}
    for typed in ("Zorbanix Quellefleur", "quel zorb", "Zorbanyx Quellefleur"):
        parsed = parse_query(typed)
        plan_lookup(parsed, access)
        assert highlight_customer(customer, parsed.names, parsed.exact_values(), ["given_name", "family_name", "name_variants"])
    assert _caches_holding("zorban") == []
    assert _caches_holding("quellefleur") == []
