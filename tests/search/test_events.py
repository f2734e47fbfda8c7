"""Interactions against a real node: events attach through their record or an identifier, follow
their record through a merge and a split, are stored once per event id, and sum up into figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opensearchpy import OpenSearch

from search.events import (
    CustomerFigures,
    Event,
    EventConflict,
    EventOutcome,
    EventUnattached,
    customer_figures,
    record_event,
)
from search.events.bulk import figures_of_customers
from search.events.store import EventWriter
from search.indices import IndexNames
from search.resolve.pipeline import resolve_touched
from settings import Settings
from tests.conftest import Ingest, Resolved, customer_assignment
from tests.stories import HELENE, OTHERS

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['source']}:{r['source_id']}" for r in records]


def _event(event_id: str, days_ago: float, **fields: Any) -> Event:
    return Event(**{"source": "caisse", "event_id": event_id, "at": NOW - timedelta(days=days_ago), "type": "purchase", **fields})


def _figures(opensearch: OpenSearch, settings: Settings, names: IndexNames, record_id: str) -> CustomerFigures:
    customer = customer_assignment(opensearch, names)[record_id]
    return customer_figures(opensearch, settings, customer, NOW, names=names)


def test_an_event_by_loyalty_card_attaches_to_the_customer_holding_the_card(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:4] + OTHERS[:1])
    resolve_touched(opensearch, names, resolved.config, _ids(HELENE[:4] + OTHERS[:1]), model=resolved.model)
    outcome = record_event(
        opensearch,
        opensearch_settings,
        _event("T1", 3, identifier=("loyalty_card", "2901234567890"), amount=42.5, shop="lyon2"),
        names=names,
    )
    assignment = customer_assignment(opensearch, names)
    assert outcome.record_id == "loyalty_lyon2:H4" and outcome.customer_id == assignment["crm:H1"]
    figures = _figures(opensearch, opensearch_settings, names, "crm:H1")
    assert figures.spend_12m == 42.5 and figures.visits_12m == 1 and figures.shops == ["lyon2"]
    assert _figures(opensearch, opensearch_settings, names, "crm:M1").events == 0


def test_the_same_event_sent_twice_is_stored_once_and_other_content_under_its_id_is_refused(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:1])
    resolve_touched(opensearch, names, resolved.config, ["crm:H1"], model=resolved.model)
    event = _event("T2", 40, record_id="crm:H1", amount=10.0, shop="paris11")
    heard: list[str] = []

    def hear(outcomes: list[EventOutcome]) -> None:
        heard.extend(f"{o.key} {o.outcome}" for o in outcomes)

    assert record_event(opensearch, opensearch_settings, event, names=names, on_recorded=hear).outcome == "recorded"
    assert record_event(opensearch, opensearch_settings, event, names=names, on_recorded=hear).outcome == "unchanged"
    assert heard == ["caisse:T2 recorded"]  # what follows new events (live segments) hears of each once
    # The same id a year earlier (another index of the family) with another amount: a conflict, not a second event.
    with pytest.raises(EventConflict):
        record_event(opensearch, opensearch_settings, _event("T2", 400, record_id="crm:H1", amount=99.0), names=names)
    monthly = IndexNames(names.prefix, replace(names.layout, events_period="month"))
    with pytest.raises(EventConflict):
        record_event(opensearch, opensearch_settings, _event("T2", 10, record_id="crm:H1", amount=99.0), names=monthly)
    assert _figures(opensearch, opensearch_settings, names, "crm:H1").spend_12m == 10.0


def test_an_identifier_held_by_two_customers_or_by_nobody_is_refused_with_the_reason(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:1] + OTHERS[:1] + [{**OTHERS[0], "source_id": "M9", "email": HELENE[0]["email"].upper()}])
    resolve_touched(opensearch, names, resolved.config, ["crm:H1", "crm:M1", "crm:M9"], model=resolved.model)
    with pytest.raises(EventUnattached, match="customers hold this email"):
        record_event(opensearch, opensearch_settings, _event("T3", 1, identifier=("email", "helene.lefevre@orange.fr")), names=names)
    with pytest.raises(EventUnattached, match="no record holds"):
        record_event(opensearch, opensearch_settings, _event("T4", 1, identifier=("phone", "+33600000001")), names=names)


def test_events_follow_their_record_through_a_merge(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    # An account opened with another e-mail, shipping to Marseille: nothing ties it to her CRM record yet.
    ecommerce = {**HELENE[1], "given_name": "H.", "email": "h.lefevre@free.fr", "street": "8 rue Paradis", "postcode": "13001"}
    ecommerce["city"] = "Marseille"
    ingest([HELENE[0], ecommerce])
    resolve_touched(opensearch, names, resolved.config, ["crm:H1", "ecommerce:H2"], model=resolved.model)
    record_event(opensearch, opensearch_settings, _event("W1", 10, type="web_order", record_id="ecommerce:H2", amount=80.0), names=names)
    record_event(opensearch, opensearch_settings, _event("P1", 20, record_id="crm:H1", amount=20.0, shop="paris11"), names=names)
    assert _figures(opensearch, opensearch_settings, names, "crm:H1").spend_12m == 20.0
    ingest([{**ecommerce, "given_name": "Hélène", "email": "helene.lefevre@orange.fr", "updated_at": "2026-04-01T10:00:00Z"}])
    assert resolve_touched(opensearch, names, resolved.config, ["ecommerce:H2"], model=resolved.model).merges == 1
    merged = _figures(opensearch, opensearch_settings, names, "crm:H1")
    assert merged.spend_12m == 100.0 and merged.channels == ["shop", "web"]


def test_events_follow_their_record_through_a_split_and_never_stay_on_the_customer_it_left(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:4])
    resolve_touched(opensearch, names, resolved.config, _ids(HELENE[:4]), model=resolved.model)
    record_event(opensearch, opensearch_settings, _event("V1", 2, type="visit", identifier=("loyalty_card", "2901234567890")), names=names)
    record_event(opensearch, opensearch_settings, _event("C1", 3, type="call", record_id="callcenter:H3"), names=names)
    before = customer_assignment(opensearch, names)
    assert _figures(opensearch, opensearch_settings, names, "crm:H1").events == 2
    # The loyalty record was someone else's card after all: a newer version says so.
    stranger = {"given_name": "Bernard", "family_name": "Tapie", "phone": "0699999999", "civility": "M."}
    ingest([{**HELENE[3], **stranger, "updated_at": "2026-05-01T10:00:00Z"}])
    assert resolve_touched(opensearch, names, resolved.config, ["loyalty_lyon2:H4"], model=resolved.model).splits == 1
    after = customer_assignment(opensearch, names)
    assert after["crm:H1"] == before["crm:H1"] != after["loyalty_lyon2:H4"]
    helene = _figures(opensearch, opensearch_settings, names, "crm:H1")
    bernard = _figures(opensearch, opensearch_settings, names, "loyalty_lyon2:H4")
    assert (helene.events, helene.channels, helene.visits_12m) == (1, ["phone"], 0)
    assert (bernard.events, bernard.channels, bernard.visits_12m) == (1, ["shop"], 1)


def test_figures_count_visits_per_day_and_shop_spend_over_twelve_months_and_the_offers_still_held(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest([{**HELENE[0], "offres": "assurance habitation; livret"}])
    resolve_touched(opensearch, names, resolved.config, ["crm:H1"], model=resolved.model)
    events = [
        _event("a", 1, type="visit", record_id="crm:H1", shop="paris11"),
        _event("b", 1, record_id="crm:H1", amount=30.0, shop="paris11"),  # same day, same shop: one visit
        _event("c", 2, record_id="crm:H1", amount=12.25, shop="lyon2"),
        _event("d", 400, record_id="crm:H1", amount=500.0, shop="lyon2"),  # more than a year ago
        _event("e", 100, type="subscription", record_id="crm:H1", offer="carte premium"),
        _event("f", 50, type="subscription", record_id="crm:H1", offer="box mensuelle"),
        _event("g", 10, type="cancellation", record_id="crm:H1", offer="box mensuelle"),
        # The record said "livret" on 2026-03-01; a later cancellation wins.
        _event("h", 30, type="cancellation", record_id="crm:H1", offer="livret"),
    ]
    for event in events:
        record_event(opensearch, opensearch_settings, event, names=names)
    figures = _figures(opensearch, opensearch_settings, names, "crm:H1")
    assert figures.visits_12m == 2
    assert figures.spend_12m == 42.25
    assert figures.last_seen == NOW - timedelta(days=1)
    assert figures.shops == ["lyon2", "paris11"]
    assert figures.products_held == ["assurance habitation", "carte premium"]


def test_every_customers_figures_at_once_are_the_figures_one_by_one(
    resolved: Resolved, opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest([{**HELENE[0], "offres": "livret"}, *HELENE[1:4], *OTHERS[:2]])
    resolve_touched(opensearch, names, resolved.config, _ids(HELENE[:4] + OTHERS[:2]), model=resolved.model)
    events = [
        # The same day in the same shop on two of her records: one visit.
        _event("v1", 2, type="visit", record_id="crm:H1", shop="lyon2"),
        _event("v2", 2.01, record_id="loyalty_lyon2:H4", amount=15.0, shop="lyon2"),
        _event("v3", 30, type="visit", record_id="loyalty_lyon2:H4", shop="paris11"),
        _event("w1", 40, type="web_order", record_id="ecommerce:H2", amount=60.5),
        _event("s1", 20, type="cancellation", record_id="ecommerce:H2", offer="livret"),
        _event("s2", 25, type="subscription", record_id="callcenter:H3", offer="carte premium"),
        _event("m1", 3, record_id="crm:M1", amount=9.99, shop="lille"),
    ]
    for event in events:
        record_event(opensearch, opensearch_settings, event, names=names)
    attributes = opensearch_settings.events_holding_attributes
    helene_id = customer_assignment(opensearch, names)["crm:H1"]  # refreshed: every customer is read at once
    at_once = dict(figures_of_customers(opensearch, names, NOW, attributes))
    one_by_one = {customer: customer_figures(opensearch, opensearch_settings, customer, NOW, names=names) for customer in at_once}
    assert at_once == one_by_one
    helene = at_once[helene_id]
    assert (helene.visits_12m, helene.spend_12m, helene.products_held) == (2, 75.5, ["carte premium"])


def test_an_identifier_on_records_not_resolved_yet_says_to_resolve_first(
    opensearch: OpenSearch, opensearch_settings: Settings, ingest: Ingest, names: IndexNames
) -> None:
    ingest(HELENE[:2])  # both hold her e-mail; nobody resolved them
    with pytest.raises(EventUnattached, match="2 records hold this email, 2 of them not resolved yet; run `rcu resolve`"):
        record_event(opensearch, opensearch_settings, _event("U1", 1, identifier=("email", "helene.lefevre@orange.fr")), names=names)


def test_an_event_sent_for_a_customer_attaches_only_to_a_record_of_the_sender_s_sources(
    resolved: Resolved, opensearch: OpenSearch, ingest: Ingest, names: IndexNames
) -> None:
    """A sender bound to its sources never attaches an event to another source's record through the
    customer id, and learns nothing of the customer's other records when it holds none of them."""
    ingest(HELENE[:4])
    resolve_touched(opensearch, names, resolved.config, _ids(HELENE[:4]), model=resolved.model)
    customer = customer_assignment(opensearch, names)["crm:H1"]
    loyalty = EventWriter(opensearch, names, sources=lambda source: source == "loyalty_lyon2")
    stored = loyalty.store([_event("C1", 1, customer_id=customer)])
    assert stored[0].outcome and stored[0].outcome.record_id == "loyalty_lyon2:H4", stored[0].refusal
    elsewhere = EventWriter(opensearch, names, sources=lambda source: source == "loyalty_paris9")
    refused = elsewhere.store([_event("C2", 1, customer_id=customer)])
    assert refused[0].outcome is None and isinstance(refused[0].refusal, EventUnattached)
    assert "among this key's sources" in str(refused[0].refusal)
