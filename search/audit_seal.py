"""The audit trail sealed per customer, so that an erasure forgets it by deleting one key
(crypto-shredding) instead of rewriting every entry.

Each customer id gets a random key the first time an entry names it (search.audit_keys keeps the
keyring, one document per id). An entry in the audit index names a customer only by its token,
`HMAC-SHA256(k_c, "customer:" + id)`: the entries of one customer stay findable and countable
together by whoever holds `k_c`, and by nobody else. The text typed (a name, a phone: personal data
whoever it found) is encrypted with AES-256-GCM under a key of the entry's own, derived (HKDF)
from the keys of every customer the entry showed: readable while all of them are, by a reader
holding their keys; once any one of them is erased, nobody can read it. (A key wrapped under each
shown customer's key instead would leave "Gaspard Vernet", typed to find him, readable through the
key of Odile Vernet, shown beside him, after his erasure: what was typed was about him as much.)

Erasing a customer deletes its key: its tokens become pseudonyms nobody can link to an id (HMAC
is a pseudorandom function: without the key a token says nothing of the id), and the queries
wrapped only under its key are ciphertext nobody can open. What stays readable is the fact, who,
when, the action and the outcome. Pure functions; the primitives are the `cryptography` package's.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["TOKEN_PREFIX", "is_pseudonym", "new_key", "open_entry", "seal_entry", "token", "tokens_of"]

TOKEN_PREFIX = "p-"
_QUERY_CONTEXT = b"rcu audit query"  # authenticated with the ciphertext: a sealed query opens only as one


def new_key() -> bytes:
    """A customer's audit key: 256 random bits from the operating system."""
    return AESGCM.generate_key(bit_length=256)


def token(key: bytes, customer_id: str) -> str:
    """What an audit entry holds instead of the customer id (128 bits of the HMAC, hex)."""
    mac = HMAC(key, hashes.SHA256())
    mac.update(f"customer:{customer_id}".encode())
    return TOKEN_PREFIX + mac.finalize()[:16].hex()


def is_pseudonym(value: str) -> bool:
    """A token, or an erased customer's pseudonym from before the trail was sealed ("erased-…"),
    rather than a customer id: it needs no key, and is kept as it is."""
    return value.startswith((TOKEN_PREFIX, "erased-"))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def tokens_of(keys: Mapping[str, bytes]) -> dict[str, str]:
    """Each id's token under its key: computed once for a batch of entries (a counter agent typing
    "dup", "dupo", "dupon" is shown the same customers entry after entry), then passed to seal_entry."""
    return {customer_id: token(key, customer_id) for customer_id, key in keys.items()}


def seal_entry(
    document: dict[str, Any], keys: Mapping[str, bytes], stand_ins: Mapping[str, str], known_tokens: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The audit index's form of a journal `document`: each customer id with a key in `keys`
    becomes its token; an id erased meanwhile becomes its pseudonym from `stand_ins` (and the
    query goes, as the erasure made it unreadable for the entries before); the query, when the
    entry shows a customer with a key, is sealed under those customers' keys. An id with neither
    (none should be: every shown id gets a key) stays as it is. `known_tokens`: the ids' tokens
    when known (tokens_of), else computed here."""
    ids = document.get("customer_ids") or []
    tokens: list[str] = []
    gone: list[str] = []
    kept: list[str] = []
    erased = False
    token_of: dict[str, str] = {}  # each shown id's token, computed once: the query's `over` names them again
    for customer_id in ids:
        if is_pseudonym(customer_id):
            tokens.append(customer_id)
        elif customer_id in keys:
            known = known_tokens.get(customer_id) if known_tokens is not None else None
            token_of[customer_id] = known if known is not None else token(keys[customer_id], customer_id)
            tokens.append(token_of[customer_id])
        elif customer_id in stand_ins:
            gone.append(stand_ins[customer_id])
            erased = True
        else:
            kept.append(customer_id)
    sealed = {k: v for k, v in document.items() if k not in ("customer_ids", "query")}
    sealed["customer_ids"] = kept
    if tokens or gone:
        sealed["customer_tokens"] = tokens + sorted(set(gone))
    query = document.get("query")
    shown = [customer_id for customer_id in ids if customer_id in keys]
    if query is None or erased:
        return sealed
    if not shown:
        sealed["query"] = query
        return sealed
    nonce = os.urandom(12)
    over = [token_of[c] if c in token_of else token(keys[c], c) for c in shown]
    sealed["sealed_query"] = {
        "nonce": _b64(nonce),
        "over": over,
        "text": _b64(AESGCM(_entry_key([keys[c] for c in shown], nonce)).encrypt(nonce, query.encode(), _QUERY_CONTEXT)),
    }
    return sealed


def _entry_key(keys: list[bytes], nonce: bytes) -> bytes:
    """The key of one entry's query: HKDF-SHA256 over the keys of every customer it showed, salted
    with the entry's nonce — none of those keys alone derives it."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=_QUERY_CONTEXT).derive(b"".join(keys))


def open_entry(document: dict[str, Any], keyring: Mapping[str, tuple[str, bytes]]) -> dict[str, Any]:
    """An audit entry as a reader sees it: each token whose key is in `keyring` (token → id, key)
    back to its customer id, the others (erased customers) left as pseudonyms; the query opened
    when the keyring holds the key of every customer the entry showed, else None."""
    opened = {k: v for k, v in document.items() if k not in ("customer_tokens", "sealed_query")}
    tokens = document.get("customer_tokens") or []
    opened["customer_ids"] = [*(document.get("customer_ids") or []), *(keyring[t][0] if t in keyring else t for t in tokens)]
    sealed = document.get("sealed_query")
    if sealed:
        opened["query"] = _open_query(sealed, keyring)
    return opened


def _open_query(sealed: dict[str, Any], keyring: Mapping[str, tuple[str, bytes]]) -> str | None:
    if not all(t in keyring for t in sealed["over"]):
        return None
    nonce = base64.b64decode(sealed["nonce"])
    key = _entry_key([keyring[t][1] for t in sealed["over"]], nonce)
    return AESGCM(key).decrypt(nonce, base64.b64decode(sealed["text"]), _QUERY_CONTEXT).decode()
