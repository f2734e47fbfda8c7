"""What resolution knows of a record: folded names, phonetic keys, identifiers — computed once."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from analyzers.addresses import street_key
from analyzers.names import fold_name
from analyzers.phonetic import french_phonetic

# The _source fields resolution reads; everything else stays in OpenSearch.
SOURCE_FIELDS = [
    "record_id", "source", "source_id", "updated_at", "given_name", "family_name", "birth_name", "birth_date",
    "email", "phone", "loyalty_card", "street", "postcode", "city", "country", "civility", "attributes",
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


CIVILITY_SEX = {"m": "M", "mr": "M", "monsieur": "M", "mme": "F", "mlle": "F", "madame": "F", "mademoiselle": "F", "mrs": "F", "ms": "F"}


@lru_cache(maxsize=1 << 18)
def _phonetic(name: str) -> str:
    return " ".join(french_phonetic(name)) if name else ""


def features_from_document(document: dict[str, Any], extra_identifiers: tuple[str, ...] = ()) -> RecordFeatures:
    """Features of one records-index document (its `_source`)."""
    given = document.get("given_name") or ""
    family = document.get("family_name") or ""
    birth = document.get("birth_name") or ""
    attributes = document.get("attributes") or {}
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
        identifiers={name: str(attributes[name]).strip() for name in extra_identifiers if attributes.get(name) not in (None, "")},
    )


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


def features_of(documents: Iterable[dict[str, Any]], extra_identifiers: tuple[str, ...] = ()) -> list[RecordFeatures]:
    """Features of many documents, the collector paused. (One process: a worker's features would
    cost more to send back than to compute.)"""
    with collector_paused():
        return [features_from_document(document, extra_identifiers) for document in documents]


def _identifier_keys(record: RecordFeatures) -> list[str]:
    keys = [f"em:{record.email}"] if record.email else []
    if record.phone:
        keys.append(f"ph:{record.phone}")
    if record.card:
        keys.append(f"ca:{record.card}")
    keys.extend(f"id:{name}:{value}" for name, value in record.identifiers.items())
    return keys


def _name_and_birth_keys(record: RecordFeatures) -> list[str]:
    if not record.birth_date:
        return []
    names = dict.fromkeys(n for n in (record.given_ph, record.family_ph, record.birth_ph) if n)
    return [f"nd:{name}|{record.birth_date}" for name in names]


def _birth_and_place_keys(record: RecordFeatures) -> list[str]:
    if not record.birth_date:
        return []
    keys = [f"dp:{record.birth_date}|{record.postcode}"] if record.postcode else []
    if record.family:
        # The first letters of the family name survive most typos that defeat its phonetic key.
        keys.append(f"df:{record.birth_date}|{record.family[:3]}")
    return keys


def _name_pair_keys(record: RecordFeatures) -> list[str]:
    if not (record.given_ph and record.family_ph):
        return []
    pair = "|".join(sorted((record.given_ph, record.family_ph)))
    # Names alone meet only while they are rare (a block past max_block_size is not compared).
    keys = [f"nn:{pair}"]
    if record.postcode:
        keys.append(f"np:{pair}|{record.postcode[:2]}")
    if record.city:
        keys.append(f"nc:{pair}|{record.city}")
    return keys


def _family_and_street_keys(record: RecordFeatures) -> list[str]:
    if not record.family_ph:
        return []
    family = record.family_ph.replace(" ", "")
    keys = [f"fs:{family}|{record.street.replace(' ', '')}"] if record.street else []
    if record.postcode:
        # A family in its postcode: finds a household's records whatever the street was written.
        keys.append(f"fp:{family}|{record.postcode}")
    return keys


def _address_keys(record: RecordFeatures) -> list[str]:
    """A numbered street in one town: the people living there (a block of flats is past max_block_size)."""
    if not (record.street and record.street[0].isdigit()):
        return []
    street = record.street.replace(" ", "")
    return [f"ad:{street}|{place}" for place in dict.fromkeys(p for p in (record.postcode, record.city) if p)]


def _identifier_typo_keys(record: RecordFeatures) -> list[str]:
    """Configured identifiers one keystroke apart meet: each with one character left out (a
    deletion neighbourhood covers a changed, dropped, added or swapped character)."""
    keys = []
    for name, value in record.identifiers.items():
        if len(value) > 4:
            keys.extend(dict.fromkeys(f"it:{name}:{value[:k]}{value[k + 1:]}" for k in range(len(value))))
    return keys


# Two records are compared when they share a key. Each key joins something rare (an identifier, a
# birth date, a place) with a name, so blocks stay small; names are phonetic and order-free.
KEY_RULES: tuple[tuple[str, Callable[[RecordFeatures], list[str]]], ...] = (
    ("identifier", _identifier_keys),
    ("name+birth date", _name_and_birth_keys),
    ("birth date+postcode", _birth_and_place_keys),
    ("names+place", _name_pair_keys),
    ("family name+street or postcode", _family_and_street_keys),
    ("address", _address_keys),
    ("identifier typo", _identifier_typo_keys),
)


def blocking_keys(record: RecordFeatures) -> list[str]:
    """Every blocking key of a record (stored with it, so OpenSearch finds its candidates too)."""
    keys: list[str] = []
    for _kind, rule in KEY_RULES:
        keys += rule(record)
    return keys
