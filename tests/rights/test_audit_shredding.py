"""The audit trail sealed per customer (search.audit_seal): the index never holds a shown customer's
id or what was typed to find them in clear; an erasure forgets the person's entries by deleting one
key, without rewriting them; the entries of everyone else stay readable, and who looked stays."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from opensearchpy import OpenSearch, TransportError
from opensearchpy.helpers import scan

from search.audit_keys import keys_for, keys_of
from search.audit_seal import token
from search.indices import IndexNames, index_bodies, reindex_index
from search.redirects import ERASED_MARKER
from search.resolve.config import ResolutionConfig
from search.rights import erasure
from search.rights.overlay import CustomerNotFound
from settings import Settings
from tests.rights.conftest import customer_of

RoleClient = Callable[[str], Any]

BASTIEN_PHONE = "06 55 44 33 22"  # tests.rights.people.BASTIEN, as a call center agent types it
CAMILLE_PHONE = "06 77 88 99 00"


def _audit_documents(client: OpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    client.indices.refresh(index=names.audit)
    return list(scan(client, index=names.audit, query={"query": {"match_all": {}}}, seq_no_primary_term=True))


def _trail(as_role: RoleClient, customer_id: str) -> list[dict[str, Any]]:
    return as_role("admin").get("/v1/audit", params={"customer_id": customer_id, "limit": 500}).json()["entries"]


def test_the_audit_index_never_holds_a_shown_customer_or_what_was_typed_in_clear(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    camille = customer_of(as_role, "Camille Garnier")
    assert as_role("callcenter").get("/v1/search", params={"q": CAMILLE_PHONE}).json()["results"]
    as_role("counter").get(f"/v1/customers/{camille}")

    trail = _trail(as_role, camille)  # the reader opens the entries with Camille's key
    assert any(e["action"] == "search" and e["query"] == CAMILLE_PHONE and camille in e["customer_ids"] for e in trail)
    assert any(e["action"] == "customer" and e["query"] == camille for e in trail)
    stored = json.dumps([hit["_source"] for hit in _audit_documents(opensearch, IndexNames(world.index_prefix))])
    assert camille not in stored and CAMILLE_PHONE not in stored, "the audit index holds tokens and sealed queries only"


def test_an_erasure_forgets_the_trail_by_its_key_and_leaves_who_looked(
    as_role: RoleClient, opensearch: OpenSearch, world: Settings
) -> None:
    names = IndexNames(world.index_prefix)
    bastien = customer_of(as_role, "Bastien Rolland")
    camille = customer_of(as_role, "Camille Garnier")
    as_role("callcenter").get("/v1/search", params={"q": BASTIEN_PHONE})
    as_role("counter").get(f"/v1/customers/{bastien}")
    as_role("counter").get(f"/v1/customers/{camille}")
    looked = {(e["caller"], e["action"]) for e in _trail(as_role, bastien)}
    assert {("demo call center", "search"), ("demo counter agent", "customer")} <= looked
    assert as_role("privacy_officer").get(f"/v1/customers/{bastien}/export").json()["audit"], "the export lists who looked"
    before = {hit["_id"]: (hit["_seq_no"], hit["_primary_term"]) for hit in _audit_documents(opensearch, names)}
    his_token = token(keys_of(opensearch, names, [bastien])[bastien], bastien)

    receipt = as_role("privacy_officer").delete(f"/v1/customers/{bastien}").json()

    after = {hit["_id"]: (hit["_seq_no"], hit["_primary_term"]) for hit in _audit_documents(opensearch, names)}
    assert {i: after[i] for i in before} == before, "no audit entry was rewritten: the erasure deleted a key"
    assert receipt["audit_keys_forgotten"] == 1
    assert not opensearch.get(index=names.keyring, id=bastien, ignore=[404]).get("found")
    assert _trail(as_role, bastien) == [], "nothing links an entry to his id any more"
    # Whoever knows his id (every source system: the `erased` change) reads his 410 marker; the
    # receipt goes to the privacy officer: neither leads to the entries saying who looked at him.
    marker = opensearch.get(index=names.redirects, id=ERASED_MARKER.format(bastien))["_source"]
    reachable = _trail(as_role, receipt["pseudonym"])
    assert his_token not in json.dumps([receipt, marker, reachable])
    looked_before = {("demo call center", "search"), ("demo counter agent", "customer")}
    assert not looked_before & {(e["caller"], e["action"]) for e in reachable}, "only what happened since the erasure"
    # His entries stay, as facts nobody can link: who looked, and when.
    shredded = [hit["_source"] for hit in _audit_documents(opensearch, names) if his_token in hit["_source"].get("customer_tokens", [])]
    assert looked_before <= {(e["caller"], e["action"]) for e in shredded}
    assert all(e["at"] and "query" not in e for e in shredded), shredded
    stored = json.dumps([hit["_source"] for hit in _audit_documents(opensearch, names)])
    assert BASTIEN_PHONE not in stored and bastien not in stored
    # Camille's entries, and what was typed to find her, are read as before.
    assert any(e["action"] == "customer" and e["query"] == camille and e["customer_ids"] == [camille] for e in _trail(as_role, camille))


def _customer_nobody_looked_at(client: OpenSearch, names: IndexNames) -> str:
    client.indices.refresh(index=names.customers)
    ids = [hit["_id"] for hit in client.search(index=names.customers, body={"size": 200, "_source": False})["hits"]["hits"]]
    keyed = keys_of(client, names, ids)
    return next(i for i in ids if i not in keyed)


def test_a_key_the_shipper_creates_while_an_erasure_runs_is_deleted_by_it(
    opensearch: OpenSearch, world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = IndexNames(world.index_prefix)
    unseen = _customer_nobody_looked_at(opensearch, names)
    real_keys_of = erasure.keys_of
    reads: list[list[str]] = []

    def read_then_a_look_up_ships(client: OpenSearch, names: IndexNames, ids: list[str]) -> dict[str, bytes]:
        found = real_keys_of(client, names, ids)
        if not reads:  # the shipper, between the erasure's read of the keyring and its markers, creates his key
            keys_for(client, names, ids)
        reads.append(ids)
        return found

    monkeypatch.setattr(erasure, "keys_of", read_then_a_look_up_ships)
    erasure.erase_customer(opensearch, names, ResolutionConfig(), unseen, world.suppression_key_bytes, "test")

    assert keys_of(opensearch, names, [unseen]) == {}, "the key made meanwhile would leave his later entries readable"


def test_reindexing_the_keyring_never_brings_back_a_key_deleted_meanwhile(
    opensearch: OpenSearch, names: IndexNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_for(opensearch, names, ["CERASED", "CKEPT"])
    opensearch.indices.put_settings(index=names.keyring, body={"index": {"refresh_interval": "-1"}})
    opensearch.indices.refresh(index=names.keyring)
    keys_for(opensearch, names, ["CLATE"])  # a key written just before, not yet refreshed
    real_reindex = opensearch.reindex
    deletions: list[str] = []

    def copy_then_an_erasure_deletes(**kwargs: Any) -> Any:
        copied = real_reindex(**kwargs)
        if not deletions:  # an erasure deletes a key the copy has just carried over
            try:
                opensearch.delete(index=names.keyring, id="CERASED")
                deletions.append("done")
            except TransportError as error:
                deletions.append(f"refused {error.status_code}")
        return copied

    monkeypatch.setattr(opensearch, "reindex", copy_then_an_erasure_deletes)
    reindex_index(opensearch, names.keyring, index_bodies(names)[names.keyring], block_writes=True)
    monkeypatch.undo()

    left = keys_of(opensearch, names, ["CERASED", "CKEPT", "CLATE"])
    assert deletions == ["refused 403"] or "CERASED" not in left, f"a deleted key came back ({deletions})"
    assert deletions == ["refused 403"], "the erasure is told to retry, not silently undone"
    opensearch.delete(index=names.keyring, id="CERASED")  # the retry, once the keyring takes writes again
    assert set(keys_of(opensearch, names, ["CERASED", "CKEPT", "CLATE"])) == {"CKEPT", "CLATE"}, "no key lost either"


def test_retrying_an_erasure_whose_key_deletion_failed_deletes_the_key(opensearch: OpenSearch, names: IndexNames) -> None:
    keys_for(opensearch, names, ["CGONE"])  # everything else went, the keyring refused the deletion (reindexed meanwhile)
    opensearch.index(index=names.redirects, id=ERASED_MARKER.format("CGONE"), body={"old_id": "CGONE", "kind": "erased",
                     "at": "2026-11-27T06:00:00+00:00", "pseudonym": "erased-abc"}, refresh=True)  # fmt: skip
    with pytest.raises(CustomerNotFound):
        erasure.erase_customer(opensearch, names, ResolutionConfig(), "CGONE", None, "test")
    assert keys_of(opensearch, names, ["CGONE"]) == {}


def test_retrying_an_erasure_whose_key_deletion_failed_deletes_the_keys_of_the_ids_merged_into_it_too(
    opensearch: OpenSearch, names: IndexNames
) -> None:
    # CSURVIVOR had absorbed CMERGED; the erasure went (the merge's redirect with it, markers for both
    # ids naming its stand-in) but the keyring refused the deletions. Another erasure's id keeps its key.
    opensearch.indices.create(index=names.redirects, body=index_bodies(names)[names.redirects])
    keys_for(opensearch, names, ["CSURVIVOR", "CMERGED", "COTHER"])
    for erased, stand_in in (("CSURVIVOR", "erased-abc"), ("CMERGED", "erased-abc"), ("COTHER", "erased-xyz")):
        opensearch.index(index=names.redirects, id=ERASED_MARKER.format(erased), body={"old_id": erased, "kind": "erased",
                         "at": "2026-11-27T06:00:00+00:00", "pseudonym": stand_in})  # fmt: skip

    with pytest.raises(CustomerNotFound):
        erasure.erase_customer(opensearch, names, ResolutionConfig(), "CSURVIVOR", None, "test")

    assert keys_of(opensearch, names, ["CSURVIVOR", "CMERGED"]) == {}, "the merged id's entries would stay linkable"
    assert set(keys_of(opensearch, names, ["COTHER"])) == {"COTHER"}, "another erasure's retry is its own"
