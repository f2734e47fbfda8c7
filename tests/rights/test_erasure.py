"""Erasure: after it, no index holds any value of the person; their ids answer 410; the audit trail
keeps the fact, who and when; a source sending their records again is refused with the reason and
the date, its other records indexed — and a newer explicit consent lets the person back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import RejectsReport
from search.events.model import Event
from search.events.store import EventWriter
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.realtime import RealTimeResolver
from search.resolve.store import load_model, save_model
from search.rights.erasure_plan import by_refresh, unrefreshed_indices, write_unrefreshed
from search.rights.suppression import SuppressionKeyMissing, ensure_suppression_index, lookup_refusal, suppression_actions
from settings import Settings
from tests.conftest import write_jsonl
from tests.rights.conftest import SUPPRESSION_KEY, customer_of, data_folder, no_periodic_refresh
from tests.rights.people import GASPARD, GASPARD_IDENTIFIERS

RoleClient = Callable[[str], Any]


@pytest.fixture(scope="module")
def erased(as_role: RoleClient) -> dict[str, Any]:
    """Gaspard Vernet, looked at by the counter, then erased by the privacy officer."""
    gaspard = customer_of(as_role, "Gaspard Vernet")
    view = as_role("counter").get(f"/v1/customers/{gaspard}").json()
    as_role("callcenter").get("/v1/search", params={"q": "vernet gaspard"})
    # What agents type to find him — every identifier — goes to the audit trail with him.
    for typed in (GASPARD_IDENTIFIERS["email"], "06 33 22 11 00", GASPARD_IDENTIFIERS["phone_e164"], "1966-11-02 vernet"):
        as_role("callcenter").get("/v1/search", params={"q": typed})
    as_role("counter").get(f"/v1/cards/{GASPARD_IDENTIFIERS['card']}")
    answer = as_role("privacy_officer").delete(f"/v1/customers/{gaspard}")
    assert answer.status_code == 200, answer.text
    return {"customer_id": gaspard, "records": view["customer"]["records"], "receipt": answer.json()}


NOTICE_FIELDS = {"kind", "customer_id", "erased_ids", "sources", "records", "seq", "at"}


def _outside_notice(change: dict[str, Any]) -> dict[str, Any]:
    """A change as checked for the person's values: an `erased` change holds their record keys on
    purpose, for the source systems (search.changes.erased_change; tests.rights.test_erasure_notice
    checks whom they reach and for how long) — and nothing else of them."""
    if change.get("kind") != "erased":
        return change
    assert set(change) <= NOTICE_FIELDS, change
    return {**change, "records": []}


def _dumped(hit: dict[str, Any]) -> str:
    if "-changes" in hit["_index"]:
        hit = {**hit, "_source": _outside_notice(hit["_source"])}
    return json.dumps(hit, ensure_ascii=False).lower()


def _every_document(client: OpenSearch, prefix: str) -> list[str]:
    client.indices.refresh(index=f"{prefix}-*")
    return [_dumped(hit) for hit in scan(client, index=f"{prefix}-*", query={"query": {"match_all": {}}})]


def test_after_erasure_no_index_holds_any_value_of_the_person(erased: dict[str, Any], opensearch: OpenSearch, world: Settings) -> None:
    assert erased["receipt"]["records"] == len(GASPARD) == len(erased["records"])
    values = [
        GASPARD_IDENTIFIERS["email"],
        GASPARD_IDENTIFIERS["phone_e164"],
        GASPARD_IDENTIFIERS["phone"],
        "06 33 22 11 00",
        GASPARD_IDENTIFIERS["card"],
        "gaspard",
        "1966-11-02",  # his birth date: nobody else's in this world
        "tanneurs, 67000",
        *(f'"{record_id.lower()}"' for record_id in erased["records"]),
        *(f'"{record["source_id"].lower()}"' for record in GASPARD),
    ]
    documents = _every_document(opensearch, world.index_prefix)
    assert len(documents) > 100  # the others are all still there
    for value in values:
        holders = [d[:200] for d in documents if value.lower() in d]
        assert not holders, (value, holders)


def test_an_erased_customer_is_found_by_none_of_its_identifiers_and_its_id_answers_410(erased: dict[str, Any], as_role: RoleClient) -> None:
    for q in ("Gaspard Vernet", "vernet gas", GASPARD_IDENTIFIERS["email"], "06 33 22 11 00", GASPARD_IDENTIFIERS["card"]):
        # Others may share a word typed (his neighbour Odile Vernet, below whoever matches every word): never him.
        found = as_role("steward").get("/v1/search", params={"q": q}).json()["results"]
        assert not [hit for hit in found if hit["customer_id"] == erased["customer_id"] or "Gaspard" in (hit["display_name"] or "")], q
    assert as_role("counter").get(f"/v1/cards/{GASPARD_IDENTIFIERS['card']}").status_code == 404
    gone = as_role("counter").get(f"/v1/customers/{erased['customer_id']}")
    assert gone.status_code == 410 and datetime.now(UTC).date().isoformat() in gone.json()["detail"]
    assert as_role("privacy_officer").delete(f"/v1/customers/{erased['customer_id']}").status_code == 404
    # His neighbour, same street and family name, is untouched.
    assert customer_of(as_role, "Odile Vernet")


def test_audit_entries_about_an_erased_customer_keep_the_fact_who_and_when_only(erased: dict[str, Any], as_role: RoleClient) -> None:
    assert as_role("admin").get("/v1/audit", params={"customer_id": erased["customer_id"]}).json()["entries"] == []
    pseudonym = erased["receipt"]["pseudonym"]
    entries = as_role("admin").get("/v1/audit", params={"customer_id": pseudonym}).json()["entries"]
    actions = {(e["caller"], e["action"]) for e in entries}
    # The receipt's pseudonym names the erasure and what came after it; the look-ups before stay in
    # the index under tokens nothing links to it (tests.rights.test_audit_shredding).
    assert ("demo privacy officer", "erasure") in actions
    assert not {("demo counter agent", "customer"), ("demo call center", "search")} & actions
    assert all(not e.get("query") and e["at"] for e in entries)


def _reingest(opensearch: OpenSearch, world: Settings, paths: list[Path], tmp: Path, key: bytes | None) -> tuple[Any, list[dict[str, Any]]]:
    report_path = tmp / f"rejects-{len(list(tmp.iterdir()))}.jsonl"
    with RejectsReport(report_path) as report:
        summary = Ingestion(opensearch, IndexNames(world.index_prefix), report, suppression_key=key).run(SourceFiles.discover(paths))
    return summary, [orjson.loads(line) for line in report_path.read_bytes().splitlines()]


def test_re_ingesting_the_source_file_rejects_the_erased_person_with_the_reason_and_indexes_the_others(
    erased: dict[str, Any], opensearch: OpenSearch, world: Settings, tmp_path: Path
) -> None:
    summary, report = _reingest(opensearch, world, [data_folder(world) / "people.jsonl"], tmp_path, SUPPRESSION_KEY.encode())
    rejected = [line for line in report if line["kind"] == "rejected"]
    assert summary.rejected == len(GASPARD) == len(rejected)
    today = datetime.now(UTC).date().isoformat()
    assert all(f"erased on {today} at their request" in line["reason"] for line in rejected)
    lines = (data_folder(world) / "people.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(lines[line["line"] - 1])["source_id"] for line in rejected} == {r["source_id"] for r in GASPARD}
    assert all(line["raw"] == "" for line in rejected)  # the erased person's data is not copied to the rejects file
    assert summary.outcomes["unchanged"] == summary.read - len(GASPARD)
    with pytest.raises(SuppressionKeyMissing):
        _reingest(opensearch, world, [data_folder(world) / "people.jsonl"], tmp_path, None)


def test_a_newer_explicit_consent_lets_an_erased_person_back(
    erased: dict[str, Any], as_role: RoleClient, opensearch: OpenSearch, world: Settings, tmp_path: Path
) -> None:
    comeback = {**GASPARD[0], "updated_at": datetime.now(UTC).isoformat()}
    pushed = as_role("steward").post("/v1/records", json=comeback)  # bound to every source
    assert pushed.status_code == 409 and "erased on" in pushed.json()["detail"]
    later = datetime.now(UTC).isoformat()
    with_consent = {**comeback, "consents": [{"purpose": "marketing_email", "status": "granted", "at": later}]}
    summary, _ = _reingest(opensearch, world, [write_jsonl(tmp_path / "back.jsonl", [with_consent])], tmp_path, SUPPRESSION_KEY.encode())
    assert summary.outcomes["indexed"] == 1 and summary.rejected == 0
    pushed = as_role("steward").post("/v1/records", json={**with_consent, "source_id": "GV99"})
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["customer_id"]


def test_a_person_back_after_erasure_never_gets_the_erased_id_again(as_role: RoleClient) -> None:
    """Ids derive from the smallest record id: the same record would give the same id back, with
    the erased customer's 410, changes and audit pseudonym."""
    push = as_role("steward").post
    first = {
        **LUCIEN[0],
        "source_id": "MQ1",
        "given_name": "Maëlle",
        "family_name": "Quintard",
        "email": "mq@sfr.fr",
        "phone": "0699001122",
    }
    erased = push("/v1/records", json=first).json()["customer_id"]
    assert push("/v1/records", json={**first, "source": "ecommerce"}).json()["customer_id"] == erased
    assert as_role("privacy_officer").delete(f"/v1/customers/{erased}").status_code == 200
    consent = [{"purpose": "marketing_sms", "status": "granted", "at": datetime.now(UTC).isoformat()}]
    pushed = push("/v1/records", json={**first, "updated_at": datetime.now(UTC).isoformat(), "consents": consent})
    assert pushed.status_code == 200, pushed.text
    back = pushed.json()["customer_id"]
    assert back != erased
    assert as_role("counter").get(f"/v1/customers/{back}").status_code == 200
    assert as_role("counter").get(f"/v1/customers/{erased}").status_code == 410


