"""The audit trail's keyring: one random key per customer id (search.audit_seal), a document of
its own index under the id, created the first time an entry names the id and deleted by the
erasure (search.rights.erasure) — which makes every entry sealed under it unreadable at once.

Kept apart from the customer's document on purpose: a resolution rewrites customer documents
whole (every `rcu resolve --full`), and a key lost there would forget a customer nobody erased;
here no resolution touches it. A merge keeps the keys of the ids merged away (each under its own
id, found through the redirects as the export finds them); a split keeps the key of the id that
goes on, and the new id gets its own. The keys never travel with the documents the API reads.
Writes are not refreshed: keys are read by id (real time), or by token after a refresh.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch, OpenSearch

from search.audit_journal import AuditFailed
from search.audit_seal import new_key, token
from search.indices import IndexNames, index_bodies, stamped

Keyring = dict[str, tuple[str, bytes]]  # token → (customer id, key)


def _document(customer_id: str, key: bytes) -> dict[str, Any]:
    return {"customer_id": customer_id, "token": token(key, customer_id), "key": base64.b64encode(key).decode()}


def _keys(docs: Iterable[dict[str, Any]]) -> dict[str, bytes]:
    return {d["_id"]: base64.b64decode(d["_source"]["key"]) for d in docs if d.get("found")}


def _creations(names: IndexNames, ids: Iterable[str]) -> tuple[dict[str, bytes], bytes]:
    """New keys for `ids`, and the bulk body creating them (`create`: a key made meanwhile by
    another process wins, and is read back)."""
    made = {customer_id: new_key() for customer_id in ids}
    lines = []
    for customer_id, key in made.items():
        lines.append({"create": {"_index": names.keyring, "_id": customer_id}})
        lines.append(_document(customer_id, key))
    return made, b"".join(b"%s\n" % orjson.dumps(line) for line in lines)


def _first_version(names: IndexNames) -> dict[str, Any]:
    """The keyring's first index, behind its alias."""
    return {**stamped(index_bodies(names)[names.keyring]), "aliases": {names.keyring: {"is_write_index": True}}}


def keys_of(client: OpenSearch, names: IndexNames, ids: list[str]) -> dict[str, bytes]:
    """The keys these customer ids have (real-time gets); ids with none are left out."""
    if not ids or not client.indices.exists(index=names.keyring):
        return {}
    return _keys(client.mget(index=names.keyring, body={"ids": ids})["docs"])


def keys_for(client: OpenSearch, names: IndexNames, ids: list[str]) -> dict[str, bytes]:
    """The key of each id, created where it has none (the command line's own entries)."""
    if not client.indices.exists(index=names.keyring):
        # Created as the API's shipper creates it (ensure_keyring): the two may do it at once, and a
        # second creation is refused (400), not raced through ensure_versioned_index's alias checks.
        client.indices.create(index=f"{names.keyring}-v1", body=_first_version(names), ignore=[400])
    keys = keys_of(client, names, ids)
    missing = [i for i in ids if i not in keys]
    if missing:
        _, body = _creations(names, missing)
        client.bulk(body=body)
        keys |= keys_of(client, names, missing)
        _all_keyed(missing, keys)
    return keys


def _all_keyed(ids: list[str], keys: dict[str, bytes]) -> None:
    """AuditFailed when an id still has no key after its creation (the keyring refused the write):
    an entry naming it would otherwise be written with the id, and what was typed, in clear."""
    if any(i not in keys for i in ids):
        raise AuditFailed(f"the audit keyring refused {sum(i not in keys for i in ids)} new keys")


def keyring_by_token(client: OpenSearch, names: IndexNames, tokens: Iterable[str]) -> Keyring:
    """token → (id, key) for the tokens whose key still exists (refreshed first: keys are written unrefreshed)."""
    wanted = sorted(set(tokens))
    if not wanted or not client.indices.exists(index=names.keyring):
        return {}
    client.indices.refresh(index=names.keyring)
    hits = client.search(index=names.keyring, body={"query": {"terms": {"token": wanted}}, "size": len(wanted)})["hits"]["hits"]
    return {h["_source"]["token"]: (h["_source"]["customer_id"], base64.b64decode(h["_source"]["key"])) for h in hits}


def forget_actions(names: IndexNames, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The erasure's bulk actions deleting these ids' keys (a missing key answers 404: not an error)."""
    return [{"_op_type": "delete", "_index": names.keyring, "_id": customer_id} for customer_id in ids]


async def ensure_keyring(client: AsyncOpenSearch, names: IndexNames) -> None:
    """The keyring behind its alias (`<keyring>-v1` on first use)."""
    if not await client.indices.exists(index=names.keyring):
        await client.indices.create(index=f"{names.keyring}-v1", body=_first_version(names), ignore=[400])


async def async_keys_of(client: AsyncOpenSearch, names: IndexNames, ids: list[str]) -> dict[str, bytes]:
    """keys_of, for the API's event loop."""
    if not ids:
        return {}
    response = await client.mget(index=names.keyring, body={"ids": ids}, ignore=[404])
    return _keys(response.get("docs", []))


async def async_create_keys(client: AsyncOpenSearch, names: IndexNames, ids: list[str]) -> dict[str, bytes]:
    """Keys created for `ids` (none had one), those another process made meanwhile read back;
    AuditFailed when one is still missing (the shipper sends the batch again later)."""
    if not ids:
        return {}
    _, body = _creations(names, ids)
    await client.bulk(body=body)
    keys = await async_keys_of(client, names, ids)
    _all_keyed(ids, keys)
    return keys


async def async_forget_keys(client: AsyncOpenSearch, names: IndexNames, ids: list[str]) -> None:
    """Deletes these ids' keys (a key already gone is not an error)."""
    if ids:
        body = b"".join(b"%s\n" % orjson.dumps({"delete": {"_index": a["_index"], "_id": a["_id"]}}) for a in forget_actions(names, ids))
        response = await client.bulk(body=body)
        if any(item["delete"].get("status", 500) not in (200, 404) for item in response["items"]):
            raise AuditFailed("the audit keyring refused to delete the key of an id erased meanwhile")


async def async_keyring_by_token(client: AsyncOpenSearch, names: IndexNames, tokens: Iterable[str]) -> Keyring:
    """keyring_by_token, for the API's event loop."""
    wanted = sorted(set(tokens))
    if not wanted:
        return {}
    await client.indices.refresh(index=names.keyring, ignore_unavailable=True)
    response = await client.search(
        index=names.keyring, body={"query": {"terms": {"token": wanted}}, "size": len(wanted)}, ignore_unavailable=True
    )
    hits = response.get("hits", {}).get("hits", [])
    return {h["_source"]["token"]: (h["_source"]["customer_id"], base64.b64decode(h["_source"]["key"])) for h in hits}


def own_keyring(keys: dict[str, bytes]) -> Keyring:
    """The keyring of these ids' keys alone (a customer's trail, read by whoever may read it)."""
    return {token(key, customer_id): (customer_id, key) for customer_id, key in keys.items()}


def naming_query(ids: list[str], keyring: Keyring) -> dict[str, Any]:
    """The audit entries naming these ids: by their tokens, by the ids themselves (entries from
    before the seal, pseudonyms asked for as such)."""
    return {"bool": {"should": [{"terms": {"customer_ids": ids}}, {"terms": {"customer_tokens": [*ids, *keyring]}}]}}
