"""What resolution knows of a record: folded names, phonetic keys, identifiers — computed once."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

import orjson

from analyzers.addresses import street_key
from analyzers.caching import batch_cached
from analyzers.names import fold_name
from analyzers.phonetic import french_phonetic

# The _source fields resolution reads; everything else stays in OpenSearch.
SOURCE_FIELDS = [
    "record_id",
    "source",
    "source_id",
    "updated_at",
    "given_name",
    "family_name",
    "birth_name",
    "birth_date",
    "email",
    "phone",
    "loyalty_card",
    "street",
    "postcode",
    "city",
    "country",
    "civility",
    "attributes",
    "quality.unverified",
    "consents",
]


@dataclass(slots=True)
class RecordFeatures:
    record_id: str
    source: str
    updated_at: str
    given: str = ""
    family: str = ""
    birth: str = ""
    given_ph: str = ""
    family_ph: str = ""
    birth_ph: str = ""
    birth_date: str = ""
    email: str = ""
    phone: str = ""
    card: str = ""
    postcode: str = ""
    city: str = ""
    street: str = ""
    sex: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # attributes that may be identifiers (search.resolve.identifiers)
    phone_unverified: bool = False  # well-formed, not confirmed by libphonenumber (analyzers.phones)
    email_unverified: bool = False


CIVILITY_SEX = {"m": "M", "mr": "M", "monsieur": "M", "mme": "F", "mlle": "F", "madame": "F", "mademoiselle": "F", "mrs": "F", "ms": "F"}


@batch_cached(maxsize=1 << 18)
def _phonetic(name: str) -> str:
    return " ".join(french_phonetic(name)) if name else ""


def features_from_document(
    document: dict[str, Any], extra_identifiers: tuple[str, ...] = (), candidate_identifiers: tuple[str, ...] = ()
) -> RecordFeatures:
    """Features of one records-index document (its `_source`); `candidate_identifiers` are the
    attributes a full run checks for identifiers (search.resolve.identifiers)."""
    given = document.get("given_name") or ""
    family = document.get("family_name") or ""
    birth = document.get("birth_name") or ""
    attributes = document.get("attributes") or {}
    unverified = (document.get("quality") or {}).get("unverified") or ()
    return RecordFeatures(
        record_id=document["record_id"],
        source=document.get("source", ""),
        updated_at=document.get("updated_at") or "",
        given=fold_name(given),
        family=fold_name(family),
        birth=fold_name(birth),
        given_ph=_phonetic(given),
        family_ph=_phonetic(family),
        birth_ph=_phonetic(birth),
        birth_date=document.get("birth_date") or "",
        email=document.get("email") or "",
        phone=document.get("phone") or "",
        card=document.get("loyalty_card") or "",
        postcode=document.get("postcode") or "",
        city=fold_name(document.get("city") or ""),
        street=street_key(document["street"]) if document.get("street") else "",
        sex=CIVILITY_SEX.get(fold_name(document.get("civility") or "").replace(" ", ""), ""),
        identifiers=identifier_values(attributes, extra_identifiers),
        attributes=identifier_values(attributes, candidate_identifiers) if candidate_identifiers else {},
        phone_unverified="phone" in unverified,
        email_unverified="email" in unverified,
    )


def identifier_values(attributes: dict[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The values of the attributes used as identifiers, as compared (trimmed text)."""
    values = {}
    for name in names:
        value = attributes.get(name)
        text = "" if value is None else str(value).strip()
        if text:
            values[name] = text
    return values


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: resolution makes millions of small objects that hold
    no cycles, and each collection would rescan every live record again (a third of a 1M run)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def features_of(
    documents: list[dict[str, Any]], extra_identifiers: tuple[str, ...] = (), candidate_identifiers: tuple[str, ...] = ()
) -> list[RecordFeatures]:
    """Features of many documents, the collector paused. (One process: a worker's features would
    cost more to send back than to compute.)"""
    with collector_paused():
        return [features_from_document(document, extra_identifiers, candidate_identifiers) for document in documents]


class FeaturesOnce:
    """Each record's features computed once for one piece of real-time work (a push's or a steward
    decision's neighbourhood), by record id: the candidate search's gates read the features of every
    holder of a selective key, once per key it holds, and the scoring reads them all again — 90
    computations per push at 100k; once each, the pusher's CPU went from 17–18 to 15.6–15.8 ms per
    push (bench/RESULTS.md, session 15 push section). The records given first (`seed`: those just
    written) stand for themselves wherever they are met: the neighbourhood scores the version
    written. Any other record is kept with the document its features were computed from, and
    computed again when it is met as another document: a concurrent push may update it between
    the searches of one neighbourhood (the holders' msearch, the members' get), and the version
    scored must be the one the neighbourhood holds. (Compared as documents, not by `updated_at`:
    a source may send corrected fields under the same date.)"""

    def __init__(self, extra_identifiers: tuple[str, ...] = ()) -> None:
        self.extra_identifiers = extra_identifiers
        # record id → (the document met, None for a seeded record; its features)
        self._by_id: dict[str, tuple[dict[str, Any] | None, RecordFeatures]] = {}

    def seed(self, documents: Iterable[dict[str, Any]]) -> None:
        for document in documents:
            self._by_id[document["record_id"]] = (None, features_from_document(document, self.extra_identifiers))

    def of(self, document: dict[str, Any]) -> RecordFeatures:
        known = self._by_id.get(document["record_id"])
        if known is not None:
            met, features = known
            if met is None or met is document or met == document:
                return features
        features = features_from_document(document, self.extra_identifiers)
        self._by_id[document["record_id"]] = (document, features)
        return features

    def of_all(self, documents: list[dict[str, Any]]) -> list[RecordFeatures]:
        """`of` each document, the collector paused (features_of)."""
        with collector_paused():
            return [self.of(document) for document in documents]


# A record's features as one JSON array of its fields in declaration order: what a partitioned
# run spools beside each record (search.resolve.spool), so that partition, training and the scoring
# tiles decode them instead of computing them again from the document (bench/RESULTS.md, session 13:
# features_from_document ran 4.3 times per record in a full run).
_FIELD_VALUES = attrgetter(*(f.name for f in fields(RecordFeatures)))


def features_to_json(records: Iterable[RecordFeatures]) -> list[bytes]:
    """Each record's features, serialized for features_from_json."""
    return [orjson.dumps(_FIELD_VALUES(record)) for record in records]


def features_from_json(spooled: bytes | str) -> RecordFeatures:
    """The features features_to_json serialized, equal to those computed from the document."""
    return RecordFeatures(*orjson.loads(spooled))
