"""The suppression list: keyed hashes (HMAC-SHA256 with `RCU_SUPPRESSION_KEY`) of the identifiers of
erased people — record ids, e-mails, mobiles, loyalty cards, and a household's landline keyed with the
person's folded given name — and when they were erased. A source
that still sends an erased person's record cannot bring them back: the record is refused with the
reason and the date, unless it carries an explicit consent given after the erasure. Without the
key, the list says nothing about whom it holds."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from analyzers.index_settings import suppression_index_body
from analyzers.names import fold_name
from analyzers.phones import is_household_line
from search.indices import IndexNames, ensure_versioned_index

# Identifiers of a normalized record, by kind: what a source would send again.
IDENTIFIER_FIELDS = {"record": "record_id", "email": "email", "phone": "phone", "card": "loyalty_card"}


class SuppressionKeyMissing(Exception):
    """Erasing, or checking records against a non-empty suppression list, needs RCU_SUPPRESSION_KEY."""


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _listed(kind: str, value: str, document: dict[str, Any]) -> tuple[str, str] | None:
    """The (kind, value) an identifier is listed under, or None. A landline (or a box's 09 number)
    is a household's (analyzers.phones.is_household_line): the erased person's mother, partner or
    child calling from it is someone else, and their new record must not be refused for it; the
    erased person on that line is not, and a record holding only her name, address and landline
    would bring her back. So a household line is listed with the holder's folded given name
    ("Éloïse" and "ELOISE" alike), keyed together: the same given name on the line is refused, another
    accepted; without a given name it is not listed. A postal address is a household's too, and is
    not on the list at all."""
    if kind != "phone" or not is_household_line(value):
        return kind, value
    given = fold_name(str(document.get("given_name") or ""))
    return ("landline", f"{value}|{given}") if given else None


def identifier_hashes(key: bytes, document: dict[str, Any]) -> dict[str, str]:
    """hash → kind, for every identifier of one normalized record that is a person's own: its id,
    e-mail, mobile and loyalty card, and its landline with its given name (_listed). A bare
    landline listed by an older rcu matches no hash made here, so it refuses nobody."""
    identifiers = ((kind, str(document[field])) for kind, field in IDENTIFIER_FIELDS.items() if document.get(field))
    listed = (_listed(kind, value, document) for kind, value in identifiers)
    return {keyed_hash(key, *entry): entry[0] for entry in listed if entry is not None}


def ensure_suppression_index(client: OpenSearch, names: IndexNames) -> None:
    ensure_versioned_index(client, names.suppression, suppression_index_body(names.layout.replicas))


def suppression_actions(
    client: OpenSearch, names: IndexNames, key: bytes, records: Iterable[dict[str, Any]], erased_at: datetime
) -> list[dict[str, Any]]:
    """The bulk actions adding the identifiers of `records` to the list (its index created if need be)."""
    ensure_suppression_index(client, names)
    hashes: dict[str, str] = {}
    for record in records:
        hashes.update(identifier_hashes(key, record))
    return [
        {"_op_type": "index", "_index": names.suppression, "_id": digest, "_source": {"kind": kind, "erased_at": erased_at.isoformat()}}
        for digest, kind in hashes.items()
    ]


def _consented_since(document: dict[str, Any], erased_at: str) -> bool:
    return any(c["status"] == "granted" and c["at"] > erased_at for c in document.get("consents") or ())


def _refusal(document: dict[str, Any], matches: dict[str, str]) -> str | None:
    """Why `document` may not come back, given the erasure dates of its matching hashes."""
    if not matches:
        return None
    erased_at = max(matches.values())
    if _consented_since(document, erased_at):
        return None
    return (
        f"the person was erased on {erased_at[:10]} at their request (suppression list, {'/'.join(sorted(set(matches)))}); "
        "send the record again only with a consent given after that date"
    )


class SuppressionList:
    """The whole list in memory, for an ingest run (a few hashes per erased person)."""

    def __init__(self, key: bytes | None, entries: dict[str, str]) -> None:
        self.key = key
        self.entries = entries  # hash → erased_at

    @classmethod
    def load(cls, client: OpenSearch, names: IndexNames, key: bytes | None) -> SuppressionList:
        if not client.indices.exists(index=names.suppression):
            return cls(key, {})
        # An erasure does not refresh the list (pushes read it by real-time gets): a run reading
        # it whole makes every erasure made before it started searchable, once per run.
        client.indices.refresh(index=names.suppression)
        entries = {
            hit["_id"]: hit["_source"]["erased_at"]
            for hit in scan(client, index=names.suppression, query={"query": {"match_all": {}}}, size=5000)
        }
        if entries and key is None:
            raise SuppressionKeyMissing("the suppression list holds erased people: set RCU_SUPPRESSION_KEY to check records against it")
        return cls(key, entries)

    def refusal(self, document: dict[str, Any]) -> str | None:
        """None when the record may be indexed; otherwise the reason it is refused."""
        if not self.entries or self.key is None:
            return None
        matches = {kind: self.entries[digest] for digest, kind in identifier_hashes(self.key, document).items() if digest in self.entries}
        return _refusal(document, matches)

    def erased_record(self, document: dict[str, Any]) -> str | None:
        """When this very record (its id, not merely a shared e-mail or phone) was erased, unless it
        carries a consent given since; None otherwise."""
        if not self.entries or self.key is None:
            return None
        erased_at = self.entries.get(keyed_hash(self.key, "record", document["record_id"]))
        return None if erased_at is None or _consented_since(document, erased_at) else erased_at


def lookup_refusal(client: OpenSearch, names: IndexNames, key: bytes | None, document: dict[str, Any]) -> str | None:
    """The same check for one record, asked of the index (real-time gets): a long-running API sees
    erasures made by any process at once. One round trip per record (a push pays for it); two
    without the key (a refresh, then a count)."""
    if key is None:
        # A count is a search, and an erasure does not refresh the list: refresh it first, or a
        # push right after another process's first erasure would count 0 and take the person back.
        # Only a process without the key pays it (on a list with nothing new, almost nothing).
        client.indices.refresh(index=names.suppression, ignore_unavailable=True, allow_no_indices=True)
        count = client.count(index=names.suppression, ignore=[404]).get("count", 0)
        if count:
            raise SuppressionKeyMissing("the suppression list holds erased people: set RCU_SUPPRESSION_KEY to check records against it")
        return None
    hashes = identifier_hashes(key, document)
    if not hashes:
        return None
    docs = client.mget(index=names.suppression, body={"ids": list(hashes)}, ignore=[404]).get("docs", [])  # no list yet: no doc
    matches = {hashes[doc["_id"]]: doc["_source"]["erased_at"] for doc in docs if doc.get("found")}
    return _refusal(document, matches)
