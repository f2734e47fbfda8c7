"""Segments against a real node: conditions stored as percolator queries, kept live, recomputed
after a definition change, and what marketing sees of them."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.audit_shipper import SHIPPER_TASK
from search.indices import IndexNames
from search.segments.conditions import definitions_in_force, percolate, store_definitions
from search.segments.definitions import DefinitionsRefused, load_segments
from search.segments.membership import memberships
from search.segments.store import profile_of, refresh_profiles
from settings import Settings
from tests.conftest import write_jsonl
from tests.segments.conftest import API, event, segments_on_sheet, store_events
from tests.segments.people import CALLS_REFUSED, FROM_FILE, HOLDER, LOYAL, NO_EMAIL, POST_REFUSED, POST_SILENT, RESTRICTED, record_id

CUSTOMER_ID = re.compile(r"^C[0-9A-F]{12}$")


def _searched_and_percolated(opensearch: OpenSearch, names: IndexNames) -> tuple[list[list[str]], list[list[str]]]:
    """Every stored profile's segments as marketing's searches find them (each condition searched
    over the profiles) and as the sheet finds them (the profile percolated): both, profile by profile."""
    opensearch.indices.refresh(index=names.profiles)
    profiles = [hit["_source"] for hit in scan(opensearch, index=names.profiles, query={"query": {"match_all": {}}})]
    searched = memberships(opensearch, names, definitions_in_force(opensearch, names, "segment"))
    return [searched.get(p["customer_id"], []) for p in profiles], percolate(opensearch, names, "segment", profiles)


def test_a_purchase_moves_a_customer_into_client_fidele_at_once(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    as_role: Callable[[str], Any],
    customer_of: Callable[[dict[str, Any]], str],
) -> None:
    customer = customer_of(LOYAL)
    store_events(opensearch, world, [event(LOYAL, f"L{day}", days_ago=day * 20, shop="nantes") for day in range(1, 6)])
    refresh_profiles(opensearch, world, world_names, [customer])
    assert "client_fidele" not in segments_on_sheet(opensearch, world, world_names, customer)
    purchase = {
        "source": "caisse_nantes",
        "event_id": "T-6",
        "at": datetime.now(UTC).isoformat(),
        "type": "purchase",
        "record": record_id(LOYAL),
        "amount": 25.0,
        "shop": "nantes",
    }
    sent = as_role("steward").post("/v1/events", json=purchase)
    assert sent.status_code == 200, sent.text
    sheet = as_role("counter").get(f"/v1/customers/{customer}").json()
    assert "Client fidèle : ≥ 6 visites sur 12 mois" in [s["label"] for s in sheet["segments"]]
    assert customer in _export(as_role, "client_fidele")


def test_marketing_sees_counts_and_pseudonymous_ids_only(
    as_role: Callable[[str], Any], customer_of: Callable[[dict[str, Any]], str]
) -> None:
    counts = as_role("marketing").get("/v1/segments")
    assert counts.status_code == 200
    by_name = {row["name"]: row for row in counts.json()["segments"]}
    assert by_name["client_fidele"]["label"] == "Client fidèle : ≥ 6 visites sur 12 mois"
    assert set(by_name) == {"client_fidele", "mono_offre", "inactif_6_mois", "foyer_avec_enfant", "gros_panier", "senior"}
    senior = as_role("marketing").get("/v1/segments/senior/customers", params={"limit": 5})
    assert senior.status_code == 200
    body = senior.json()
    assert set(body) == {"segment", "channel", "customer_ids", "next"}
    assert body["customer_ids"] and all(CUSTOMER_ID.match(customer_id) for customer_id in body["customer_ids"])
    assert by_name["senior"]["customers"] >= len(body["customer_ids"])
    following = as_role("marketing").get("/v1/segments/senior/customers", params={"limit": 5, "after": body["next"]}).json()
    assert not set(following["customer_ids"]) & set(body["customer_ids"])
    assert as_role("counter").get("/v1/segments").status_code == 403
    assert as_role("marketing").get("/v1/segments/nope/customers").status_code == 404


def _export(as_role: Callable[[str], Any], segment: str, channel: str | None = None) -> set[str]:
    ids: set[str] = set()
    after = None
    while True:
        params = {"limit": 50, **({"channel": channel} if channel else {}), **({"after": after} if after else {})}
        page = as_role("marketing").get(f"/v1/segments/{segment}/customers", params=params).json()
        ids |= set(page["customer_ids"])
        after = page["next"]
        if after is None:
            return ids


def _with_one_offer(
    opensearch: OpenSearch, world: Settings, names: IndexNames, customer: str, person: dict[str, Any], event_id: str
) -> str:
    """`customer` (the customer of `person`) once it subscribed to one offer: in "mono_offre"."""
    store_events(opensearch, world, [event(person, event_id, days_ago=2, type="subscription", offer="compte_courant")])
    refresh_profiles(opensearch, world, names, [customer])
    assert "mono_offre" in segments_on_sheet(opensearch, world, names, customer)
    return customer


def test_refused_channel_is_never_in_a_segment_export(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    as_role: Callable[[str], Any],
    customer_of: Callable[[dict[str, Any]], str],
) -> None:
    customer = _with_one_offer(opensearch, world, world_names, customer_of(NO_EMAIL), NO_EMAIL, "N1")
    assert customer in _export(as_role, "mono_offre")
    assert customer in _export(as_role, "mono_offre", "sms")
    assert customer not in _export(as_role, "mono_offre", "email")


def test_restriction_hides_a_customer_from_marketing_and_not_from_the_counter(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    as_role: Callable[[str], Any],
    customer_of: Callable[[dict[str, Any]], str],
) -> None:
    customer = _with_one_offer(opensearch, world, world_names, customer_of(RESTRICTED), RESTRICTED, "R1")
    assert customer not in _export(as_role, "mono_offre")
    assert customer not in _export(as_role, "senior")
    counter = as_role("counter").get(f"/v1/customers/{customer}").json()
    assert "mono_offre" in [s["name"] for s in counter["segments"]]
    assert [a["action"] for a in counter["next_actions"]] == ["second_produit"]
    assert counter["next_actions"][0]["channels"] == ["counter"]


def test_lifting_restriction_brings_the_customer_back_to_marketing_at_once(
    opensearch: OpenSearch, world: Settings, as_role: Callable[[str], Any], customer_of: Callable[[dict[str, Any]], str]
) -> None:
    customer = customer_of(RESTRICTED)
    store_events(opensearch, world, [event(RESTRICTED, "R2", days_ago=3, type="subscription", offer="compte_courant")])
    lifted = as_role("counter").put(
        f"/v1/customers/{customer}/consents", json={"statements": [{"purpose": "restriction", "status": "lifted"}]}
    )
    assert lifted.status_code == 200
    assert customer in _export(as_role, "mono_offre")
    again = as_role("counter").put(
        f"/v1/customers/{customer}/consents", json={"statements": [{"purpose": "restriction", "status": "requested"}]}
    )
    assert again.status_code == 200
    assert customer not in _export(as_role, "mono_offre")


def test_a_segments_file_with_a_mistake_is_refused_with_its_line_and_the_definitions_in_force_stay(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path
) -> None:
    before = [d["name"] for d in definitions_in_force(opensearch, world_names, "segment")]
    broken = tmp_path / "broken.toml"
    text = (API / "demo_segments.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace('condition = "age:>=65"', 'condition = "age:>=65'), encoding="utf-8")
    line = next(n for n, row in enumerate(broken.read_text(encoding="utf-8").splitlines(), 1) if row.startswith('condition = "age:>=65'))
    with pytest.raises(DefinitionsRefused) as refused:
        load_segments(broken)
    assert refused.value.line == line
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(text.replace('condition = "children:>=1"', 'condition = "enfants:>=1"'), encoding="utf-8")
    header = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("[segments.foyer_avec_enfant]"))
    with pytest.raises(DefinitionsRefused) as refused:
        store_definitions(opensearch, world_names, "segment", load_segments(unknown), unknown)
    assert refused.value.line == header and "enfants" in refused.value.reason
    assert [d["name"] for d in definitions_in_force(opensearch, world_names, "segment")] == before


def test_rcu_segments_refuses_a_bad_file_with_its_line_and_exit_code_2(tmp_path: Path, cli: Callable[..., Any]) -> None:
    broken = shutil.copy(API / "demo_segments.toml", tmp_path / "segments.toml")
    Path(broken).write_text('[segments.x]\nlabel = "X"\ncondition = \n', encoding="utf-8")
    result = cli("segments", "--file", str(broken))
    assert result.exit_code == 2
    assert "line 3" in result.output


def test_a_pushed_record_puts_its_customer_in_its_segments_at_once(as_role: Callable[[str], Any]) -> None:
    record = {
        "source": "ecommerce",
        "source_id": "SG-PUSH-1",
        "given_name": "Anatole",
        "family_name": "Pérignac",
        "birth_date": "1950-02-11",
        "email": "anatole.perignac@exemple.fr",
        "city": "Albi",
        "postcode": "81000",
        "updated_at": "2026-11-01T10:00:00Z",
        "consents": [{"purpose": "marketing_post", "status": "granted", "at": "2026-11-01T10:00:00Z"}],
    }
    pushed = as_role("steward").post("/v1/records", json=record)
    assert pushed.status_code == 200, pushed.text
    customer = pushed.json()["customer_id"]
    # Marketing's export reads stored profiles only: the push itself must have computed it.
    assert customer in _export(as_role, "senior", "post")
    assert customer not in _export(as_role, "senior", "email")
    assert "senior" in [s["name"] for s in as_role("counter").get(f"/v1/customers/{customer}").json()["segments"]]


def test_a_customer_who_refused_profiling_is_in_no_export_and_marketing_sees_no_segment_of_theirs(
    opensearch: OpenSearch,
    world: Settings,
    world_names: IndexNames,
    as_role: Callable[[str], Any],
    customer_of: Callable[[dict[str, Any]], str],
) -> None:
    customer = customer_of(HOLDER)
    store_events(opensearch, world, [event(HOLDER, f"HQ{n}", days_ago=n * 20 + 1, shop="rennes") for n in range(6)])
    refresh_profiles(opensearch, world, world_names, [customer])
    before = as_role("counter").get(f"/v1/customers/{customer}").json()["segments"]
    assert "client_fidele" in [s["name"] for s in before]
    assert customer in _export(as_role, "client_fidele")
    refused = as_role("counter").put(
        f"/v1/customers/{customer}/consents", json={"statements": [{"purpose": "profiling", "status": "refused"}]}
    )
    assert refused.status_code == 200
    for segment in before:
        assert customer not in _export(as_role, segment["name"])
    assert as_role("marketing").get(f"/v1/customers/{customer}").json()["segments"] == []
    assert as_role("counter").get(f"/v1/customers/{customer}").json()["segments"] == before


def test_an_events_file_ingested_moves_its_customers_into_their_segments(
    tmp_path: Path, cli: Callable[..., Any], as_role: Callable[[str], Any], customer_of: Callable[[dict[str, Any]], str]
) -> None:
    customer = customer_of(FROM_FILE)
    assert customer not in _export(as_role, "client_fidele")
    now = datetime.now(UTC)
    lines = [
        {
            "source": "caisse_caen",
            "event_id": f"F{n}",
            "at": (now - timedelta(days=n * 30 + 1)).isoformat(),
            "type": "purchase",
            "record": record_id(FROM_FILE),
            "amount": 12.5,
            "shop": "caen",
        }
        for n in range(6)
    ]
    ingested = cli("ingest", str(write_jsonl(tmp_path / "caisse.jsonl", lines)), "--rejects", str(tmp_path / "rejects.jsonl"))
    assert ingested.exit_code == 0, ingested.output
    assert customer in _export(as_role, "client_fidele")


def test_a_records_file_ingested_and_resolved_puts_its_customers_in_their_segments(
    tmp_path: Path, cli: Callable[..., Any], as_role: Callable[[str], Any], customer_of: Callable[[dict[str, Any]], str]
) -> None:
    record = {
        "source": "legacy",
        "source_id": "SG-FILE-1",
        "given_name": "Eudoxie",
        "family_name": "Charpentreau",
        "birth_date": "1941-05-03",
        "city": "Vannes",
        "postcode": "56000",
        "updated_at": "2026-10-01T10:00:00Z",
    }
    path = write_jsonl(tmp_path / "legacy.jsonl", [record])
    assert cli("ingest", str(path), "--rejects", str(tmp_path / "rejects.jsonl")).exit_code == 0
    resolved = cli("resolve")
    assert resolved.exit_code == 0, resolved.output
    assert customer_of(record) in _export(as_role, "senior")


def test_a_definition_change_re_evaluated_moves_customers_in_and_out(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path, cli: Callable[..., Any], as_role: Callable[[str], Any]
) -> None:
    seniors = _export(as_role, "senior")
    older = tmp_path / "segments.toml"
    older.write_text((API / "demo_segments.toml").read_text(encoding="utf-8").replace('"age:>=65"', '"age:>=80"'), encoding="utf-8")
    try:
        changed = cli("segments", "--file", str(older), "--definitions-only")
        assert changed.exit_code == 0, changed.output
        assert "changed=" in changed.output
        eighty = _export(as_role, "senior")
        assert eighty and eighty < seniors
        ages = {p["customer_id"]: p["age"] for p in (profile_of(opensearch, world, world_names, c) for c in seniors) if p}
        assert eighty == {c for c, age in ages.items() if age >= 80}
    finally:
        assert cli("segments", "--file", str(API / "demo_segments.toml"), "--definitions-only").exit_code == 0
    assert _export(as_role, "senior") == seniors


def test_rcu_segments_counts_and_export_give_what_the_marketing_api_gives(cli: Callable[..., Any], as_role: Callable[[str], Any]) -> None:
    counts = cli("segments", "counts")
    assert counts.exit_code == 0, counts.output
    api_counts = {row["name"]: row["customers"] for row in as_role("marketing").get("/v1/segments").json()["segments"]}
    printed = {line.split("\t")[0]: int(line.split("\t")[1]) for line in counts.output.splitlines()}
    assert printed == api_counts
    exported = cli("segments", "export", "senior", "--channel", "sms")
    assert exported.exit_code == 0, exported.output
    assert set(exported.output.split()) == _export(as_role, "senior", "sms")
    assert cli("segments", "export", "nope").exit_code == 5
    assert cli("segments", "export", "senior", "--channel", "pigeon").exit_code == 2


def test_a_definition_change_moving_customers_into_two_segments_at_once_keeps_both(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    wider = tmp_path / "segments.toml"
    text = (API / "demo_segments.toml").read_text(encoding="utf-8")
    wider.write_text(text.replace('"age:>=65"', '"age:>=30"').replace('"products_count:1"', '"products_count:[0 TO 1]"'), encoding="utf-8")
    try:
        assert cli("segments", "--file", str(wider), "--definitions-only").exit_code == 0
        searched, percolated = _searched_and_percolated(opensearch, world_names)
        both = [segments for segments in searched if {"senior", "mono_offre"} <= set(segments)]
        assert len(both) > 10
        # Every membership marketing searches is what the conditions in force say of the profile, one by one.
        assert searched == percolated
    finally:
        assert cli("segments", "--file", str(API / "demo_segments.toml"), "--definitions-only").exit_code == 0


def _computed_at(opensearch: OpenSearch, names: IndexNames) -> dict[str, str]:
    opensearch.indices.refresh(index=names.profiles)
    query = {"query": {"match_all": {}}, "_source": ["computed_at"]}
    return {hit["_id"]: hit["_source"]["computed_at"] for hit in scan(opensearch, index=names.profiles, query=query)}


def test_rcu_segments_full_after_a_definition_change_moves_exactly_the_right_customers_without_computing_profiles_again(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path, cli: Callable[..., Any], as_role: Callable[[str], Any]
) -> None:
    seniors = _export(as_role, "senior")
    before = _computed_at(opensearch, world_names)
    older = tmp_path / "segments.toml"
    older.write_text((API / "demo_segments.toml").read_text(encoding="utf-8").replace('"age:>=65"', '"age:>=80"'), encoding="utf-8")
    try:
        changed = cli("segments", "--file", str(older), "--full")
        assert changed.exit_code == 0, changed.output
        rebuilt = int(re.search(r"rebuilt=(\d+)", changed.output).group(1))  # type: ignore[union-attr]
        after = _computed_at(opensearch, world_names)
        # Only the profiles time or a household made stale are computed again, never every one.
        assert sum(after[c] != before.get(c) for c in after) == rebuilt < len(after)
        profiles = [hit["_source"] for hit in scan(opensearch, index=world_names.profiles, query={"query": {"match_all": {}}})]
        # Every membership marketing searches is what the conditions in force say of the profile …
        searched, percolated = _searched_and_percolated(opensearch, world_names)
        assert searched == percolated
        # … and marketing exports exactly the customers of 80 and over it may use: no restricted
        # customer, nobody who refused profiling.
        usable = {
            p["customer_id"]
            for p in profiles
            if p.get("age", 0) >= 80 and not p["restricted"] and "profiling" not in p.get("consents_refused", [])
        }
        assert usable and _export(as_role, "senior") == usable < seniors
    finally:
        assert cli("segments", "--file", str(API / "demo_segments.toml"), "--full").exit_code == 0
    assert _export(as_role, "senior") == seniors


def _in_audit_shipper() -> bool:
    """Whether the caller is the API's background audit shipper (search.audit_shipper.SHIPPER_TASK)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop: a thread of the pool, working for an answer
        return False
    return task is not None and task.get_name() == SHIPPER_TASK


