"""What a look-up costs the node, against the real node: the second tier (more typos forgiven,
all words but one) is asked only when the first finds no one or only look-alikes, and the first tier
forgives one typo in a word of up to seven letters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.routing
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from api.fast_lookup import plain_look_up
from api.policy import DEMO_KEYS
from api.routes.search import router as search_routes
from search.indices import IndexNames
from settings import Settings


def _customer_searches(opensearch: OpenSearch, settings: Settings) -> int:
    stats = opensearch.indices.stats(index=IndexNames(settings.index_prefix).customers, metric="search")
    return stats["_all"]["primaries"]["search"]["query_total"]


def _looked_up(api: TestClient, opensearch: OpenSearch, settings: Settings, q: str) -> tuple[list[str], int]:
    """The names found for `q` and how many searches of the customers index it took."""
    before = _customer_searches(opensearch, settings)
    response = api.get("/v1/search", params={"q": q}, headers={"X-API-Key": DEMO_KEYS["counter"]})
    assert response.status_code == 200, response.text
    return [hit["display_name"] for hit in response.json()["results"]], _customer_searches(opensearch, settings) - before


def test_the_second_tier_is_asked_only_when_the_first_finds_no_one(api: TestClient, opensearch: OpenSearch, api_settings: Settings) -> None:
    # Three customers of that name, fewer than the ten asked for: the first tier answers alone.
    names, once = _looked_up(api, opensearch, api_settings, "Solène Quintard")
    assert names[:3] == ["Solène Quintard"] * 3 and "Solène Quintard" not in names[3:]
    # Nobody matches both words (every record says "Rnichèle"): the second tier answers.
    names, twice = _looked_up(api, opensearch, api_settings, "Michèle Quéméner")
    assert "Rnichèle Quéméner" in names
    assert once >= 1 and twice == 2 * once


def test_a_word_with_two_typos_is_found_by_the_second_tier(api: TestClient, opensearch: OpenSearch, api_settings: Settings) -> None:
    # Morvan: "Morvna" (one swap) is found by the first tier; "Mrovna" (two swaps in six letters) by the second.
    names, _ = _looked_up(api, opensearch, api_settings, "Gabriel Morvna")
    assert names[0] == "Gabriel Morvan"
    names, asked = _looked_up(api, opensearch, api_settings, "Gabriel Mrovna")
    assert names[0] == "Gabriel Morvan" and asked == 2


def test_a_name_finding_only_look_alikes_also_asks_the_second_tier(api: TestClient, opensearch: OpenSearch, api_settings: Settings) -> None:
    # "Gourvec": the first tier finds Hervé Gourvez alone (one typo), who does not hold the word
    # typed; the second tier, two typos forgiven, adds the Hervé whose records say "Gouvrek" —
    # after the closer look-alike, not instead of it.
    names, asked = _looked_up(api, opensearch, api_settings, "Hervé Gourvec")
    assert names[:2] == ["Hervé Gourvez", "Hervé Gouvrek"] and asked == 2
    # A customer holding every word typed ("gourv" begins Gourvez): the first tier answers alone.
    names, asked = _looked_up(api, opensearch, api_settings, "Hervé Gourv")
    assert names[0] == "Hervé Gourvez" and "Hervé Gouvrek" not in names and asked == 1


def test_a_letter_swapped_across_a_hyphen_still_finds_the_customer(api: TestClient, opensearch: OpenSearch, api_settings: Settings) -> None:
    # "PaccotN-guyen": a typo after the first letter of one part and in the first letters of the
    # other; no view of the whole name forgives both, the second tier takes each word with its own.
    names, asked = _looked_up(api, opensearch, api_settings, "PaccotN-guyen Aimée")
    assert names[:1] == ["Aimée Paccot-Nguyen"] and asked == 2


def _solved_per_request(dependant: Dependant) -> int:
    return 1 + sum(_solved_per_request(sub) for sub in dependant.dependencies)


def test_a_look_up_solves_few_dependencies() -> None:
    # Each dependency FastAPI solves costs the API tens of microseconds of CPU per request, on the
    # look-up every agent keystroke makes (bench/RESULTS.md, session 10: 8 → 5 cut ~16% of its CPU;
    # session 13: the key and bearer schemes read by the caller's check, not solved as Security):
    # the route itself and the caller.
    route = next(r for r in search_routes.routes if isinstance(r, APIRoute) and r.path == "/v1/search")
    assert _solved_per_request(route.dependant) <= 2


def test_the_schema_still_documents_the_key_the_token_and_the_shop(api: TestClient) -> None:
    # The caller's check reads them from the headers itself: integrators still see them in /openapi.json.
    schema = api.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer"}
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    for path in ("/v1/search", "/v1/cards/{card_number}", "/v1/me"):
        operation = schema["paths"][path]["get"]
        assert operation["security"] == [{"APIKeyHeader": []}, {"HTTPBearer": []}]
        assert [p["name"] for p in operation["parameters"]].count("X-Shop") == 1
    assert "security" not in schema["paths"]["/health"]["get"]


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per request FastAPI's route solved (a look-up the fast path did not answer)."""
    calls: list[int] = []
    real = fastapi.routing.solve_dependencies

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return calls


