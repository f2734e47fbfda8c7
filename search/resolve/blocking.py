"""Blocking keys: which records are ever compared. Most keys join something rare (an identifier, a
birth date, a place) with a name, so blocks stay small; names are phonetic and order-free. Weak keys
(names with one keystroke of tolerance, consonants, a given name's first letters, initials in a
postcode) join little else, so they block only while few records share them (`max_name_block_size`).
A one-sided key (a name with the other's initial) pairs only records holding an initial with the
rest of its block, while the block makes few pairs; a gated key pairs only the records of its block
whose names are close (initials in a place, consonants) or whose sexes and birth dates agree (a
given name in a postcode, a given name's first letters). What each key costs and finds: `python -m bench.blocking_keys`. The keys are stored
with each record, so OpenSearch finds the same candidates as the in-memory full run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import jellyfish
import numpy as np

from analyzers.caching import batch_cached
from analyzers.names import consonant_skeleton
from search.resolve.comparisons import NULL, birth_date_level
from search.resolve.config import (
    BIRTH_FAMILY_PREFIX,
    CLOSE_NAMES_SIMILARITY,
    GIVEN_PREFIX_LENGTH,
    MIN_HALF_LETTERS,
    MIN_IDENTIFIER_TYPO_LENGTH,
    MIN_MAILBOX_KEY_LENGTH,
    MIN_NAME_TYPO_LENGTH,
    MIN_SKELETON_KEY_LENGTH,
    MIN_TRUNCATION,
    MIN_TWO_TYPO_LENGTH,
    PHONE_TYPO_DIGITS,
)
from search.resolve.features import RecordFeatures, features_from_document

FAMILY_AND_STREET = "fs:"
NAME_IN_PLACE = "pn:"
ADDRESS = "ad:"
BIRTH_AND_INITIAL = "di:"


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


def _birth_and_initial_keys(record: RecordFeatures) -> list[str]:
    """The birth date with the given name's first letter: a married name (no maiden name recorded)
    with a typo in the given name ("Nathalie Vasseur" / "Nathlaie Greonand", same day), which no
    key with a family name, nor the given name's sound, finds. One day of birth holds few people and fewer of one initial (at 1M records of
    ~400,000 people born over ~80 years, about one), so the block is small; twins of one initial
    ("Lucas" / "Louis") pay nothing: the pairs are gated by `given_within_a_typo_one_sex`."""
    if not (record.birth_date and record.given):
        return []
    return [f"{BIRTH_AND_INITIAL}{record.birth_date}|{record.given[0]}"]


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
    return [f"{FAMILY_AND_STREET}{family}|{record.street.replace(' ', '')}"] if record.street else []


def _name_in_place_keys(record: RecordFeatures) -> list[str]:
    """The family (or maiden) name's sound in the record's postcode with the given name's first
    letter: a typo in the given name, an initial, and a postcode: a sparse record (a name and a
    postcode, nothing else) finds its customer. The family name alone would pair every household of
    the postcode; a common name in a big town is past max_block_size. (The given name's sound
    there is `_given_in_place_keys`.)"""
    if not (record.postcode and record.given):
        return []
    return list(
        dict.fromkeys(
            f"{NAME_IN_PLACE}{sound.replace(' ', '')}|{record.postcode}|{record.given[0]}"
            for sound in (record.family_ph, record.birth_ph)
            if sound
        )
    )


def _given_in_place_keys(record: RecordFeatures) -> list[str]:
    """The given name's sound in the postcode: a married name, or a typo in the family name, with
    nothing else shared. Weak (every Marie of a big town's postcode is past max_name_block_size)
    and gated by `may_be_one_person`: two Maries of one postcode born on other days are two women."""
    if not (record.postcode and record.given_ph):
        return []
    return [f"{GIVEN_IN_PLACE}{record.given_ph.replace(' ', '')}|{record.postcode}"]


def birth_dates_agree(x: RecordFeatures, y: RecordFeatures) -> bool:
    """The birth dates are the same, one keystroke or one day apart, or one of them is unknown."""
    return birth_date_level(x, y) in (NULL, 0, 1)


def given_within_a_typo_one_sex(x: RecordFeatures, y: RecordFeatures) -> bool:
    """The given names are the same or a typo apart (`within_a_typo`), and the sexes agree where
    known: what one woman's given name keeps across a marriage, and what twins (one birth date, one
    initial: "Lucas" / "Louis") or a brother and a sister do not share. (An initial or a short form
    as well cost 0.001 pairs per record on the demo's 100k records for no true pair more.)"""
    if not sexes_agree(x, y) or not (x.given and y.given):
        return False
    return x.given == y.given or within_a_typo(x.given, y.given)


def sexes_agree(x: RecordFeatures, y: RecordFeatures) -> bool:
    """The sexes the civilities give are the same, or one of them is unknown."""
    return not (x.sex and y.sex) or x.sex == y.sex


def may_be_one_person(x: RecordFeatures, y: RecordFeatures) -> bool:
    """Nothing known of both says two people: their sexes and their birth dates agree where known
    ("Jean" / "Jeanne Vasseur", "Marie" and her daughter "Marion" are not compared through a name)."""
    return sexes_agree(x, y) and birth_dates_agree(x, y)


def may_be_one_resident(x: RecordFeatures, y: RecordFeatures) -> bool:
    """Two records of one address may be one person: the sexes agree where known, and the birth
    dates agree or the given names are close (as written or swapped with the family name): a
    household's members of one sex born on other days, with other given names, are two people.
    (Birth dates alone would not do: FEBRL's are noisy, and its true pairs at one address with
    dates apart keep a given name close.)"""
    if not sexes_agree(x, y):
        return False
    if birth_dates_agree(x, y):
        return True
    return any(_similarity(name, y.given) >= CLOSE_NAMES_SIMILARITY for name in (x.given, x.family) if name)


def close_names_one_sex(x: RecordFeatures, y: RecordFeatures) -> bool:
    """`names_close`, and the sexes agree where known. (Birth dates are left out: where they are
    noisy, FEBRL's, these keys find pairs whose dates disagree.)"""
    return sexes_agree(x, y) and names_close(x, y)


def _mailbox_keys(record: RecordFeatures) -> list[str]:
    """An e-mail's mailbox name whatever the provider (wanadoo → orange, a typo in the domain)."""
    mailbox = record.email.partition("@")[0]
    return [f"mb:{mailbox}"] if len(mailbox) >= MIN_MAILBOX_KEY_LENGTH else []


def _address_keys(record: RecordFeatures) -> list[str]:
    """A numbered street in one town: the people living there (a block of flats is past max_block_size)."""
    if not (record.street and record.street[0].isdigit()):
        return []
    street = record.street.replace(" ", "")
    return [f"{ADDRESS}{street}|{place}" for place in dict.fromkeys(p for p in (record.postcode, record.city) if p)]


def _mailbox_letters(record: RecordFeatures) -> str:
    """An e-mail's mailbox name with its digits and signs left out ("rieves.ines22" → "rievesines"),
    from MIN_MAILBOX_KEY_LENGTH letters."""
    letters = "".join(c for c in record.email.partition("@")[0] if c.isalpha())
    return letters if len(letters) >= MIN_MAILBOX_KEY_LENGTH else ""


def _names_as_mailbox(record: RecordFeatures) -> set[str]:
    """What a mailbox made of the record's names reads, without its signs: the given name and the
    family (or maiden) name, in either order. (The family name alone, "renaud1975", and the given
    name's initial with it, "cpoirier", were measured and left out: on bench.corruption, 5,000
    people, seed 1, at 35% typos and 20-year timelines, they found 11 and 8 true pairs more for
    642 and 975 pairs of strangers more, where the two orders alone make 4 and 31.)"""
    given = _forms(record.given).letters
    if not given:
        return set()
    forms: set[str] = set()
    for name in (record.family, record.birth):
        if family := _forms(name).letters:
            forms.update((given + family, family + given))
    return {form for form in forms if len(form) >= MIN_MAILBOX_KEY_LENGTH}


def _mailbox_names_keys(record: RecordFeatures) -> list[str]:
    """The record's names as a mailbox reads them (`_names_as_mailbox`), and its own mailbox's
    letters: an e-mail the customer typed holds his names right where an agent mistyped them
    ("Aaines Rjevex", rieves.ines@…) or where the family name has changed since (a maiden name
    kept in the e-mail of a married woman), and meets the record written with those names. Weak;
    gated by `mailbox_holds_names_one_person`: records sharing only their names already meet
    through the names' own keys."""
    keys = dict.fromkeys(MAILBOX_NAMES + form for form in _names_as_mailbox(record))
    if letters := _mailbox_letters(record):
        keys[MAILBOX_NAMES + letters] = None
    return list(keys)


def mailbox_holds_names_one_person(x: RecordFeatures, y: RecordFeatures) -> bool:
    """One record's mailbox reads the other's names (`_names_as_mailbox`), and nothing known of
    both says two people (`may_be_one_person`)."""
    if not may_be_one_person(x, y):
        return False
    return any((letters := _mailbox_letters(a)) and letters in _names_as_mailbox(b) for a, b in ((x, y), (y, x)))


def _phone_typo_keys(record: RecordFeatures) -> list[str]:
    """The phone's last PHONE_TYPO_DIGITS digits each left out in turn, and whole, beside the rest
    (a deletion neighbourhood: a digit changed, dropped, added or two swapped, "+33752761317" /
    "+33752761371"), which the exact phone key misses. Weak, gated by `given_within_a_typo_one_person`:
    at a million records a phone has a stranger's one digit off about every other time."""
    if not record.phone:
        return []
    head, tail = record.phone[:-PHONE_TYPO_DIGITS], record.phone[-PHONE_TYPO_DIGITS:]
    return [f"{PHONE_TYPO}{head}{variant}" for variant in dict.fromkeys([tail, *(tail[:k] + tail[k + 1 :] for k in range(len(tail)))])]


def given_within_a_typo_one_person(x: RecordFeatures, y: RecordFeatures) -> bool:
    """The given names are the same or a typo apart (`within_a_typo`; or one record's given name and
    the other's family name, written swapped), and nothing known of both says two people
    (`may_be_one_person`): what one person's records keep beside a mistyped phone, and what the
    members of one household, numbers of one plan a digit apart, do not (a shared family name is
    not enough)."""
    if not may_be_one_person(x, y):
        return False
    pairs = ((x.given, y.given), (x.given, y.family), (x.family, y.given))
    return any(a and b and within_a_typo(a, b) for a, b in pairs)


def _identifier_typo_keys(record: RecordFeatures) -> list[str]:
    """Configured identifiers one keystroke apart meet: each with one character left out (a
    deletion neighbourhood covers a changed, dropped, added or swapped character)."""
    keys: list[str] = []
    for name, value in record.identifiers.items():
        if len(value) >= MIN_IDENTIFIER_TYPO_LENGTH:
            keys.extend(dict.fromkeys(f"it:{name}:{value[:k]}{value[k + 1 :]}" for k in range(len(value))))
    return keys


NAME_TYPO = "nt:"
GIVEN_IN_PLACE = "gp:"
INITIALS_IN_PLACE = "pi:"
NAME_AND_INITIAL = "ai:"
SKELETONS = "sk:"
NAME_AND_GIVEN_PREFIX = "fg:"
TWO_TYPOS = "tt:"
HALVES_IN_PLACE = "hp:"
FAMILY_SOUND = "fa:"
INITIAL_AND_FAMILY_TYPO = "ti:"
GIVEN_AND_FAMILY_PREFIX = "gf:"
MAILBOX_NAMES = "mn:"
PHONE_TYPO = "pt:"


def _name_typo_keys(record: RecordFeatures) -> list[str]:
    """The given name's sound with the family (or maiden) name's letters, each left out in turn (a
    deletion neighbourhood), and the other way round: two records whose names are all they share
    meet when one name sounds the same and the other is one keystroke apart ("Paul Fournier" /
    "Paul Fournidr", a swap of given and family names included). Shorter names are kept whole: one
    letter off, they are other names."""
    given = _forms(record.given)
    if not given.letters:
        return []
    others = [
        (sound, forms)
        for sound, forms in ((record.family_ph, _forms(record.family)), (record.birth_ph, _forms(record.birth)))
        if forms.letters
    ]
    keys: dict[str, None] = {}
    for sound, forms in [(record.given_ph, other) for _, other in others] + [(sound, given) for sound, _ in others]:
        if sound:
            head = f"{NAME_TYPO}{sound.replace(' ', '')}|"
            keys.update((head + variant, None) for variant in forms.deletions)
    return list(keys)


def _deletions(written: str) -> tuple[str, ...]:
    """A name's letters and, past MIN_NAME_TYPO_LENGTH, each of them left out in turn."""
    if len(written) < MIN_NAME_TYPO_LENGTH:
        return (written,)
    return tuple(dict.fromkeys([written] + [f"{written[:k]}{written[k + 1 :]}" for k in range(len(written))]))


def _halves(written: str) -> tuple[str, ...]:
    """What a typo leaves of a name: its first or its last half (one of them is untouched), each at
    two lengths (an added or dropped letter changes the half's length by one). A name too short for
    halves of MIN_HALF_LETTERS letters (fewer would join unrelated names) is given with each of its
    letters left out instead (a deletion neighbourhood: a changed, added, dropped or swapped letter),
    from MIN_NAME_TYPO_LENGTH letters; a shorter one is kept whole."""
    half = len(written) // 2
    if half >= MIN_HALF_LETTERS:
        pieces = ((f"<{written[:k]}", f">{written[-k:]}") for k in (half, half - 1) if k >= MIN_HALF_LETTERS)
        return tuple(piece for both in pieces for piece in both)
    if len(written) > MIN_HALF_LETTERS + 1:
        # Five letters: its ends of three letters meet the halves of a name one or two letters longer.
        return (*_deletions(written), f"<{written[:MIN_HALF_LETTERS]}", f">{written[-MIN_HALF_LETTERS:]}")
    return _deletions(written)


@dataclass(frozen=True, slots=True)
class NameForms:
    """What the keys read of one folded name, worked out once per name (not once per key) while a
    batch is open: its letters (spaces, digits and signs left out, as its phonetic key leaves them
    out), their deletion neighbourhood and halves, its consonant skeleton, whether it is initials."""

    letters: str
    deletions: tuple[str, ...]
    halves: tuple[str, ...]
    skeleton: str
    initial: bool


# As many names as the letters and halves caches it replaces held: about 1.1 KB of forms per name
# (27,608 distinct names on the demo's 100k records, 29 MB), so at most about 70 MB.
@batch_cached(maxsize=1 << 16)
def _forms(written: str) -> NameForms:
    letters = "".join(c for c in written if c.isalpha())
    return NameForms(letters, _deletions(letters), _halves(letters), consonant_skeleton(written), is_initial(written))


def _two_typos_keys(record: RecordFeatures) -> list[str]:
    """A half of the given name with a half of the family name (`_halves`), in either order: a
    typo in each name with nothing else shared ("Sanrdine Etsin" / "Sandrine Tesin" hold no place
    in common). Up to 16 keys per record, weak, gated by `keystrokes_apart`: two halves meet far
    more names than they are typos of."""
    given, family = _forms(record.given), _forms(record.family)
    if not (given.letters and family.letters) or given.initial or family.initial:
        return []
    return list(dict.fromkeys(f"{TWO_TYPOS}{g}|{f}" if g < f else f"{TWO_TYPOS}{f}|{g}" for g in given.halves for f in family.halves))


def _halves_in_place_keys(record: RecordFeatures) -> list[str]:
    """Each name's halves (`_halves`) in the postcode: a typo in each name, one of them on a first
    letter ("Claude Saaggy" / "Cladue Sauagy"), with a postcode shared and nothing else. Gated by
    `close_names_one_person`: a neighbour's name shares a half with one's own."""
    if not record.postcode:
        return []
    given, family = _forms(record.given), _forms(record.family)
    if given.initial or family.initial:
        return []
    head = f"{HALVES_IN_PLACE}{record.postcode}|"
    return list(dict.fromkeys(head + half for forms in (given, family) if forms.letters for half in forms.halves))


def close_names_one_person(x: RecordFeatures, y: RecordFeatures) -> bool:
    """`names_close`, and nothing known of both says two people (`may_be_one_person`)."""
    return may_be_one_person(x, y) and names_close(x, y)


def _family_sound_keys(record: RecordFeatures) -> list[str]:
    """The family (or maiden) name's sound alone: a given name misread twice with nothing else
    shared ("Rnanon" / "Manon"). Gated by `keystrokes_apart`."""
    return list(dict.fromkeys(f"{FAMILY_SOUND}{sound.replace(' ', '')}" for sound in (record.family_ph, record.birth_ph) if sound))


def _initials_in_place_keys(record: RecordFeatures) -> list[str]:
    """The given and family names' first letters (in either order) in the postcode, and in the
    town: a typo in each name, or an initial and a typo, in one neighbourhood ("Sanrdine Etsin" /
    "Sandrine Tesin" share no sound, no letters but the first). Its pairs are gated by
    `names_close`: neighbours who only share initials are not compared (without the gate, in the
    town too cost 0.2 pairs per record on the demo's 100k records for no true pair)."""
    if not (record.given and record.family):
        return []
    initials = "".join(sorted(record.given[0] + record.family[0]))
    places = dict.fromkeys(place for place in (record.postcode, record.city) if place)
    return [f"{INITIALS_IN_PLACE}{place}|{initials}" for place in places]


def _skeleton_keys(record: RecordFeatures) -> list[str]:
    """Both names' consonant skeletons, in either order: a typo in each name that touches only
    vowels or doubled letters ("Mrie Besrade" / "Marie Besarade") with nothing else shared."""
    given = _forms(record.given).skeleton
    if not given:
        return []
    keys: dict[str, None] = {}
    for other in (record.family, record.birth):
        skeleton = _forms(other).skeleton
        if skeleton and len(given) + len(skeleton) >= MIN_SKELETON_KEY_LENGTH:
            keys[SKELETONS + (f"{given}|{skeleton}" if given <= skeleton else f"{skeleton}|{given}")] = None
    return list(keys)


def _name_and_given_prefix_keys(record: RecordFeatures) -> list[str]:
    """The family (or maiden) name's sound with the given name's first letters: a given name cut
    short or mistyped past its start ("Raph" / "Raphael", "Clari" / "Claire"). Gated by
    `may_be_one_person`: in a household, "Jean" and "Jeanne", "Marie" and "Marion" share the key
    (0.1 pairs per record on the demo's 100k records, none of them a true pair only it found)."""
    if len(record.given) < GIVEN_PREFIX_LENGTH:
        return []
    prefix = record.given[:GIVEN_PREFIX_LENGTH]
    return list(
        dict.fromkeys(f"{NAME_AND_GIVEN_PREFIX}{sound.replace(' ', '')}|{prefix}" for sound in (record.family_ph, record.birth_ph) if sound)
    )


@batch_cached(maxsize=1 << 18)
def _similarity(a: str, b: str) -> float:
    return jellyfish.jaro_winkler_similarity(a, b) if a and b else 0.0


@batch_cached(maxsize=1 << 18)
def _edits(a: str, b: str) -> int:
    return jellyfish.damerau_levenshtein_distance(a, b)


def within_a_typo(a: str, b: str) -> bool:
    """Two names at most a typo apart (Damerau): one keystroke below MIN_TWO_TYPO_LENGTH letters,
    two from there, as the scorer reads two keystrokes (comparisons._two_edits)."""
    allowed = 2 if min(len(a), len(b)) >= MIN_TWO_TYPO_LENGTH else 1
    return abs(len(a) - len(b)) <= allowed and _edits(a, b) <= allowed


def keystrokes_apart(x: RecordFeatures, y: RecordFeatures) -> bool:
    """Each name at most a typo away from the other's (`within_a_typo`, as written or swapped, the
    family name against the other's family or maiden name), and nothing known of both says two
    people (`may_be_one_person`): what a typo in each name leaves. Jaro-Winkler is too kind to
    names sharing their first half ("Lamares" / "Lamert"), which a key on names alone meets by the
    thousand (at 35% typos, 0.2 pairs per record for no more true pairs)."""
    if not sexes_agree(x, y):
        return False
    families = [name for name in (y.family, y.birth) if name]
    for family in (x.family, x.birth):
        for given, other in ((x.given, family), (family, x.given)):
            if given and other and within_a_typo(given, y.given) and any(within_a_typo(other, f) for f in families):
                return birth_dates_agree(x, y)
    return False


def names_close(x: RecordFeatures, y: RecordFeatures) -> bool:
    """Each of the two names is close to the other record's (Jaro-Winkler at least
    CLOSE_NAMES_SIMILARITY), as written or with given and family names swapped, the family name
    against the other's family or maiden name: what a typo in each name leaves, and what two
    neighbours who only share their initials do not have."""
    families = [name for name in (y.family, y.birth) if name]

    def close(given: str, family: str) -> bool:
        return _similarity(given, y.given) >= CLOSE_NAMES_SIMILARITY and any(
            _similarity(family, other) >= CLOSE_NAMES_SIMILARITY for other in families
        )

    return any(close(x.given, family) or close(family, x.given) for family in (x.family, x.birth) if family)


def is_initial(name: str) -> bool:
    """A folded name written as its initials ("S", "J P")."""
    if " " not in name:
        return len(name) == 1
    return all(len(word) == 1 for word in name.split())


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


def _initial_and_family_typo_keys(record: RecordFeatures) -> list[str]:
    """The given name's first letter with the family (or maiden) name's letters, each left out in
    turn (`_deletions`): "J. Delzny" meets "Jean Delany", an initial written for the given name
    and a slip in the family name, which the name-and-initial key (the family name's exact sound)
    misses. One-sided like it (`holds_an_initial`): full names never meet through it, so "Julie
    Delany" and "Jean Delany" cost nothing; gated by `family_within_a_typo_one_person`: one
    letter left out of each name joins "Marin" to "Martin" and "Mardin"."""
    if not record.given:
        return []
    initial = record.given[0]
    return list(
        dict.fromkeys(
            f"{INITIAL_AND_FAMILY_TYPO}{initial}|{variant}"
            for name in (record.family, record.birth)
            if name and not is_initial(name)
            for variant in _forms(name).deletions
        )
    )


def _given_and_family_prefix_keys(record: RecordFeatures) -> list[str]:
    """The given name's sound with the family (or maiden) name's first letters: a family name cut
    short (a legacy file's fixed width, an agent typing its start: "Camille Delae" / "Camille
    Delaelade") or mistyped past its start, which no key on its sound or letters finds. The
    mirror of `_name_and_given_prefix_keys`; gated by `family_cut_short_one_person`."""
    if not record.given_ph:
        return []
    given = record.given_ph.replace(" ", "")
    return list(
        dict.fromkeys(
            f"{GIVEN_AND_FAMILY_PREFIX}{given}|{name[:GIVEN_PREFIX_LENGTH]}"
            for name in (record.family, record.birth)
            if len(name) >= GIVEN_PREFIX_LENGTH
        )
    )


def family_within_a_typo_one_person(x: RecordFeatures, y: RecordFeatures) -> bool:
    """The family (or maiden) names are the same or a typo apart (`within_a_typo`), and nothing
    known of both says two people (`may_be_one_person`)."""
    return may_be_one_person(x, y) and any(
        within_a_typo(name, other) for name in (x.family, x.birth) if name for other in (y.family, y.birth) if other
    )


def family_cut_short_one_person(x: RecordFeatures, y: RecordFeatures) -> bool:
    """One family (or maiden) name is the start of the other's (`MIN_TRUNCATION` letters at
    least) or a typo of it (`within_a_typo`), and nothing known of both says two people
    (`may_be_one_person`)."""
    if not may_be_one_person(x, y):
        return False
    theirs = [name for name in (y.family, y.birth) if name]
    for name in (x.family, x.birth):
        for other in theirs:
            if name and (within_a_typo(name, other) or _cut_short(name, other)):
                return True
    return False


def _cut_short(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return len(short) >= MIN_TRUNCATION and long_.startswith(short)


@dataclass(frozen=True)
class KeyRule:
    kind: str
    keys: Callable[[RecordFeatures], list[str]]
    # A weak key's prefix (names, or initials in a place): it blocks only while at most
    # max_name_block_size records share it; past that, the records it would join are namesakes no
    # name can tell apart.
    weak_prefix: str | None = None
    # A one-sided key: of the records sharing it, only pairs with at least one record for which
    # this holds are compared; its block is bounded by the pairs it makes (`one_sided_pairs`).
    pairs_need: Callable[[RecordFeatures], bool] | None = None
    # A gated key: of the pairs its block makes, only those for which this holds are compared.
    pairs_gate: Callable[[RecordFeatures, RecordFeatures], bool] | None = None
    # The prefix of a gated strong key (a weak key's is `weak_prefix`): how a key found in
    # OpenSearch is known to be gated (`selective_rule`).
    prefix: tuple[str, ...] = ()

    @property
    def weak(self) -> bool:
        return self.weak_prefix is not None

    @property
    def selective(self) -> bool:
        """Its blocks do not compare every pair (one-sided or gated): grouped on their own."""
        return self.pairs_need is not None or self.pairs_gate is not None


# Two records are compared when they share a key. Each strong key joins something rare (an
# identifier, a birth date, a place) with a name, so blocks stay small; names are phonetic and
# order-free. Weak keys tolerate a typo in a record that holds little else.
KEY_RULES: tuple[KeyRule, ...] = (
    KeyRule("identifier", _identifier_keys),
    KeyRule("name+birth date", _name_and_birth_keys),
    KeyRule("birth date+postcode", _birth_and_place_keys),
    KeyRule(
        "birth date+given initial",
        _birth_and_initial_keys,
        pairs_gate=given_within_a_typo_one_sex,
        prefix=(BIRTH_AND_INITIAL,),
    ),
    KeyRule("names+place", _name_pair_keys),
    KeyRule("family name+street", _family_and_street_keys, pairs_gate=sexes_agree, prefix=(FAMILY_AND_STREET,)),
    KeyRule("family name+postcode+initial", _name_in_place_keys, pairs_gate=sexes_agree, prefix=(NAME_IN_PLACE,)),
    KeyRule("given name+postcode", _given_in_place_keys, weak_prefix=GIVEN_IN_PLACE, pairs_gate=may_be_one_person),
    KeyRule("mailbox name", _mailbox_keys),
    KeyRule("address", _address_keys, pairs_gate=sexes_agree, prefix=(ADDRESS,)),
    KeyRule("identifier typo", _identifier_typo_keys),
    KeyRule("name typo", _name_typo_keys, weak_prefix=NAME_TYPO),
    KeyRule("initials+place", _initials_in_place_keys, weak_prefix=INITIALS_IN_PLACE, pairs_gate=close_names_one_sex),
    KeyRule("consonant skeletons", _skeleton_keys, weak_prefix=SKELETONS, pairs_gate=keystrokes_apart),
    KeyRule("family name+given prefix", _name_and_given_prefix_keys, weak_prefix=NAME_AND_GIVEN_PREFIX, pairs_gate=may_be_one_person),
    KeyRule("a typo in each name", _two_typos_keys, weak_prefix=TWO_TYPOS, pairs_gate=keystrokes_apart),
    KeyRule("halves in postcode", _halves_in_place_keys, weak_prefix=HALVES_IN_PLACE, pairs_gate=close_names_one_person),
    KeyRule("family name's sound", _family_sound_keys, weak_prefix=FAMILY_SOUND, pairs_gate=keystrokes_apart),
    KeyRule("name+initial", _name_and_initial_keys, weak_prefix=NAME_AND_INITIAL, pairs_need=holds_an_initial),
    KeyRule(
        "initial+family typo",
        _initial_and_family_typo_keys,
        weak_prefix=INITIAL_AND_FAMILY_TYPO,
        pairs_need=holds_an_initial,
        pairs_gate=family_within_a_typo_one_person,
    ),
    KeyRule(
        "given name+family prefix",
        _given_and_family_prefix_keys,
        weak_prefix=GIVEN_AND_FAMILY_PREFIX,
        pairs_gate=family_cut_short_one_person,
    ),
    KeyRule("mailbox holds the names", _mailbox_names_keys, weak_prefix=MAILBOX_NAMES, pairs_gate=mailbox_holds_names_one_person),
    KeyRule("phone typo", _phone_typo_keys, weak_prefix=PHONE_TYPO, pairs_gate=given_within_a_typo_one_person),
)
STRONG_RULES = tuple(rule for rule in KEY_RULES if not rule.weak)
# Strong keys every pair of whose blocks is compared (the gated ones are among SELECTIVE_RULES).
PLAIN_STRONG_RULES = tuple(rule for rule in STRONG_RULES if not rule.selective)
# Weak keys every pair of whose blocks is compared, then the selective ones (one-sided or gated),
# each grouped on its own. (A full run partitioned on disk, search.resolve.spool, groups the weak
# and gated keys together and compares every pair of their blocks: a superset, scored.)
WEAK_RULES = tuple(rule for rule in KEY_RULES if rule.weak and rule.pairs_need is None)
SELECTIVE_RULES = tuple(rule for rule in KEY_RULES if rule.selective)
ONE_SIDED_RULES = tuple(rule for rule in KEY_RULES if rule.pairs_need is not None)
# Gated rules by number: the spool (search.resolve.spool) keeps, with each pair of its tiles, which
# gated rules made it (a bit each), so the 1M path scores the pairs the in-memory run compares.
GATED_RULES = tuple(rule for rule in KEY_RULES if rule.pairs_gate is not None)


# Each distinct gate once, with the bits of the gated rules it guards, the cheapest first (a pair
# made by several rules is tested once per gate, and by the civilities before any name distance).
_GATE_COST = (
    sexes_agree,
    may_be_one_person,
    given_within_a_typo_one_sex,
    close_names_one_sex,
    keystrokes_apart,
    close_names_one_person,
    family_within_a_typo_one_person,
    family_cut_short_one_person,
    given_within_a_typo_one_person,
    mailbox_holds_names_one_person,
)
_GATES_BY_COST = tuple(
    sorted(
        (
            (gate, sum(1 << number for number, rule in enumerate(GATED_RULES) if rule.pairs_gate is gate))
            for gate in dict.fromkeys(rule.pairs_gate for rule in GATED_RULES if rule.pairs_gate)
        ),
        key=lambda item: _GATE_COST.index(item[0]) if item[0] in _GATE_COST else len(_GATE_COST),
    )
)


def passes_a_gate(x: RecordFeatures, y: RecordFeatures, gates: int) -> bool:
    """The pair passes the gate of one of the gated rules (GATED_RULES, one bit each) that made it."""
    return any(gates & bits and gate(x, y) for gate, bits in _GATES_BY_COST)


WEAK_PREFIXES = tuple(rule.weak_prefix for rule in KEY_RULES if rule.weak_prefix)


def blocking_keys(record: RecordFeatures, rules: tuple[KeyRule, ...] = KEY_RULES) -> list[str]:
    """Every blocking key of a record (stored with it, so OpenSearch finds its candidates too)."""
    keys: list[str] = []
    for rule in rules:
        keys += rule.keys(record)
    return keys


# Bump when what a key means changes in a way the probes below cannot show (a rule reading a field
# none of them holds, a normalizer change their names do not meet): every index is then rekeyed by
# its next full run.
KEYS_EPOCH = 1

# Fixed, made-up records (no customer's) whose keys say what the rules make today (`keys_version`):
# an initial, a maiden name, an identifier, a numbered street, a short and a long name. Raw
# documents, made into features as every record is (names folded, phonetic keys), so a change to
# those normalizers changes the version too.
_VERSION_PROBES: tuple[dict[str, Any], ...] = (
    {
        "record_id": "crm:probe-1",
        "source": "crm",
        "civility": "Mme",
        "given_name": "Marie-Hélène",
        "family_name": "Dupont",
        "birth_name": "Martin",
        "birth_date": "1980-02-03",
        "email": "marie.dupont@example.fr",
        "phone": "+33612345678",
        "loyalty_card": "C123",
        "postcode": "75011",
        "city": "Paris",
        "street": "12 rue Oberkampf",
        "attributes": {"nir": "1800275011123"},
    },
    {
        "record_id": "shop:probe-2",
        "source": "shop",
        "civility": "M.",
        "given_name": "J.",
        "family_name": "Lefèbvre-Moreau",
        "postcode": "69003",
        "city": "Lyon",
    },
    {
        "record_id": "web:probe-3",
        "source": "web",
        "given_name": "Anne",
        "family_name": "Roy",
        "birth_date": "2001-12-31",
        "email": "a.roy@example.org",
    },
    {
        "record_id": "cc:probe-4",
        "source": "cc",
        "given_name": "Françoise",
        "family_name": "Gauthier",
        "birth_name": "Schmitt",
        "phone": "+33145678901",
    },
)


@cache
def keys_version(rules: tuple[KeyRule, ...] = KEY_RULES) -> str:
    """A fingerprint of what the key rules make: every rule's keys of a few fixed raw records, made
    into features as any record is, with `KEYS_EPOCH`. A rule added or dropped, or changed in what it
    makes of these records, or a normalizer changed in what it makes of their names, changes it (a
    rule reading what none of them holds needs a probe that does, or an epoch bump); stored with the
    records index once its records hold the keys of these rules (search.resolve.store.
    mark_blocking_keys_current), it tells a full run to write every record's keys again, so the
    real-time path finds old records through new keys."""
    probes = [features_from_document(probe, ("nir",)) for probe in _VERSION_PROBES]
    keys = [f"epoch={KEYS_EPOCH}", *(f"{rule.kind}={key}" for probe in probes for rule in rules for key in rule.keys(probe))]
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def selective_rule(key: str) -> KeyRule | None:
    """The selective (one-sided or gated) rule a key belongs to, if any."""
    return next((rule for rule in SELECTIVE_RULES if key.startswith(rule.prefix or (rule.weak_prefix or "\0",))), None)


def block_bound(key: str, max_block_size: int, max_name_block_size: int) -> int:
    """How many records may share a key before it is too common to block on (a one-sided key's
    block may hold more, as long as `one_sided_pairs` stays within `pair_budget`)."""
    weak_bound = min(max_name_block_size, max_block_size)
    if (rule := selective_rule(key)) and rule.pairs_need:
        return pair_budget(weak_bound) + 1
    return weak_bound if key.startswith(WEAK_PREFIXES) else max_block_size


def pair_budget(weak_bound: int) -> int:
    """The pairs a weak key's block may cost: as many as a full block of `weak_bound` records."""
    return weak_bound * (weak_bound - 1) // 2


# Counts of one block (int) or of many blocks at once (numpy arrays).
Count = TypeVar("Count", int, np.ndarray)


def one_sided_pairs(needing: Count, holders: Count) -> Count:
    """The pairs a one-sided block makes: each of its `needing` records with every other holder.
    An initial among a family's eleven full names costs ten pairs, not the 55 of eleven records:
    bounding the block by its pairs, not its holders, lets "C Sauagy" meet its household."""
    return needing * (holders - needing) + needing * (needing - 1) // 2
