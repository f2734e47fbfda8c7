"""What a counter agent typed is personal data: no cache of the look-up path may keep it in the
API's memory once the look-up is answered (STYLE: personal data never in logs or caches). Pure:
parsing, planning and highlighting need no node."""

from __future__ import annotations

from api.policy import DEMO_POLICY, Policy
from search.customer_query import plan_lookup
from search.highlights import highlight_customer
from search.query_parser import parse_query
from tests.caches import caches_holding


def test_no_cache_keeps_what_the_counter_typed_after_a_look_up() -> None:
    access = Policy.load(DEMO_POLICY).roles["counter"].field_access()
    customer = {"given_name": "Zorbanix", "family_name": "Quellefleur", "name_variants": ["Quellefleur Zorbanix"]}
    for typed in ("Zorbanix Quellefleur", "quel zorb", "Zorbanyx Quellefleur"):
        parsed = parse_query(typed)
        plan_lookup(parsed, access)
        assert highlight_customer(customer, parsed.names, parsed.exact_values(), ["given_name", "family_name", "name_variants"])
    assert caches_holding("zorban") == []
    assert caches_holding("quellefleur") == []
