"""After an erasure, the change feed tells each source system which of its own records to delete
or unlink (GDPR art. 19): the `erased` change names the golden ids erased (merged ones included)
and, for each reader, the record keys of the sources it is bound to — nothing else of the person —
for the notice period only. And a new record cannot bring the erased person back through another
door (a new source id, another source) by their e-mail, mobile or card, or by their name on the household's
landline, while a household member of another given name sharing that landline and address is not refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from opensearchpy import OpenSearch

from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.changes import erased_change, expire_erasure_notices, read_changes, reserve
from search.indices import IndexNames
from search.webhooks.delivery import DeliveryPolicy, Subscriber, deliver_all
from search.webhooks.signing import SIGNATURE_HEADER, verify
from settings import Settings
from tests.conftest import write_jsonl
from tests.rights import test_webhooks
from tests.rights.conftest import SUPPRESSION_KEY
from tests.rights.test_changes import _read_all
from tests.rights.test_webhooks import SECRET, Receiver

RoleClient = Callable[[str], Any]
# The webhook tests' receiver, HTTP client and subscribers, for this module's world.
receiver, http, subscribe = test_webhooks.receiver, test_webhooks.http, test_webhooks.subscribe
EULALIE = {
    "source": "loyalty_paris11",
    "source_id": "EN1",
    "given_name": "Eulalie",
    "family_name": "Noirmoutier",
    "birth_date": "1983-06-17",
    "email": "eulalie.noirmoutier@free.fr",
    "phone": "0611223344",
    "loyalty_card": "2908888888881",
    "street": "12 rue Oberkampf",
    "postcode": "75011",
    "city": "Paris",
    "updated_at": "2026-01-01T10:00:00Z",
}
LANDLINE = "0143556677"  # the household's line in Paris: hers, her partner's, her son's
SOMEONE_ELSE = {
    "given_name": "Yolande",
    "family_name": "Zerbib",
    "birth_date": "1951-03-03",
    "email": "y.zerbib@orange.fr",
    "phone": "0299001122",
    "street": "3 quai du Port",
    "postcode": "13002",
    "city": "Marseille",
}
PERSONAL_VALUES = ("eulalie", "noirmoutier", "1983-06-17", "free.fr", "611223344", "2908888888881", "oberkampf", "143556677")


@pytest.fixture(scope="module")
def eulalie_erased(as_role: RoleClient) -> dict[str, Any]:
    """Eulalie, in three systems, one of her ids merged away after a split, then erased; the feed's
    cursors before her story and just before her erasure."""
    _, before_story = _read_all(as_role, "admin", 0)
    push = as_role("steward").post  # bound to every source
    first = push("/v1/records", json=EULALIE).json()["customer_id"]
    second = {**EULALIE, "source_id": "EN2", "loyalty_card": None, "updated_at": "2026-01-02T10:00:00Z"}
    assert push("/v1/records", json=second).json()["customer_id"] == first
    moved = push("/v1/records", json={**second, **SOMEONE_ELSE, "updated_at": "2026-01-03T10:00:00Z"})
    assert moved.json()["customer_id"] != first
    survivor = push("/v1/records", json={**second, "updated_at": "2026-01-04T10:00:00Z"}).json()["customer_id"]
    merged_away = ({first, moved.json()["customer_id"]} - {survivor}).pop()
    crm = {**EULALIE, "source": "crm", "source_id": "EN3", "loyalty_card": None, "phone": LANDLINE, "updated_at": "2026-01-05T10:00:00Z"}
    assert push("/v1/records", json=crm).json()["customer_id"] == survivor
    shop = {**EULALIE, "source": "ecommerce", "source_id": "EN4", "loyalty_card": None, "updated_at": "2026-01-06T10:00:00Z"}
    assert push("/v1/records", json=shop).json()["customer_id"] == survivor
    _, before_erasure = _read_all(as_role, "admin", 0)
    answer = as_role("privacy_officer").delete(f"/v1/customers/{survivor}")
    assert answer.status_code == 200, answer.text
    return {
        "customer_id": survivor,
        "merged_away": merged_away,
        "before_story": before_story,
        "before_erasure": before_erasure,
        "at": datetime.now(UTC),
    }


def _erased(changes: list[dict[str, Any]], customer_id: str) -> list[dict[str, Any]]:
    return [c for c in changes if c["kind"] == "erased" and c["customer_id"] == customer_id]


def test_the_erased_change_gives_each_integrator_the_keys_of_its_own_records_once_per_cursor_position(
    eulalie_erased: dict[str, Any], as_role: RoleClient
) -> None:
    customer_id = eulalie_erased["customer_id"]
    expected = {
        "admin": ["crm:EN3", "ecommerce:EN4", "loyalty_paris11:EN1", "loyalty_paris11:EN2"],
        "integrator": ["ecommerce:EN4", "loyalty_paris11:EN1", "loyalty_paris11:EN2"],  # ecommerce, loyalty_*, callcenter, caisse_*
        "shop": ["loyalty_paris11:EN1", "loyalty_paris11:EN2"],  # bound to loyalty_* only
    }
    for role, keys in expected.items():
        for since in (eulalie_erased["before_story"], eulalie_erased["before_erasure"]):
            # One position at a time, as a consumer that stops after each page.
            changes, cursor = _read_all(as_role, role, since, limit=1)
            (notice,) = _erased(changes, customer_id)
            assert notice["records"] == keys, role
            assert sorted(notice["erased_ids"]) == sorted([customer_id, eulalie_erased["merged_away"]])
            assert [c["seq"] for c in changes] == sorted({c["seq"] for c in changes})  # in order, each once
            # Read again from its own cursor: nothing more about her.
            again, _ = _read_all(as_role, role, cursor)
            assert not _erased(again, customer_id)
            # Nothing of the person but ids and keys: no name, contact or value.
            text = str(changes).lower()
            assert not [value for value in PERSONAL_VALUES if value in text], role
            # Another source's keys never reach a reader not bound to it.
            assert all(r in keys for c in changes for r in c["records"] if r.endswith(("EN1", "EN2", "EN3", "EN4"))), role
    # Her earlier changes keep their place without record keys: the notice alone names them.
    everything, _ = _read_all(as_role, "admin", eulalie_erased["before_story"])
    earlier = [c for c in everything if c["kind"] != "erased" and {c.get("customer_id"), c.get("old_id")} & {customer_id}]
    assert earlier and all(c["records"] == [] for c in earlier)


NEW_DOOR = {"given_name": "Eulalie", "family_name": "Noirmoutier", "postcode": "75011", "city": "Paris"}


@pytest.mark.parametrize(
    ("door", "identifier"),
    [
        ({"source": "loyalty_paris11", "source_id": "EN7", "email": EULALIE["email"]}, "email"),
        ({"source": "callcenter", "source_id": "EN8", "phone": "06 11 22 33 44"}, "phone"),
        ({"source": "caisse_paris11", "source_id": "EN9", "loyalty_card": "2908 8888 8888 1"}, "card"),
        # Her name, address and the household's landline: she on that line, not her partner (below).
        ({"source": "callcenter", "source_id": "EN10", "street": EULALIE["street"], "phone": "01 43 55 66 77"}, "landline"),
    ],
)
def test_a_new_record_carrying_only_an_erased_identifier_is_refused_with_the_reason_and_date(
    door: dict[str, str], identifier: str, eulalie_erased: dict[str, Any], as_role: RoleClient
) -> None:
    record = {**NEW_DOOR, **door, "updated_at": datetime.now(UTC).isoformat()}
    answer = as_role("steward").post("/v1/records", json=record)
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert f"erased on {eulalie_erased['at'].date().isoformat()}" in detail and identifier in detail
    # A newer explicit consent lets her back through the same door.
    consent = [{"purpose": "marketing_email", "status": "granted", "at": datetime.now(UTC).isoformat()}]
    back = as_role("steward").post("/v1/records", json={**record, "source_id": record["source_id"] + "B", "consents": consent})
    assert back.status_code == 200, back.text


def _partner() -> dict[str, Any]:
    return {
        "source": "crm",
        "source_id": "EN20",
        "given_name": "Théodore",
        "family_name": "Noirmoutier",
        "birth_date": "1980-09-09",
        "phone": LANDLINE,
        "street": EULALIE["street"],
        "postcode": "75011",
        "city": "Paris",
        "updated_at": datetime.now(UTC).isoformat(),
    }


def test_a_household_member_sharing_the_erased_person_s_landline_and_address_is_not_refused(
    eulalie_erased: dict[str, Any], as_role: RoleClient
) -> None:
    answer = as_role("steward").post("/v1/records", json=_partner())
    assert answer.status_code == 200, answer.text
    assert answer.json()["customer_id"] not in (eulalie_erased["customer_id"], eulalie_erased["merged_away"])


def test_an_ingest_run_rejects_the_new_doors_with_the_reason_and_indexes_the_household_member(
    eulalie_erased: dict[str, Any], opensearch: OpenSearch, world: Settings, tmp_path: Path
) -> None:
    now = datetime.now(UTC).isoformat()
    doors = [
        {**NEW_DOOR, "source": "ecommerce", "source_id": "EN30", "email": EULALIE["email"].upper(), "updated_at": now},
        {**NEW_DOOR, "source": "ecommerce", "source_id": "EN31", "phone": "+33 6 11 22 33 44", "updated_at": now},
        {**NEW_DOOR, "source": "ecommerce", "source_id": "EN32", "loyalty_card": EULALIE["loyalty_card"], "updated_at": now},
        {
            **NEW_DOOR,
            "source": "ecommerce",
            "source_id": "EN34",
            "given_name": "EULALIE",
            "street": EULALIE["street"],
            "phone": LANDLINE,
            "updated_at": now,
        },
        {**_partner(), "source": "ecommerce", "source_id": "EN33"},
    ]
    path = write_jsonl(tmp_path / "doors.jsonl", doors)
    with RejectsReport(tmp_path / "rejects.jsonl") as report:
        summary = Ingestion(opensearch, IndexNames(world.index_prefix), report, suppression_key=SUPPRESSION_KEY.encode()).run(
            SourceFiles.discover([path])
        )
    rejected = [orjson.loads(line) for line in (tmp_path / "rejects.jsonl").read_bytes().splitlines()]
    assert [line["line"] for line in rejected if line["kind"] == "rejected"] == [1, 2, 3, 4]
    erased_on = f"erased on {eulalie_erased['at'].date().isoformat()}"
    assert all(erased_on in line["reason"] and line["raw"] == "" for line in rejected)
    assert summary.outcomes["indexed"] == 1  # the household member


def test_a_webhook_subscriber_receives_the_notice_with_its_own_records_keys_signed(
    eulalie_erased: dict[str, Any],
    opensearch: OpenSearch,
    world: Settings,
    receiver: Receiver,
    http: httpx.Client,
    subscribe: Callable[..., Subscriber],
) -> None:
    shops = subscribe("shops", receiver.url, "shop")  # bound to loyalty_*
    deliver_all(opensearch, IndexNames(world.index_prefix), http, [shops], DeliveryPolicy(batch=5000))
    (notice,) = _erased(receiver.changes(), eulalie_erased["customer_id"])
    assert notice["records"] == ["loyalty_paris11:EN1", "loyalty_paris11:EN2"]
    assert eulalie_erased["merged_away"] in notice["erased_ids"]
    ((headers, body),) = [(h, b) for h, b in receiver.received if eulalie_erased["customer_id"].encode() in b]
    assert verify(SECRET, headers[SIGNATURE_HEADER], body, time.time())
    assert not [value for value in PERSONAL_VALUES if value.encode() in body.lower()]


def test_the_erasure_notice_loses_its_record_keys_after_the_notice_period(
    eulalie_erased: dict[str, Any], opensearch: OpenSearch, world: Settings
) -> None:
    names = IndexNames(world.index_prefix)
    since = eulalie_erased["before_erasure"]
    within = read_changes(opensearch, names, since, 1000, None, 60, notice_days=30)
    assert _erased(within.changes, eulalie_erased["customer_id"])[0]["records"]
    # A reader past the period gets the notice (the golden ids) without the keys...
    past = read_changes(opensearch, names, since, 1000, None, 60, notice_days=1e-9)
    (notice,) = _erased(past.changes, eulalie_erased["customer_id"])
    assert notice["records"] == [] and eulalie_erased["merged_away"] in notice["erased_ids"]
    # ...and `rcu retention --apply` drops them from the index, from the notices past the period only
    # (one written 40 days ago, by hand: the feed's numbers come from its counter).
    seq = reserve(opensearch, names, 1)
    old = {
        **erased_change("COLD", ["COLD"], ["loyalty_paris11:OLD1"]),
        "seq": seq,
        "at": (datetime.now(UTC) - timedelta(days=40)).isoformat(),
    }
    opensearch.index(index=names.changes, id=str(seq), body=old, refresh=True)
    assert expire_erasure_notices(opensearch, names, datetime.now(UTC) - timedelta(days=30)) == 1
    kept = read_changes(opensearch, names, since, 1000, None, 60).changes
    assert _erased(kept, "COLD")[0]["records"] == []
    assert _erased(kept, eulalie_erased["customer_id"])[0]["records"]  # hers is within the period