def test_a_plain_look_up_solves_no_dependency_and_routes_nothing(as_role: Callable[[str], Any], solved: list[int]) -> None:
    # The look-up every keystroke sends is answered by api.fast_lookup: FastAPI's routing and
    # solving were about a third of the API's CPU per look-up (issue 21, bench/RESULTS.md session 15).
    response = as_role("counter").get("/v1/search", params={"q": "dupont", "limit": "5"})
    assert response.status_code == 200 and response.json()["results"]
    assert solved == []
    # What it does not answer exactly as the route would goes to the route (an unknown parameter here).
    assert as_role("counter").get("/v1/search", params={"q": "dupont", "page": "2"}).status_code == 200
    assert solved == [1]


QUERIES = ["dupont", "Hélène Lefèvre 17/05/1980", "06 11 22 33 44", "dupont bordeaux", "zzzqqq", "Solène Quintard", "Michèle Quéméner"]


@pytest.mark.parametrize("role", ["counter", "steward", "marketing", "callcenter"])
def test_the_fast_path_answers_exactly_what_the_route_answers(as_role: Callable[[str], Any], role: str) -> None:
    # The route answers the same look-up when a parameter it ignores is added: both answers, byte for byte.
    for q in QUERIES:
        fast = as_role(role).get("/v1/search", params={"q": q, "limit": "7"})
        routed = as_role(role).get("/v1/search", params={"q": q, "limit": "7", "via": "route"})
        assert (fast.status_code, fast.content) == (routed.status_code, routed.content), q
        assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"q": "d"}, {}, 422),
        ({"q": "dupont", "limit": "0"}, {}, 422),
        ({"q": "dupont", "limit": "51"}, {}, 422),
        ({"q": "dupont", "limit": "ten"}, {}, 422),
        ({"q": "x" * 201}, {}, 422),
        ({"q": "dupont"}, {"X-API-Key": "not-a-key"}, 401),
        ({"q": "dupont"}, {"X-Shop": "not a shop!"}, 422),
    ],
)
def test_a_look_up_the_fast_path_cannot_take_is_refused_by_the_route_with_its_reason(
    as_role: Callable[[str], Any], params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    response = as_role("counter").get("/v1/search", params=params, headers=headers)
    assert response.status_code == status and response.json()["detail"]
    assert response.headers["cache-control"] == "no-store"


def test_the_fast_paths_query_string_is_read_as_the_route_reads_it() -> None:
    assert plain_look_up(b"q=dup+jea") == ("dup jea", 10)
    assert plain_look_up(b"q=h%C3%A9l%C3%A8ne&limit=7") == ("hélène", 7)
    assert plain_look_up(b"limit=50&q=06%2011") == ("06 11", 50)
    for declined in (b"", b"limit=5", b"q=a", b"q=dupont&q=martin", b"q=dupont&limit=", b"q=dupont&limit=+5", b"q=dupont&x=1"):
        assert plain_look_up(declined) is None, declined


def _search_entries(as_role: Callable[[str], Any], q: str) -> list[dict[str, Any]]:
    entries = as_role("admin").get("/v1/audit", params={"limit": 500}).json()["entries"]
    return [e for e in entries if e["action"] == "search" and e.get("query") == q]


def test_a_look_up_the_fast_path_answers_leaves_one_audit_entry_naming_the_customers_shown(
    as_role: Callable[[str], Any], solved: list[int]
) -> None:
    q = "QUINTARD Solène"  # typed only here: the trail's entries for it are this test's
    response = as_role("counter").get("/v1/search", params={"q": q, "limit": "5"})
    assert response.status_code == 200 and solved == []  # answered by the fast path
    shown = [hit["customer_id"] for hit in response.json()["results"]]
    assert len(shown) == 3  # the stories' three Solène Quintard
    (entry,) = _search_entries(as_role, q)
    assert (entry["caller"], entry["role"], entry["outcome"]) == ("demo counter agent", "counter", "found")
    assert entry["customer_ids"] == shown


def test_a_look_up_the_fast_path_declines_is_audited_by_the_route_as_before(as_role: Callable[[str], Any], solved: list[int]) -> None:
    # An unknown parameter: the route answers, and its one entry names the customers shown.
    q = "quintard SOLÈNE"
    response = as_role("counter").get("/v1/search", params={"q": q, "limit": "5", "page": "2"})
    assert response.status_code == 200 and solved == [1]
    (entry,) = _search_entries(as_role, q)
    assert entry["customer_ids"] == [hit["customer_id"] for hit in response.json()["results"]]
    # Too long for the route's parameters: refused with its reason, audited as not understood, no one shown.
    typed = "solène quintard, " * 12
    refusal = as_role("counter").get("/v1/search", params={"q": typed})
    assert refusal.status_code == 422 and refusal.json()["detail"]
    (refused,) = _search_entries(as_role, typed)
    assert refused["outcome"] == "error" and refused["customer_ids"] == []
