"""The counter screen in a real browser (Debian's Chromium driven by Playwright): an agent finds a
customer as they type, scans a card, opens the 360 view — and never sees what the role may not.
Screenshots of the search and customer pages (1280×800) are saved under test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.policy import DEMO_KEYS, DEMO_SHOP_KEY
from tests.api.test_lookup import customer_holding

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
UNMASKED_PHONE = re.compile(r"(\+33|0)6[ .-]?11[ .-]?22[ .-]?33[ .-]?44")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, served: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR", base_url=served)
    page = context.new_page()
    yield page
    context.close()


def _sign_in(page: Page, role: str = "counter", key: str | None = None) -> None:
    page.goto("/")
    page.get_by_label("Clé d'accès").fill(key or DEMO_KEYS[role])
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_label("Nom, téléphone, e-mail ou carte de fidélité")).to_be_focused()


def _box(page: Page):
    return page.get_by_label("Nom, téléphone, e-mail ou carte de fidélité")


def test_typing_dup_then_dupont_j_puts_jean_dupont_first(page: Page) -> None:
    _sign_in(page)
    _box(page).press_sequentially("dup", delay=60)
    expect(page.locator(".result").first).to_be_visible()
    _box(page).press_sequentially("ont j", delay=60)
    expect(page.locator(".result").first.locator(".name")).to_have_text("Jean Dupont")
    # The answer to the last keystroke: "j" marks Jean as well as Dupont.
    expect(page.locator(".result").first.locator(".name mark")).to_have_text(["Jean", "Dupont"])
    sources = page.locator(".result").first.locator(".sources")
    expect(sources).to_have_text(re.compile(r"^\d+ fiche\(s\) : "))
    for source in ("crm", "loyalty_bordeaux", "loyalty_nantes"):
        expect(sources).to_contain_text(source)
    expect(page.locator("#status")).to_contain_text("client(s) trouvé(s)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "counter-search.png")


@pytest.mark.parametrize(("typed", "expected"), [("Dupond Jean", "Jean Dupont"), ("helene lefevre", "Hélène Lefèvre")])
def test_a_typo_or_a_missing_accent_still_finds_the_customer(page: Page, typed: str, expected: str) -> None:
    _sign_in(page)
    _box(page).fill(typed)
    expect(page.locator(".result").first.locator(".name")).to_have_text(expected)


def test_keyboard_opens_the_selected_customer_and_escape_clears(page: Page) -> None:
    _sign_in(page)
    _box(page).fill("dupont jean")
    expect(page.locator(".result").first.locator(".name")).to_have_text("Jean Dupont")
    _box(page).press("Escape")
    expect(_box(page)).to_have_value("")
    expect(page.locator(".result")).to_have_count(0)
    _box(page).fill("dupont jean")
    expect(page.locator(".result").first).to_have_attribute("aria-selected", "true")
    _box(page).press("Enter")
    expect(page.get_by_role("heading", level=2)).to_have_text("Jean Dupont")


def test_a_scanned_card_opens_the_customer_directly(page: Page) -> None:
    _sign_in(page)
    _box(page).press_sequentially("2906666666666", delay=5)
    _box(page).press("Enter")
    expect(page).to_have_url(re.compile(r"#/client/C[0-9A-F]+$"))
    expect(page.get_by_role("heading", level=2)).to_have_text("Jean Dupont")
    expect(page.locator("#golden")).to_contain_text("2906666666666")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "counter-customer.png", full_page=False)


def test_counter_agent_never_sees_an_unmasked_phone_in_the_page_or_its_responses(page: Page) -> None:
    bodies: list[str] = []
    page.on("response", lambda response: bodies.append(response.text()) if "/v1/" in response.url else None)
    _sign_in(page)
    _box(page).fill("jean dupont")  # not the phone itself: the API echoes what the agent typed
    expect(page.locator(".result").first.locator(".name")).to_have_text("Jean Dupont")
    expect(page.locator(".result").first).to_contain_text("06 •• •• •• 44")
    page.locator(".result").first.click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Jean Dupont")
    expect(page.locator("#records tbody tr").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert not UNMASKED_PHONE.search(page.content())
    leaks = [body[:300] for body in bodies if UNMASKED_PHONE.search(body)]
    assert bodies and not leaks, leaks


def test_a_birth_date_typed_with_the_name_finds_the_customer_and_the_page_shows_only_the_year(page: Page) -> None:
    bodies: list[str] = []
    page.on("response", lambda response: bodies.append(response.text()) if "/v1/search" in response.url else None)
    _sign_in(page)
    _box(page).fill("Jean Dupont 02/03/1975")
    first = page.locator(".result").first
    expect(first.locator(".name")).to_have_text("Jean Dupont")
    expect(first).to_contain_text("né(e) en 1975")
    expect(page.locator("#ignored")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    assert "02/03/1975" not in page.locator("#results").inner_text() and "1975-03-02" not in page.content()
    # The API echoes the query typed; the results themselves never hold the date.
    assert bodies and not any("1975-03-02" in body.split('"results"')[1] for body in bodies)


@pytest.mark.parametrize(
    ("role", "typed", "said"),
    [
        ("counter", "jean.dupont@free.fr", "Non pris en compte : les e-mails servent seulement à confirmer un client trouvé par son nom"),
        (
            "marketing",
            "06 11 22 33 44",
            "Non pris en compte : votre rôle ne permet ni de rechercher ni de vérifier les numéros de téléphone.",
        ),
    ],
)
def test_what_the_role_may_not_search_is_said_in_french_under_the_results(page: Page, role: str, typed: str, said: str) -> None:
    _sign_in(page, role)
    _box(page).fill(typed)
    expect(page.locator("#ignored")).to_be_visible()
    expect(page.locator("#ignored")).to_contain_text(said)
    expect(page.locator("#status")).to_have_text("Aucun client trouvé.")
    _box(page).fill("dupont jean" if role == "counter" else "06")
    expect(page.locator("#ignored")).to_be_hidden()


def test_an_agent_at_a_shop_sees_its_cardholder_first_among_namesakes(page: Page) -> None:
    _sign_in(page, key=DEMO_SHOP_KEY)
    expect(page.locator("#role-label")).to_contain_text("boutique lyon2")
    _box(page).fill("solene quintard")
    expect(page.locator(".result").first.locator(".cards")).to_contain_text("(lyon2)")


def test_a_refused_key_says_so_and_sign_out_forgets_the_key(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Clé d'accès").fill("not-a-key")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Clé refusée")
    _sign_in(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_label("Clé d'accès")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('rcu.apiKey')") is None


def test_the_page_says_so_when_the_service_is_down(browser: Browser, api_settings) -> None:
    from urllib.parse import urlsplit

    from tests.api.conftest import serve_in_thread
    from tests.api.test_errors import Relay

    node = urlsplit(api_settings.opensearch_url)
    relay = Relay((node.hostname or "127.0.0.1", node.port or 9200))
    relay.start()
    url, stop = serve_in_thread(
        api_settings.model_copy(update={"opensearch_url": f"http://127.0.0.1:{relay.port}", "opensearch_timeout_s": 2})
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=url)
    try:
        page = context.new_page()
        _sign_in(page)
        relay.stop()
        _box(page).fill("dupont jean")
        expect(page.get_by_role("alert")).to_contain_text("Service momentanément indisponible")
    finally:
        context.close()
        stop()
        relay.stop()


def test_the_customer_page_shows_who_is_possibly_the_same_person(page: Page, as_role) -> None:
    paris = customer_holding(as_role, "crm:Q1", "Ombeline Quesnoy")
    _sign_in(page)
    page.goto(f"/#/client/{paris}")
    expect(page.get_by_role("heading", level=2)).to_have_text("Ombeline Quesnoy")
    section = page.get_by_role("region", name="Peut-être la même personne que…")
    expect(section).to_be_visible()
    first = section.get_by_role("listitem").first
    expect(first.get_by_role("link")).to_have_text("Ombeline Quesnoy")
    expect(first).to_contain_text(re.compile(r"\((callcenter|loyalty_lille)\) ?probabilité \d+\s%"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "counter-possibly-same.png", full_page=True)
    first.get_by_role("link").click()
    expect(page).not_to_have_url(re.compile(f"{paris}$"))


def test_a_role_that_reads_no_names_is_shown_no_possible_match(page: Page, as_role) -> None:
    paris = customer_holding(as_role, "crm:Q1", "Ombeline Quesnoy")
    _sign_in(page, "marketing")
    page.goto(f"/#/client/{paris}")
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Client {paris}")
    expect(page.locator("#possibly-same-section")).to_be_hidden()
    assert "Quesnoy" not in page.content()


def test_a_refused_look_up_or_customer_is_said_in_french_never_in_the_apis_english(page: Page) -> None:
    _sign_in(page)
    _box(page).fill("dupont " * 30)  # 210 characters: the API refuses it (422, an English `detail`)
    expect(page.locator("#status")).to_have_text("Recherche non comprise : tapez de 2 à 200 caractères (nom, téléphone, e-mail, carte…).")
    page.goto("/#/client/C000000000000")
    expect(page.locator("#golden")).to_have_text("Client introuvable.")
    expect(page.locator("body")).not_to_contain_text("No customer")