LUCIEN = [
    {
        "source": "crm",
        "source_id": "LF1",
        "given_name": "Lucien",
        "family_name": "Fargeaudoux",
        "birth_date": "1969-11-02",
        "email": "lucien.fargeaudoux@free.fr",
        "phone": "0611997755",
        "updated_at": "2026-01-01T10:00:00Z",
    },
    {
        "source": "ecommerce",
        "source_id": "LFX2",
        "given_name": "Lucien",
        "family_name": "Fargeaudoux",
        "birth_date": "1969-11-02",
        "email": "l.fargeaudoux@laposte.net",
        "updated_at": "2026-01-01T10:00:00Z",
    },
]


def test_erasure_takes_the_records_its_sources_deleted_before_and_every_trace_of_their_ids(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    push = as_role("steward").post
    customer = [push("/v1/records", json=record).json()["customer_id"] for record in LUCIEN]
    assert customer[0] == customer[1]
    deleted = push("/v1/records", json={**LUCIEN[1], "deleted": True, "updated_at": "2026-01-02T10:00:00Z"})
    assert deleted.json()["outcome"] == "deleted", deleted.text

    receipt = as_role("privacy_officer").delete(f"/v1/customers/{customer[0]}").json()
    documents = _every_document(opensearch, world.index_prefix)
    for value in ('"lfx2"', "ecommerce:lfx2", "fargeaudoux"):
        holders = [d[:200] for d in documents if value in d]
        assert not holders, (value, holders)
    assert (receipt["records"], receipt["tombstones"]) == (1, 1)
    # Sent again, the deleted record is refused like the others, and the refusal's trace holds no id.
    again = push("/v1/records", json={**LUCIEN[1], "updated_at": "2026-01-03T10:00:00Z"})
    assert again.status_code == 409
    assert not [d for d in _every_document(opensearch, world.index_prefix) if "lfx2" in d]


def test_erasure_takes_the_person_s_values_out_of_the_match_model_and_leaves_the_others(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    names = IndexNames(world.index_prefix)
    person = {
        **LUCIEN[0],
        "source_id": "TF1",
        "given_name": "Ondine",
        "family_name": "Troubadec",
        "email": "ondine.t@gmx.fr",
        "phone": "0677665544",
    }
    customer = as_role("steward").post("/v1/records", json=person).json()["customer_id"]
    as_role("steward").post("/v1/records", json={**person, "source": "ecommerce"})
    model = load_model(opensearch, names)
    assert model is not None
    # Counts as a large data set's model holds them (the small world's model keeps no tables).
    model.term_frequencies = {"email": {"ondine.t@gmx.fr": 3, "someone@else.fr": 4}, "family": {"troubadec": 2, "martin": 40}}
    save_model(opensearch, names, model)

    assert as_role("privacy_officer").delete(f"/v1/customers/{customer}").status_code == 200
    after = load_model(opensearch, names)
    assert after is not None
    assert after.term_frequencies == {"email": {"someone@else.fr": 4}, "family": {"martin": 40}}


def _person_counted_by_the_model(as_role: RoleClient, opensearch: OpenSearch, names: IndexNames, tag: str) -> str:
    """A customer of two records whose e-mail and family name the stored model counts (a large data
    set's tables: the small world's keeps none), beside other people's counts."""
    person = {
        **LUCIEN[0],
        "source_id": f"TF{tag}",
        "given_name": "Ondine",
        "family_name": f"Troubadec{tag}",
        "email": f"ondine.{tag}@gmx.fr",
    }
    person["phone"] = f"06776655{tag[-2:]}"
    customer = as_role("steward").post("/v1/records", json=person).json()["customer_id"]
    as_role("steward").post("/v1/records", json={**person, "source": "ecommerce"})
    model = load_model(opensearch, names)
    assert model is not None
    family = f"troubadec{tag}".lower()
    model.term_frequencies = {"email": {f"ondine.{tag}@gmx.fr": 3, "someone@else.fr": 4}, "family": {family: 5, "martin": 40}}
    save_model(opensearch, names, model)
    return customer


def test_after_erasure_the_model_s_stored_counts_hold_no_value_of_the_person(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    """The counts are documents of their own: the person's e-mail (counted 3, held twice by the
    person) leaves the index with its document; a name others hold too keeps its count, less the
    person's, and no document of the resolution state names the person."""
    names = IndexNames(world.index_prefix)
    customer = _person_counted_by_the_model(as_role, opensearch, names, "21")
    assert as_role("privacy_officer").delete(f"/v1/customers/{customer}").status_code == 200

    opensearch.indices.refresh(index=names.resolution_state)
    state = [
        json.dumps(hit, ensure_ascii=False).lower()
        for hit in scan(opensearch, index=names.resolution_state, query={"query": {"match_all": {}}})
    ]
    assert not [d[:200] for d in state if "ondine.21@gmx.fr" in d]
    assert sum("martin" in d for d in state) == 1  # the others' counts stay
    after = load_model(opensearch, names)
    assert after is not None
    assert after.term_frequencies == {"email": {"someone@else.fr": 4}, "family": {"troubadec21": 3, "martin": 40}}


def test_a_process_holding_the_model_resolves_with_the_counts_the_erasure_left(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    """The API keeps the model in memory: after an erasure, its next resolution scores with the
    decremented counts (the erasure marks the model document, whose version the process checks)."""
    names = IndexNames(world.index_prefix)
    customer = _person_counted_by_the_model(as_role, opensearch, names, "22")
    resolver = RealTimeResolver(opensearch, names, ResolutionConfig(model_check_s=0), SUPPRESSION_KEY.encode())
    assert resolver.model().term_frequencies["family"]["troubadec22"] == 5

    assert as_role("privacy_officer").delete(f"/v1/customers/{customer}").status_code == 200
    assert resolver.model().term_frequencies == {"email": {"someone@else.fr": 4}, "family": {"troubadec22": 3, "martin": 40}}


def test_once_the_erasure_answers_no_search_finds_the_person_without_waiting_for_a_refresh(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    """Read-after-write: the erasure makes its own deletions searchable before it answers, including
    an event and an audit entry written the moment before it (never refreshed by their writers).
    The indices it leaves unrefreshed (unrefreshed_indices) are seen as their readers see them: the
    audit trail and the change feed refresh first, the 410 and the suppression list are real-time
    gets; once refreshed, they hold none of her values either."""
    names = IndexNames(world.index_prefix)
    person = {
        **LUCIEN[0],
        "source_id": "RW1",
        "given_name": "Clémentine",
        "family_name": "Ravoisier",
        "email": "c.ravoisier@orange.fr",
        "phone": "0612093847",
    }
    push = as_role("steward").post
    customer = push("/v1/records", json=person).json()["customer_id"]
    assert push("/v1/records", json={**person, "source": "ecommerce"}).json()["customer_id"] == customer
    # The model counts her e-mail and name (held by her two records only): the erasure must take
    # the values out of the count buckets, not leave them at 0.
    model = load_model(opensearch, names)
    assert model is not None
    model.term_frequencies = {"email": {"c.ravoisier@orange.fr": 2, "someone@else.fr": 4}, "family": {"ravoisier": 2, "martin": 40}}
    save_model(opensearch, names, model)
    with no_periodic_refresh(opensearch, world.index_prefix):
        stored = EventWriter(opensearch, names).store([Event("crm", "RW-E1", datetime.now(UTC), "visit", record_id="crm:RW1")])
        assert stored[0].outcome and stored[0].outcome.customer_id == customer, stored[0].refusal
        assert as_role("counter").get(f"/v1/customers/{customer}").status_code == 200  # an audit entry, not refreshed
        answer = as_role("privacy_officer").delete(f"/v1/customers/{customer}")
        assert answer.status_code == 200
        quiet = unrefreshed_indices(names)
        hits = scan(opensearch, index=f"{world.index_prefix}-*", query={"query": {"match_all": {}}})
        documents = [_dumped(hit) for hit in hits if not _among(hit["_index"], quiet)]
        assert as_role("counter").get(f"/v1/customers/{customer}").status_code == 410
        links = opensearch.mget(index=names.record_customers, body={"ids": ["crm:RW1", "ecommerce:RW1"]})["docs"]
        assert not [link for link in links if link.get("found")]
        assert lookup_refusal(opensearch, names, SUPPRESSION_KEY.encode(), {"record_id": "crm:RW1", "email": person["email"]})
        admin = as_role("admin").get
        assert admin("/v1/audit", params={"customer_id": customer}).json()["entries"] == []
        trail = admin("/v1/audit", params={"customer_id": answer.json()["pseudonym"]}).json()["entries"]
        # The receipt's pseudonym leads to the erasure, never to the look-ups before it (their tokens).
        assert "erasure" in {e["action"] for e in trail} and not {"record", "customer"} & {e["action"] for e in trail}
        assert not [e for e in trail if e.get("query")]
        feed, page = [], {"cursor": 0, "more": True}
        while page["more"]:
            page = admin("/v1/changes", params={"since": page["cursor"], "limit": 1000}).json()
            feed += page["changes"]
        assert any(change["kind"] == "erased" and change["customer_id"] == customer for change in feed)
    feed = [_outside_notice(change) for change in feed]
    documents += [json.dumps(feed, ensure_ascii=False).lower(), json.dumps(trail, ensure_ascii=False).lower()]
    _assert_no_value_of(RAVOISIER_VALUES, documents)
    # And once everything is refreshed, no index holds them either: the unrefreshed ones too
    # (redirects, suppression list, record links, the model's count buckets — a count left at 0
    # still names the value).
    opensearch.indices.refresh(index=f"{world.index_prefix}-*")
    hits = scan(opensearch, index=f"{world.index_prefix}-*", query={"query": {"match_all": {}}})
    _assert_no_value_of(RAVOISIER_VALUES, [_dumped(hit) for hit in hits])


RAVOISIER_VALUES = ("ravoisier", "c.ravoisier@orange.fr", "+33612093847", '"crm:rw1"', '"ecommerce:rw1"', "rw-e1")


def _assert_no_value_of(values: tuple[str, ...], documents: list[str]) -> None:
    for value in values:
        holders = [d[:200] for d in documents if value in d]
        assert not holders, (value, holders)


def test_a_record_s_link_to_its_customer_is_deleted_in_the_request_that_deletes_the_record() -> None:
    """Links gone a round trip before their records would leave the records searchable without
    links: a push in between could resolve against them and write a customer and links back."""
    names = IndexNames("rcu-plan")
    deletions: list[dict[str, Any]] = [
        {"_op_type": "delete", "_index": names.customers, "_id": "C1"},
        {"_op_type": "delete", "_index": names.records, "_id": "crm:1"},
        {"_op_type": "delete", "_index": names.record_customers, "_id": "crm:1"},
        {"_op_type": "index", "_index": names.suppression, "_id": "h1", "_source": {}},
    ]
    unrefreshed, refreshed = by_refresh(names, deletions)
    assert [a["_index"] for a in unrefreshed] == [names.suppression]
    assert [a["_index"] for a in refreshed] == [names.customers, names.records, names.record_customers]


def _among(index: str, aliases: set[str]) -> bool:
    return index in aliases or any(index.startswith(f"{alias}-v") for alias in aliases)


def test_an_ingest_run_right_after_an_erasure_rejects_the_person_without_waiting_for_a_refresh(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings, tmp_path: Path
) -> None:
    """The erasure leaves the suppression list unrefreshed (pushes read it by id): an ingest run,
    which reads it whole, must still see an erasure made the moment before it started."""
    names = IndexNames(world.index_prefix)
    person = {**LUCIEN[0], "source_id": "SR1", "given_name": "Sidonie", "family_name": "Roubichou", "email": "sroubichou@sfr.fr"}
    person["phone"] = "0677120934"
    customer = as_role("steward").post("/v1/records", json=person).json()["customer_id"]
    ensure_suppression_index(opensearch, names)
    with no_periodic_refresh(opensearch, world.index_prefix):
        assert as_role("privacy_officer").delete(f"/v1/customers/{customer}").status_code == 200
        summary, report = _reingest(
            opensearch, world, [write_jsonl(tmp_path / "again.jsonl", [person])], tmp_path, SUPPRESSION_KEY.encode()
        )
    assert summary.rejected == 1 and "erased on" in report[0]["reason"], report


def test_a_process_without_the_key_refuses_to_check_a_push_right_after_an_erasure_by_one_with_it(
    opensearch: OpenSearch, names: IndexNames
) -> None:
    """Without the key a push cannot tell whom the list holds, only that it holds someone: it must
    stop (SuppressionKeyMissing) the moment another process's erasure has listed a first person,
    though the erasure does not refresh the list."""
    ensure_suppression_index(opensearch, names)
    opensearch.indices.put_settings(index=names.suppression, body={"index": {"refresh_interval": "-1"}})
    record = {"record_id": "crm:KM1", "email": "k.marzelle@laposte.net"}
    listed = suppression_actions(opensearch, names, SUPPRESSION_KEY.encode(), [record], datetime.now(UTC))
    unrefreshed, _ = by_refresh(names, listed)  # as the erasure writes it
    assert write_unrefreshed(opensearch, unrefreshed) == []
    with pytest.raises(SuppressionKeyMissing):
        lookup_refusal(opensearch, names, None, record)


def test_a_merged_away_id_of_an_erased_customer_answers_410_at_once(as_role: RoleClient, opensearch: OpenSearch, world: Settings) -> None:
    """A customer id merged into one erased since answers 410 Gone the moment the erasure answers,
    not a redirect to the erased customer: the merge the erasure deleted may still be found by a
    search of the redirects, which it does not refresh."""
    push = as_role("steward").post
    one = {**LUCIEN[0], "source_id": "AM1", "given_name": "Albane", "family_name": "Mirepoix", "email": "albane.mirepoix@free.fr"}
    one["phone"] = "0655443322"
    first = push("/v1/records", json=one).json()["customer_id"]
    second = {**one, "source": "ecommerce", "source_id": "AM2", "updated_at": "2026-01-02T10:00:00Z"}
    assert push("/v1/records", json=second).json()["customer_id"] == first
    other = {"given_name": "Yolande", "family_name": "Zerbib", "birth_date": "1951-03-03", "email": "y.zerbib@orange.fr"}
    moved = push("/v1/records", json={**second, **other, "phone": "0299001122", "updated_at": "2026-01-03T10:00:00Z"})
    assert moved.json()["customer_id"] != first
    survivor = push("/v1/records", json={**second, "updated_at": "2026-01-04T10:00:00Z"}).json()["customer_id"]
    merged_away = ({first, moved.json()["customer_id"]} - {survivor}).pop()
    assert as_role("counter").get(f"/v1/customers/{merged_away}", follow_redirects=False).status_code == 308
    with no_periodic_refresh(opensearch, world.index_prefix):
        assert as_role("privacy_officer").delete(f"/v1/customers/{survivor}").status_code == 200
        gone = as_role("counter").get(f"/v1/customers/{merged_away}", follow_redirects=False)
    assert gone.status_code == 410, gone.text


@pytest.mark.parametrize("role", ["counter", "callcenter", "marketing", "steward", "integrator", "shop"])
def test_a_role_not_allowed_to_erase_is_refused_with_a_reason_and_the_customer_stays(role: str, as_role: RoleClient) -> None:
    bastien = customer_of(as_role, "Bastien Rolland")
    answer = as_role(role).delete(f"/v1/customers/{bastien}")
    assert answer.status_code == 403 and answer.json()["detail"]
    assert as_role("privacy_officer").get(f"/v1/customers/{bastien}").status_code == 200
