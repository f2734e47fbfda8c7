"""Blocking keys: which records are ever compared. Most keys join something rare (an identifier, a
birth date, a place) with a name, so blocks stay small; names are phonetic and order-free. Weak keys
(names with one keystroke of tolerance, consonants, a given name's first letters, initials in a
postcode) join little else, so they block only while few records share them (`max_name_block_size`).
A one-sided key (a name with the other's initial) pairs only records holding an initial with the
rest of its block. The keys are stored with each record, so OpenSearch finds the same candidates as
the in-memory full run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analyzers.names import consonant_skeleton
from search.resolve.config import (
    BIRTH_FAMILY_PREFIX,
    GIVEN_PREFIX_LENGTH,
    MIN_IDENTIFIER_TYPO_LENGTH,
    MIN_MAILBOX_KEY_LENGTH,
    MIN_NAME_TYPO_LENGTH,
    MIN_SKELETON_KEY_LENGTH,
)
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
    """The given name's sound in the record's postcode, and the family (or maiden) name's sound
    there with the given name's first letter. Two records meet when the given name sounds the same
    there (a typo in the family name, a married name), or the family name does with the same
    initial (a typo in the given name, an initial): a sparse record (a name and a postcode, nothing
    else) finds its customer. The family name alone would pair every household of the postcode; a
    common name in a big town is past max_block_size."""
    if not record.postcode:
        return []
    keys = [f"pn:{record.given_ph.replace(' ', '')}|{record.postcode}"] if record.given_ph else []
    if record.given:
        keys += [
            f"pn:{sound.replace(' ', '')}|{record.postcode}|{record.given[0]}" for sound in (record.family_ph, record.birth_ph) if sound
        ]
    return list(dict.fromkeys(keys))


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


def _sound_and_letters(sound: str, written: str) -> tuple[str, str]:
    """A name as (sound, letters): spaces, digits and signs left out, as its phonetic key leaves them out."""
    return sound.replace(" ", ""), "".join(c for c in written if c.isalpha())


NAME_TYPO = "nt:"
INITIALS_IN_PLACE = "pi:"
NAME_AND_INITIAL = "ai:"
SKELETONS = "sk:"
NAME_AND_GIVEN_PREFIX = "fg:"


def _name_typo_keys(record: RecordFeatures) -> list[str]:
    """The given name's sound with the family (or maiden) name's letters, each left out in turn (a
    deletion neighbourhood), and the other way round: two records whose names are all they share
    meet when one name sounds the same and the other is one keystroke apart ("Paul Fournier" /
    "Paul Fournidr", a swap of given and family names included). Shorter names are kept whole: one
    letter off, they are other names."""
    given = _sound_and_letters(record.given_ph, record.given)
    others = [_sound_and_letters(sound, written) for sound, written in ((record.family_ph, record.family), (record.birth_ph, record.birth))]
    others = [other for other in others if other[1]]
    if not given[1] or not others:
        return []
    keys: dict[str, None] = {}
    for (sound, _), (_, written) in [(given, other) for other in others] + [(other, given) for other in others]:
        if not sound:
            continue
        keys[f"{NAME_TYPO}{sound}|{written}"] = None
        if len(written) >= MIN_NAME_TYPO_LENGTH:
            keys.update((f"{NAME_TYPO}{sound}|{written[:k]}{written[k + 1 :]}", None) for k in range(len(written)))
    return list(keys)


def _initials_in_place_keys(record: RecordFeatures) -> list[str]:
    """The given and family names' first letters (in either order) in the postcode: a typo in each
    name, or an initial and a typo, in one small town. (In the town too, measured: 0.2 more pairs
    per record on the demo's 100k records, none of them a true pair no other key finds.)"""
    if not (record.postcode and record.given and record.family):
        return []
    return [f"{INITIALS_IN_PLACE}{record.postcode}|{''.join(sorted(record.given[0] + record.family[0]))}"]


def _skeleton_keys(record: RecordFeatures) -> list[str]:
    """Both names' consonant skeletons, in either order: a typo in each name that touches only
    vowels or doubled letters ("Mrie Besrade" / "Marie Besarade") with nothing else shared."""
    given = consonant_skeleton(record.given)
    keys: dict[str, None] = {}
    for other in (record.family, record.birth):
        skeleton = consonant_skeleton(other)
        if given and skeleton and len(given) + len(skeleton) >= MIN_SKELETON_KEY_LENGTH:
            keys[SKELETONS + "|".join(sorted((given, skeleton)))] = None
    return list(keys)


def _name_and_given_prefix_keys(record: RecordFeatures) -> list[str]:
    """The family (or maiden) name's sound with the given name's first letters: a given name cut
    short or mistyped past its start ("Raph" / "Raphael", "Clari" / "Claire")."""
    if len(record.given) < GIVEN_PREFIX_LENGTH:
        return []
    prefix = record.given[:GIVEN_PREFIX_LENGTH]
    return list(
        dict.fromkeys(f"{NAME_AND_GIVEN_PREFIX}{sound.replace(' ', '')}|{prefix}" for sound in (record.family_ph, record.birth_ph) if sound)
    )


def is_initial(name: str) -> bool:
    """A folded name written as its initials ("S", "J P")."""
    return bool(name) and all(len(word) == 1 for word in name.split())


def holds_an_initial(record: RecordFeatures) -> bool:
    """The given or the family name is only initials: the side a name-and-initial key is for."""
    return is_initial(record.given) or is_initial(record.family)


def _name_and_initial_keys(record: RecordFeatures) -> list[str]:
    """A full name's sound with the other name's first letter, in either order (family or maiden
    name with the given name's initial, given name with the family name's): "S Chaanet" meets
    "Sandrine Chaanet" with nothing else shared. Every record with a full name stores these keys,
    but two records meet through them only when one of them holds an initial (`KeyRule.pairs_need`):
    full names never meet each other this way, so "Sophie Chaanet" and "Sandrine Chaanet" cost
    nothing, and a block is only as dear as the initials in it."""
    given, family, birth = (record.given_ph, record.given), (record.family_ph, record.family), (record.birth_ph, record.birth)
    keys: dict[str, None] = {}
    for (sound, written), (_, other) in ((family, given), (birth, given), (given, family), (given, birth)):
        if sound and other and not is_initial(written):
            keys[f"{NAME_AND_INITIAL}{sound.replace(' ', '')}|{other[0]}"] = None
    return list(keys)


@dataclass(frozen=True)
class KeyRule:
    kind: str
    keys: Callable[[RecordFeatures], list[str]]
    # A weak key's prefix (names, or initials in a place): it blocks only while at most
    # max_name_block_size records share it; past that, the records it would join are namesakes no
    # name can tell apart.
    weak_prefix: str | None = None
    # A one-sided key: of the records sharing it, only pairs with at least one record for which
    # this holds are compared (the block's bound still counts every record holding the key).
    pairs_need: Callable[[RecordFeatures], bool] | None = None

    @property
    def weak(self) -> bool:
        return self.weak_prefix is not None


# Two records are compared when they share a key. Each strong key joins something rare (an
# identifier, a birth date, a place) with a name, so blocks stay small; names are phonetic and
# order-free. Weak keys tolerate a typo in a record that holds little else.
KEY_RULES: tuple[KeyRule, ...] = (
    KeyRule("identifier", _identifier_keys),
    KeyRule("name+birth date", _name_and_birth_keys),
    KeyRule("birth date+postcode", _birth_and_place_keys),
    KeyRule("names+place", _name_pair_keys),
    KeyRule("family name+street", _family_and_street_keys),
    KeyRule("any name+postcode", _name_in_place_keys),
    KeyRule("mailbox name", _mailbox_keys),
    KeyRule("address", _address_keys),
    KeyRule("identifier typo", _identifier_typo_keys),
    KeyRule("name typo", _name_typo_keys, weak_prefix=NAME_TYPO),
    KeyRule("initials+postcode", _initials_in_place_keys, weak_prefix=INITIALS_IN_PLACE),
    KeyRule("consonant skeletons", _skeleton_keys, weak_prefix=SKELETONS),
    KeyRule("family name+given prefix", _name_and_given_prefix_keys, weak_prefix=NAME_AND_GIVEN_PREFIX),
    KeyRule("name+initial", _name_and_initial_keys, weak_prefix=NAME_AND_INITIAL, pairs_need=holds_an_initial),
)
STRONG_RULES = tuple(rule for rule in KEY_RULES if not rule.weak)
WEAK_RULES = tuple(rule for rule in KEY_RULES if rule.weak and rule.pairs_need is None)
ONE_SIDED_RULES = tuple(rule for rule in KEY_RULES if rule.pairs_need is not None)
WEAK_PREFIXES = tuple(rule.weak_prefix for rule in KEY_RULES if rule.weak_prefix)


def blocking_keys(record: RecordFeatures, rules: tuple[KeyRule, ...] = KEY_RULES) -> list[str]:
    """Every blocking key of a record (stored with it, so OpenSearch finds its candidates too)."""
    keys: list[str] = []
    for rule in rules:
        keys += rule.keys(record)
    return keys


def one_sided_rule(key: str) -> KeyRule | None:
    """The one-sided rule a key belongs to, if any."""
    return next((rule for rule in ONE_SIDED_RULES if rule.weak_prefix and key.startswith(rule.weak_prefix)), None)


def block_bound(key: str, max_block_size: int, max_name_block_size: int) -> int:
    """How many records may share a key before it is too common to block on."""
    return min(max_name_block_size, max_block_size) if key.startswith(WEAK_PREFIXES) else max_block_size
