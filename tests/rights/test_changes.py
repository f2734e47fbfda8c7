"""The change feed: read from a cursor after a merge, a split and an erasure, it lists them in
order, resumes exactly where a consumer stopped (across restarts), shows each integrator the
sources it is bound to, and never skips a change a writer is still writing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from api.app import create_app
from api.policy import DEMO_KEYS, Policy
from api.routes.changes import ChangesResponse
from search.changes import append_changes, ensure_changes_indices, read_changes, reserve
from search.indices import IndexNames
from settings import Settings

RoleClient = Callable[[str], Any]
FLORIAN = {
    "source": "crm",
    "source_id": "FX1",
    "given_name": "Florian",
    "family_name": "Xhaufflaire",
    "birth_date": "1991-07-23",
    "email": "florian.xhaufflaire@gmail.com",
    "phone": "0712345098",
    "postcode": "35000",
    "city": "Rennes",
    "updated_at": "2026-01-01T10:00:00Z",
}
SOMEONE_ELSE = {
    "given_name": "Yvonne",
    "family_name": "Zeller",
    "birth_date": "1950-02-02",
    "email": "y.zeller@orange.fr",
    "phone": "0299887766",
    "postcode": "13001",
    "city": "Marseille",
}


def _read_all(client: RoleClient, role: str, since: int, limit: int = 1000) -> tuple[list[dict[str, Any]], int]:
    changes: list[dict[str, Any]] = []
    while True:
        page = client(role).get("/v1/changes", params={"since": since, "limit": limit}).json()
        assert ChangesResponse.model_validate(page).model_dump() == page  # the documented answer, serialized by hand
        changes += page["changes"]
        since = page["cursor"]
        if not page["more"]:
            return changes, since


def test_the_feed_lists_a_split_a_merge_and_an_erasure_in_order_and_resumes_where_the_consumer_stopped(
    as_role: RoleClient, world: Settings
) -> None:
    initial, cursor = _read_all(as_role, "admin", 0)
    assert initial and all(c["kind"] == "created" for c in initial)
    assert [c["seq"] for c in initial] == sorted(c["seq"] for c in initial)

    push = as_role("steward").post  # bound to every source
    first = push("/v1/records", json=FLORIAN).json()["customer_id"]
    second = {**FLORIAN, "source": "ecommerce", "source_id": "FX2", "updated_at": "2026-01-02T10:00:00Z"}
    assert push("/v1/records", json=second).json()["customer_id"] == first
    moved = push("/v1/records", json={**second, **SOMEONE_ELSE, "updated_at": "2026-01-03T10:00:00Z"}).json()["customer_id"]
    assert moved != first
    back = push("/v1/records", json={**second, "updated_at": "2026-01-04T10:00:00Z"}).json()["customer_id"]
    assert as_role("privacy_officer").delete(f"/v1/customers/{back}").status_code == 200

    # One page of two at a time, as a consumer that stops and comes back, across an API restart.
    pages: list[dict[str, Any]] = []
    position = cursor
    for _ in range(3):
        page = as_role("admin").get("/v1/changes", params={"since": position, "limit": 2}).json()
        pages += page["changes"]
        position = page["cursor"]
    with TestClient(create_app(world, Policy.load(world.policy))) as restarted:
        rest, _ = _read_all(lambda role: _Keyed(restarted, role), "admin", position, limit=2)
    everything, _ = _read_all(as_role, "admin", cursor)
    assert pages + rest == everything  # exactly once per cursor position, in order
    kinds = [c["kind"] for c in everything]
    assert kinds[0] == "created" and everything[0]["customer_id"] == first
    assert {"updated", "split", "merged", "erased"} <= set(kinds)
    assert kinds.index("split") < kinds.index("merged") < kinds.index("erased") == len(kinds) - 1
    split = everything[kinds.index("split")]
    assert (split["old_id"], split["new_id"]) == (first, moved)
    merged = everything[kinds.index("merged")]
    assert {merged["old_id"], merged["new_id"]} == {first, moved} and merged["new_id"] == back
    # The erasure names the records to delete (art. 19); its earlier changes keep their place without them.
    assert everything[-1]["customer_id"] == back and everything[-1]["records"] == ["crm:FX1", "ecommerce:FX2"]
    assert all(c["records"] == [] for c in everything[:-1] if back in (c.get("customer_id"), c.get("old_id")))
    assert "gmail" not in str(everything) and "Florian" not in str(everything)


class _Keyed:
    def __init__(self, client: TestClient, role: str) -> None:
        self.client, self.headers = client, {"X-API-Key": DEMO_KEYS[role]}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers, **kwargs)


def test_an_integrator_sees_only_the_changes_of_the_sources_it_is_bound_to(as_role: RoleClient) -> None:
    shop, _ = _read_all(as_role, "shop", 0)
    assert shop, "the loyalty shops' customers were created"
    for change in shop:
        assert any(s.startswith("loyalty_") for s in change["sources"])
        assert all(r.startswith("loyalty_") for r in change["records"])
    everything, _ = _read_all(as_role, "integrator", 0)
    assert len(everything) > len(shop)
    assert as_role("counter").get("/v1/changes").status_code == 403


def test_a_reader_waits_at_a_change_still_being_written_and_never_skips_it(opensearch: OpenSearch, world: Settings) -> None:
    # A feed of its own: the writer that dies below leaves a hole every later reader of the world's
    # feed would wait at for RCU_CHANGES_GAP_TIMEOUT_S (60 s: the next test's whole duration).
    names = IndexNames(f"{world.index_prefix}-holes")
    ensure_changes_indices(opensearch, names)
    append_changes(opensearch, names, [{"kind": "created", "customer_id": "CFIRST", "sources": ["crm"], "records": [], "fields": []}])
    start = read_changes(opensearch, names, 0, 5000, None, 60).cursor
    assert start == 1
    hole = reserve(opensearch, names, 1)  # a writer has its number and has not written yet
    append_changes(opensearch, names, [{"kind": "updated", "customer_id": "CLATER", "sources": ["crm"], "records": [], "fields": ["city"]}])
    waiting = read_changes(opensearch, names, start, 100, None, 60)
    assert waiting.cursor == hole - 1 and waiting.more and all(c["customer_id"] != "CLATER" for c in waiting.changes)
    opensearch.index(
        index=names.changes,
        id=str(hole),
        body={
            "seq": hole,
            "at": "2026-01-01T00:00:00+00:00",
            "kind": "updated",
            "customer_id": "CEARLIER",
            "sources": ["crm"],
            "records": [],
        },
        refresh=True,
    )
    done = read_changes(opensearch, names, waiting.cursor, 100, None, 60)
    assert [c["customer_id"] for c in done.changes] == ["CEARLIER", "CLATER"]
    # A number reserved by a writer that died is stepped over once later changes are old enough.
    dead = reserve(opensearch, names, 1)
    append_changes(opensearch, names, [{"kind": "updated", "customer_id": "CAFTER", "sources": ["crm"], "records": []}])
    assert read_changes(opensearch, names, dead - 1, 100, None, 60).changes == []
    assert [c["customer_id"] for c in read_changes(opensearch, names, dead - 1, 100, None, 0.001).changes] == ["CAFTER"]


def test_a_cursor_beyond_any_sequence_number_is_refused_with_the_reason(as_role: RoleClient) -> None:
    answer = as_role("integrator").get("/v1/changes", params={"since": 2**70})
    assert answer.status_code == 422 and answer.json()["detail"].startswith("since:")


def test_a_consent_change_and_a_new_phone_reach_the_feed_with_what_changed(as_role: RoleClient) -> None:
    """A source system follows opt-outs and updates from the feed alone (article 19): a refusal given at
    the counter is a `consent_changed` naming the purpose, a newer record's phone an `updated` naming
    `phones` — never the values themselves."""
    _, cursor = _read_all(as_role, "admin", 0)
    gwen = {**FLORIAN, "source_id": "GT1", "given_name": "Gwenaëlle", "family_name": "Tanguy", "birth_date": "1983-11-02",
            "email": "gwenaelle.tanguy@gmail.com", "phone": "0711223344"}  # fmt: skip
    customer = as_role("steward").post("/v1/records", json=gwen).json()["customer_id"]
    refusal = {"statements": [{"purpose": "marketing_post", "status": "refused"}]}
    assert as_role("counter").put(f"/v1/customers/{customer}/consents", json=refusal).status_code == 200
    newer = {**gwen, "phone": "0755667788", "updated_at": "2026-03-01T10:00:00Z"}
    assert as_role("steward").post("/v1/records", json=newer).json()["customer_id"] == customer

    changes = [c for c in _read_all(as_role, "admin", cursor)[0] if c["customer_id"] == customer]
    kinds = [c["kind"] for c in changes]
    assert kinds[0] == "created" and "consent_changed" in kinds and "updated" in kinds
    assert kinds.index("consent_changed") < len(kinds) - 1 - kinds[::-1].index("updated")
    assert next(c for c in changes if c["kind"] == "consent_changed")["fields"] == ["marketing_post"]
    assert "phones" in [f for c in changes if c["kind"] == "updated" for f in c["fields"]]
    assert "0755667788" not in str(changes) and "+33755667788" not in str(changes) and "Tanguy" not in str(changes)
