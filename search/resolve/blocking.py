"""Blocking keys: which records are ever compared. Each key joins something rare (an identifier, a
birth date, a place) with a name, so blocks stay small; names are phonetic and order-free. The keys
are stored with each record, so OpenSearch finds the same candidates as the in-memory full run."""

from __future__ import annotations

from collections.abc import Callable

from search.resolve.config import BIRTH_FAMILY_PREFIX, MIN_IDENTIFIER_TYPO_LENGTH, MIN_MAILBOX_KEY_LENGTH
from search.resolve.features import RecordFeatures


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
        keys.append(f"df:{record.birth_date}|{record.family[:BIRTH_FAMILY_PREFIX]}")
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
    return [f"fs:{family}|{record.street.replace(' ', '')}"] if record.street else []


def _name_in_place_keys(record: RecordFeatures) -> list[str]:
    """Each name's sound (given, family or maiden, whatever its role) in the record's postcode and
    town. Two records meet when ONE name sounds the same there, so a typo in the other name, a
    swap of given and family names or a married name does not keep a sparse record (a name and a
    postcode, nothing else) from its customer; a common name in a big town is past max_block_size."""
    if not record.postcode:
        return []
    names = dict.fromkeys(n.replace(" ", "") for n in (record.given_ph, record.family_ph, record.birth_ph) if n)
    return [f"pn:{name}|{record.postcode}" for name in names]


def _mailbox_keys(record: RecordFeatures) -> list[str]:
    """An e-mail's mailbox name whatever the provider (wanadoo → orange, a typo in the domain)."""
    mailbox = record.email.partition("@")[0]
    return [f"mb:{mailbox}"] if len(mailbox) >= MIN_MAILBOX_KEY_LENGTH else []


def _address_keys(record: RecordFeatures) -> list[str]:
    """A numbered street in one town: the people living there (a block of flats is past max_block_size)."""
    if not (record.street and record.street[0].isdigit()):
        return []
    street = record.street.replace(" ", "")
    return [f"ad:{street}|{place}" for place in dict.fromkeys(p for p in (record.postcode, record.city) if p)]


def _identifier_typo_keys(record: RecordFeatures) -> list[str]:
    """Configured identifiers one keystroke apart meet: each with one character left out (a
    deletion neighbourhood covers a changed, dropped, added or swapped character)."""
    keys: list[str] = []
    for name, value in record.identifiers.items():
        if len(value) >= MIN_IDENTIFIER_TYPO_LENGTH:
            keys.extend(dict.fromkeys(f"it:{name}:{value[:k]}{value[k + 1 :]}" for k in range(len(value))))
    return keys


# Two records are compared when they share a key. Each key joins something rare (an identifier, a
# birth date, a place) with a name, so blocks stay small; names are phonetic and order-free.
KEY_RULES: tuple[tuple[str, Callable[[RecordFeatures], list[str]]], ...] = (
    ("identifier", _identifier_keys),
    ("name+birth date", _name_and_birth_keys),
    ("birth date+postcode", _birth_and_place_keys),
    ("names+place", _name_pair_keys),
    ("family name+street", _family_and_street_keys),
    ("any name+postcode", _name_in_place_keys),
    ("mailbox name", _mailbox_keys),
    ("address", _address_keys),
    ("identifier typo", _identifier_typo_keys),
)


def blocking_keys(record: RecordFeatures) -> list[str]:
    """Every blocking key of a record (stored with it, so OpenSearch finds its candidates too)."""
    keys: list[str] = []
    for _kind, rule in KEY_RULES:
        keys += rule(record)
    return keys
