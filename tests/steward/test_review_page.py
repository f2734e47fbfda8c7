"""The steward's page /revue in a real browser (Debian's Chromium driven by Playwright): the queue,
two customers side by side with their differences highlighted, decisions by keyboard, a customer
found and split, and a French message for a refused key, a missing right and a concurrent
decision. Screenshots (1280×800) are saved under test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.policy import DEMO_KEYS
from settings import Settings
from tests.api.conftest import serve_in_thread
from tests.api.test_counter_page import ARTIFACTS, CHROMIUM
from tests.steward.conftest import RoleClient
from tests.steward.test_decisions import _version


@pytest.fixture(scope="module")
def served_world(steward_world: Settings) -> Iterator[str]:
    url, stop = serve_in_thread(steward_world)
    yield url
    stop()


# A decision re-resolves customers and refreshes indices: on a busy 2-core machine it can take a
# few seconds, longer than Playwright's 5 s default.
SLOW_MACHINE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=SLOW_MACHINE_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()
    expect.set_options(timeout=5_000)


@pytest.fixture
def page(browser: Browser, served_world: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR", base_url=served_world)
    context.set_default_timeout(SLOW_MACHINE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def _sign_in(page: Page, key: str) -> None:
    page.goto("/revue")
    page.get_by_label("Clé d'accès").fill(key)
    page.get_by_role("button", name="Se connecter").click()


def test_the_queue_shows_a_pair_side_by_side_and_m_merges_it(page: Page, customer_of: Callable[[str], str]) -> None:
    _sign_in(page, DEMO_KEYS["steward"])
    first = page.locator("#queue li").first
    expect(first).to_be_visible()
    expect(page.locator("#item-why")).to_contain_text("Probabilité d'être la même personne")
    expect(page.locator("#compare tr.differs").first).to_be_visible()
    expect(page.locator("#explanation li").first).to_contain_text(" — ")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "revue-queue.png")
    title = page.locator("#item-title").inner_text()
    page.get_by_label("Motif de la décision").fill("Même voix, même adresse")
    page.locator("#queue").click()  # focus out of the text box: shortcuts apply
    page.keyboard.press("m")
    expect(page.locator("#notice")).to_contain_text("Décision enregistrée (même personne)")
    expect(page.locator("#item-title")).not_to_have_text(title)


def test_a_concurrent_decision_is_told_in_french_and_nothing_is_lost(
    page: Page, as_role: Callable[[str], RoleClient], customer_of: Callable[[str], str]
) -> None:
    _sign_in(page, DEMO_KEYS["steward"])
    expect(page.locator("#queue li").first).to_be_visible()
    page.keyboard.press("n")
    ids = page.locator("#compare th").all_inner_texts()[1:]
    assert len(ids) == 2
    # Another steward decides on the same item meanwhile.
    other = {"kind": "different_people", "customer_ids": ids, "version": _version(as_role, *ids), "reason": "autre gestionnaire"}
    assert as_role("admin").post("/v1/review/decisions", json=other).status_code == 201
    page.get_by_label("Motif de la décision").fill("mon motif")
    page.get_by_role("button", name="Même personne (M)").click()
    expect(page.locator("#alert")).to_contain_text("un autre gestionnaire vient de décider")
    expect(page.get_by_label("Motif de la décision")).to_have_value("mon motif")
    page.screenshot(path=ARTIFACTS / "revue-conflict.png")
    assert customer_of("crm:Q1") != customer_of("ecommerce:Q3")


def test_a_customer_found_by_the_search_box_is_split(page: Page, customer_of: Callable[[str], str]) -> None:
    berthier = customer_of("crm:B1")
    _sign_in(page, DEMO_KEYS["steward"])
    expect(page.locator("#queue li").first).to_be_visible()
    page.get_by_label("Trouver un client (pour le séparer)").fill("Arsène Berthier")
    page.locator("#found li").first.click()
    expect(page.locator("#item-title")).to_contain_text(berthier)
    page.get_by_label("Séparer la fiche loyalty_lyon2:B3").check()
    page.screenshot(path=ARTIFACTS / "revue-split.png")
    page.get_by_role("button", name="Séparer les fiches cochées (S)").click()
    expect(page.locator("#notice")).to_contain_text("Décision enregistrée (fiche détachée)")
    assert customer_of("loyalty_lyon2:B3") != customer_of("crm:B1") == berthier
    page.get_by_role("button", name="Annuler cette décision").click()
    expect(page.locator("#notice")).to_contain_text("Décision annulée")
    assert customer_of("loyalty_lyon2:B3") == customer_of("crm:B1") == berthier


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("not-a-key", "Clé d'accès refusée"),
        (DEMO_KEYS["counter"], "réservée aux gestionnaires de données"),
        (DEMO_KEYS["marketing"], "réservée aux gestionnaires de données"),
    ],
)
def test_a_refused_key_or_a_missing_right_is_told_in_french(page: Page, key: str, message: str) -> None:
    _sign_in(page, key)
    expect(page.locator("#alert")).to_contain_text(message)
    expect(page.locator("#queue li")).to_have_count(0)
