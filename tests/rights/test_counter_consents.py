"""The counter page shows, in French, the customer's consents, their history and a restriction
(Chromium driven by Playwright, over this module's own world)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from api.policy import DEMO_KEYS
from settings import Settings
from tests.api.conftest import serve_in_thread
from tests.api.test_counter_page import ARTIFACTS, CHROMIUM
from tests.rights.conftest import customer_of

RoleClient = Callable[[str], Any]


@pytest.fixture(scope="module")
def page(world: Settings) -> Iterator[Page]:
    url, stop = serve_in_thread(world)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR", base_url=url)
        yield context.new_page()
        browser.close()
    stop()


def test_the_counter_page_shows_consents_their_history_and_a_restriction_in_french(page: Page, as_role: RoleClient) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    as_role("counter").put(f"/v1/customers/{camille}/consents", json={"statements": [{"purpose": "restriction", "status": "requested"}]})
    page.goto("/")
    page.get_by_label("Clé d'accès").fill(DEMO_KEYS["counter"])
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"/#/client/{camille}")
    consents = page.locator("#consents")
    expect(consents).to_contain_text("Prospection par e-mail")
    expect(consents).to_contain_text("refusé")
    expect(consents).to_contain_text("Prospection par SMS")
    expect(page.locator("#restriction")).to_be_visible()
    expect(page.locator("#restriction")).to_contain_text("Limitation du traitement demandée")
    page.get_by_text("Historique des consentements").click()
    history = page.locator("#consent-history li")
    expect(history).to_have_count(4)
    expect(history.first).to_contain_text("Limitation du traitement : demandée (api, demo counter agent)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "counter-consents.png"), full_page=True)
