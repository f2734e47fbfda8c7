"""The counter screen in a real browser (Debian's Chromium driven by Playwright): the customer's
segments and the actions to propose, each with why it was chosen and where it may be proposed; a
refusal asks for its reason and takes the action off the sheet. Screenshot in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.policy import DEMO_KEYS
from search.indices import IndexNames
from search.segments.store import refresh_profiles
from settings import Settings
from tests.api.conftest import serve_in_thread
from tests.segments.conftest import event, store_events
from tests.segments.people import NO_EMAIL, REFUSER

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def served_world(world: Settings) -> Iterator[str]:
    url, stop = serve_in_thread(world)
    yield url
    stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, served_world: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="fr-FR", base_url=served_world)
    page = context.new_page()
    yield page
    context.close()


def _open(page: Page, role: str, customer: str) -> None:
    page.goto("/")
    page.get_by_label("Clé d'accès").fill(DEMO_KEYS[role])
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_label("Nom, téléphone, e-mail ou carte de fidélité")).to_be_focused()
    page.goto(f"/#/client/{customer}")
    expect(page.locator("#customer-title")).not_to_be_empty()


def test_the_counter_sees_segments_and_actions_with_their_reasons_and_a_refusal_needs_a_reason(
    page: Page, opensearch: OpenSearch, world: Settings, world_names: IndexNames, customer_of: Callable[[dict[str, Any]], str]
) -> None:
    customer = customer_of(NO_EMAIL)
    store_events(opensearch, world, [event(NO_EMAIL, "NB1", days_ago=2, type="subscription", offer="compte_courant")])
    refresh_profiles(opensearch, world, world_names, [customer])
    _open(page, "counter", customer)
    section = page.locator("#actions-section")
    expect(section.get_by_role("heading", name="À proposer")).to_be_visible()
    expect(page.locator("#segments li")).to_contain_text(["Mono-offre : un seul produit détenu"])
    second = page.locator('#next-actions li[data-action="second_produit"]')
    expect(second.locator(".label")).to_have_text("Proposer un deuxième produit (assurance habitation)")
    expect(second.locator(".why")).to_have_text("Pourquoi : Mono-offre : un seul produit détenu")
    # She refused e-mail marketing: never offered by e-mail.
    expect(second.locator(".channels")).to_have_text("Canaux possibles : au comptoir, par téléphone")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "counter-actions.png", full_page=True)
    second.get_by_role("button", name="Refusée").click()
    second.get_by_role("button", name="Enregistrer le refus").click()
    expect(page.locator("#actions-status")).to_have_text("Indiquez le motif du refus.")
    second.get_by_label("Motif du refus : Proposer un deuxième produit (assurance habitation)").fill("Déjà assurée ailleurs")
    second.get_by_role("button", name="Enregistrer le refus").click()
    expect(page.locator("#actions-status")).to_contain_text("Refus enregistré")
    expect(page.locator('#next-actions li[data-action="second_produit"]')).to_have_count(0)


def test_marketing_sees_segments_on_the_sheet_but_no_actions_to_record(
    page: Page, opensearch: OpenSearch, world: Settings, world_names: IndexNames, customer_of: Callable[[dict[str, Any]], str]
) -> None:
    customer = customer_of(REFUSER)
    store_events(opensearch, world, [event(REFUSER, "RB1", days_ago=2, type="subscription", offer="livret")])
    refresh_profiles(opensearch, world, world_names, [customer])
    _open(page, "marketing", customer)
    expect(page.locator("#segments li")).to_contain_text(["Mono-offre : un seul produit détenu"])
    expect(page.locator("#next-actions")).to_be_hidden()
