"""The audit trail sealed per customer (search.audit_seal): the index never holds a shown customer's
id or what was typed to find them in clear; an erasure forgets the person's entries by deleting one
key, without rewriting them; the entries of everyone else stay readable, and who looked stays."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from search.indices import IndexNames
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

    receipt = as_role("privacy_officer").delete(f"/v1/customers/{bastien}").json()

    after = {hit["_id"]: (hit["_seq_no"], hit["_primary_term"]) for hit in _audit_documents(opensearch, names)}
    assert {i: after[i] for i in before} == before, "no audit entry was rewritten: the erasure deleted a key"
    assert receipt["audit_keys_forgotten"] == 1
    assert not opensearch.get(index=names.keyring, id=bastien, ignore=[404]).get("found")
    assert _trail(as_role, bastien) == [], "nothing links an entry to his id any more"
    shredded = _trail(as_role, receipt["pseudonym"])
    assert {("demo call center", "search"), ("demo counter agent", "customer")} <= {(e["caller"], e["action"]) for e in shredded}
    assert all(e["at"] and e.get("query") is None and e["customer_ids"] == [receipt["pseudonym"]] for e in shredded), shredded
    stored = json.dumps([hit["_source"] for hit in _audit_documents(opensearch, names)])
    assert BASTIEN_PHONE not in stored and bastien not in stored
    # Camille's entries, and what was typed to find her, are read as before.
    assert any(e["action"] == "customer" and e["query"] == camille and e["customer_ids"] == [camille] for e in _trail(as_role, camille))