def test_the_360_view_reads_identity_interactions_segments_and_actions_in_three_requests_in_two_round_trips(
    opensearch: OpenSearch,
    world: Settings,
    as_role: Callable[[str], Any],
    customer_of: Callable[[dict[str, Any]], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opensearchpy import AsyncOpenSearch

    customer = customer_of(FROM_FILE)
    store_events(opensearch, world, [event(FROM_FILE, "V360", days_ago=3, type="visit", shop="caen")])
    _with_one_offer(opensearch, world, IndexNames.for_settings(world), customer, FROM_FILE, "O360")
    assert as_role("counter").get(f"/v1/customers/{customer}").status_code == 200  # the definitions read once per process
    requests: list[str] = []
    for name in ("get", "mget", "search", "msearch", "count", "exists"):
        for client_class in (AsyncOpenSearch, OpenSearch):
            method = getattr(client_class, name)

            def counted(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
                if not _in_audit_shipper():  # the background shipper's reads (its keyring) are not the view's
                    requests.append(_name)
                return _method(*args, **kwargs)

            monkeypatch.setattr(client_class, name, counted)
    sheet = as_role("counter").get(f"/v1/customers/{customer}")
    monkeypatch.undo()
    assert sheet.status_code == 200, sheet.text
    view = sheet.json()
    assert "V360" in [e["event_id"] for e in view["interactions"]["events"]]
    assert "mono_offre" in [s["name"] for s in view["segments"]] and view["figures"]["visits_12m"] >= 1
    assert view["next_actions"] and all(action["reason"] for action in view["next_actions"])
    # The request budget: the customer with its profile (mget), and the stored profile's segments
    # percolated by its id beside it (search); then one msearch of everything else, its records
    # (searched by id) included — three requests in two round trips. The action rules need the
    # segments found: the second round goes only once the first has landed (search.coalesce), so
    # they are in it however late the percolation answers (session 13 allowed a fifth request then).
    assert sorted(requests) == ["mget", "msearch", "search"]


def test_rcu_segments_full_tells_scripts_it_no_longer_rebuilds_profiles_and_names_the_option_that_does(
    world: Settings, cli: Callable[..., Any]
) -> None:
    result = cli("segments", "--file", str(API / "demo_segments.toml"), "--full")
    assert result.exit_code == 0, result.output
    (notice,) = [line for line in result.stderr.splitlines() if "--full" in line]
    assert "--rebuild-profiles" in notice and "computes no profile again" in notice
    assert "--full" not in result.stdout  # the report line stays as it was, on standard output
    without_full = cli("segments", "--file", str(API / "demo_segments.toml"), "--definitions-only")
    assert "--full" not in without_full.stderr


def test_the_360_view_and_the_actions_page_show_every_customer_the_same_segments_and_actions(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path
) -> None:
    # The 360 view reads the sheet asynchronously through the coalescing client, the actions page
    # through the synchronous client: one rule, whichever page the agent opens.
    import asyncio

    from search.actions.rules import load_rules_file
    from search.actions.sheet import Sheet, customer_sheet, customer_sheet_async
    from search.client import async_client
    from search.coalesce import CoalescingClient

    # Rules most customers meet, one for a product some hold and by a channel some refused.
    rules = tmp_path / "actions.toml"
    rules.write_text(
        '[actions.accueil]\nlabel = "Accueillir"\nreason = "Client majeur"\ncondition = "age:>=18"\npriority = 10\n'
        'channels = ["counter"]\n\n[actions.premium]\nlabel = "Proposer la carte Premium"\nreason = "Client majeur"\n'
        'condition = "age:>=18"\nproduct = "carte_premium"\npriority = 20\nchannels = ["email"]\n',
        encoding="utf-8",
    )
    opensearch.indices.refresh(index=world_names.profiles)
    customers = sorted(hit["_id"] for hit in scan(opensearch, index=world_names.profiles, query={"query": {"match_all": {}}}))
    readings = [(customer, actions, marketing) for customer in customers for actions in (True, False) for marketing in (False, True)]

    async def through_the_360_view() -> list[Sheet | None]:
        client = async_client(world)
        try:
            return [
                await customer_sheet_async(CoalescingClient(client), opensearch, world, world_names, *reading)  # type: ignore[arg-type]
                for reading in readings
            ]
        finally:
            await client.close()

    assert world.actions is not None
    load_rules_file(opensearch, world_names, rules)
    try:
        synchronous = [customer_sheet(opensearch, world, world_names, *reading) for reading in readings]
        assert asyncio.run(through_the_360_view()) == synchronous
    finally:
        load_rules_file(opensearch, world_names, world.actions)
    offered = {proposal.action for sheet in synchronous if sheet for proposal in sheet.actions}
    assert offered == {"accueil", "premium"}
    assert any(sheet and sheet.segments for sheet in synchronous)


def test_a_segment_stored_counts_exports_and_shows_its_customers_at_once_without_writing_any_profile(
    opensearch: OpenSearch, world: Settings, world_names: IndexNames, tmp_path: Path, as_role: Callable[[str], Any]
) -> None:
    """A segment is its condition, searched when it is asked: a new definition needs no run, and no
    profile is rewritten to say who is in it."""
    assert world.segments is not None
    young = tmp_path / "segments.toml"
    young.write_text(
        world.segments.read_text(encoding="utf-8") + '\n[segments.moins_de_40]\nlabel = "Moins de 40 ans"\ncondition = "age:<40"\n'
    )
    opensearch.indices.refresh(index=world_names.profiles)
    query = {"query": {"match_all": {}}, "_source": ["age", "restricted", "consents_refused"], "seq_no_primary_term": True}
    profiles = list(scan(opensearch, index=world_names.profiles, query=query))
    try:
        store_definitions(opensearch, world_names, "segment", load_segments(young), young)
        usable = {
            hit["_id"]
            for hit in profiles
            if hit["_source"].get("age", 99) < 40
            and not hit["_source"]["restricted"]
            and "profiling" not in hit["_source"].get("consents_refused", [])
        }
        assert usable and _export(as_role, "moins_de_40") == usable
        counts = {row["name"]: row["customers"] for row in as_role("marketing").get("/v1/segments").json()["segments"]}
        assert counts["moins_de_40"] == len(usable)
        shown = next(iter(sorted(usable)))
        assert "moins_de_40" in [s["name"] for s in as_role("counter").get(f"/v1/customers/{shown}").json()["segments"]]
        after = {hit["_id"]: hit["_seq_no"] for hit in scan(opensearch, index=world_names.profiles, query=query)}
        assert after == {hit["_id"]: hit["_seq_no"] for hit in profiles}
    finally:
        store_definitions(opensearch, world_names, "segment", load_segments(world.segments), world.segments)


def test_a_channel_is_exported_exactly_when_marketing_may_see_its_contact_point(as_role: Callable[[str], Any]) -> None:
    """Refusing calls hides the phone from marketing, so no SMS either; post is opt-out: a customer
    who said nothing about it is reached by post, one who refused it is not."""
    customers = {}
    for record in (CALLS_REFUSED, POST_SILENT, POST_REFUSED):
        pushed = as_role("steward").post("/v1/records", json=record)
        assert pushed.status_code == 200, pushed.text
        customers[record["source_id"]] = pushed.json()["customer_id"]
    calls_refused, silent, post_refused = customers.values()
    by_sms, by_phone, by_post = (_export(as_role, "senior", channel) for channel in ("sms", "phone", "post"))
    assert calls_refused not in by_sms and calls_refused not in by_phone
    assert silent in by_sms and post_refused in by_sms  # SMS granted, phone not refused: reached
    assert calls_refused in by_post and silent in by_post
    assert post_refused not in by_post
    counts = {s["name"]: s for s in as_role("marketing").get("/v1/segments").json()["segments"]}
    assert counts["senior"]["reachable"]["post"] == len(by_post) and counts["senior"]["reachable"]["sms"] == len(by_sms)
