"""The counter page's interactions in a real browser: the agent opening a customer sees what
happened with them in every system, newest first, the offers they hold and their figures, in
French — and marketing sees the figures without a single event."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.api.test_counter_page import ARTIFACTS, _sign_in, browser, page  # noqa: F401 - the browser fixtures
from tests.api.test_interactions import helene  # noqa: F401 - Hélène's events, pushed once


def test_the_counter_page_shows_the_timeline_offers_held_and_figures_of_the_customer(page: Page, helene: str) -> None:  # noqa: F811
    _sign_in(page)
    page.goto(f"/#/client/{helene}")
    section = page.get_by_role("region", name="Interactions")
    expect(section).to_be_visible()
    items = section.get_by_role("list", name="Interactions, les plus récentes d'abord").get_by_role("listitem")
    expect(items).to_have_count(5)
    expect(items.nth(0)).to_contain_text("Appel")
    expect(items.nth(1)).to_contain_text("Achat · 42,50\u00a0€ · café")
    expect(items.nth(1)).to_contain_text("magasin lyon2 — caisse_lyon2")
    expect(items.nth(4)).to_contain_text("Souscription · livraison illimitée")
    expect(section.locator("#holdings")).to_contain_text("livraison illimitée — depuis le")
    figures = section.get_by_label("Chiffres clés")
    expect(figures).to_contain_text("Visites sur 12 mois2")
    expect(figures).to_contain_text("Dépenses sur 12 mois122,50\u00a0€")
    expect(figures).to_contain_text("Canaux utilisésmagasin, site web, téléphone")
    assert "retard de livraison" not in page.content()  # a call's free text is not the counter's to read
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "counter-interactions.png", full_page=True)


def test_marketing_sees_figures_on_the_page_and_no_interaction(page: Page, helene: str) -> None:  # noqa: F811
    _sign_in(page, "marketing")
    page.goto(f"/#/client/{helene}")
    section = page.get_by_role("region", name="Interactions")
    expect(section.get_by_label("Chiffres clés")).to_contain_text("Visites sur 12 mois2")
    expect(section.locator("#interactions")).to_have_text("Aucune interaction.")
    assert "café" not in page.content()
