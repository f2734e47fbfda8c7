"""Term frequencies: how common each value of a name, an e-mail or a phone is in the data resolved.

Exact agreement on a frequent value weighs less than on a rare one (MatchModel.tf_adjustment). A
name's frequency is counted in records; a value that belongs to one person (a mailbox, a line) is
counted in people holding it — one customer's five records holding his e-mail do not make it common,
a placeholder held by fifty people does."""

from __future__ import annotations

from collections import Counter

from search.resolve.comparisons import Comparison, within_a_slip
from search.resolve.config import OWN_NAME_FAMILIES, SLIP_SOURCE_RATIO
from search.resolve.features import RecordFeatures

PERSONAL_VALUES = ("email", "phone")


def value_counts(records: list[RecordFeatures], comparisons: tuple[Comparison, ...]) -> dict[str, dict[str, int]]:
    """How many records hold each value of the term-frequency features (values seen twice or more);
    for personal values (PERSONAL_VALUES), how many people: see value_holders."""
    counts: dict[str, dict[str, int]] = {}
    for comparison in comparisons:
        feature = comparison.term_frequency
        if feature:
            counter = Counter(getattr(record, feature) for record in records)
            counter.pop("", None)
            repeated = {value: count for value, count in counter.items() if count > 1}
            counts[feature] = value_holders(records, feature, repeated) if feature in PERSONAL_VALUES else repeated
    return counts


def value_holders(records: list[RecordFeatures], feature: str, repeated: dict[str, int]) -> dict[str, int]:
    """How many people hold each repeated value: its distinct full names (given and family sounds,
    in either order); a record without both names counts as one more holder unless one of the
    full names holding the value contains its name. A shared placeholder stays frequent, one
    person's e-mail on five records is held once."""
    full: dict[str, set[tuple[str, str]]] = {}
    written: dict[str, set[tuple[str, str]]] = {}
    partial: dict[str, list[str]] = {}
    for record in records:
        value = getattr(record, feature)
        if value not in repeated:
            continue
        if record.given_ph and record.family_ph:
            full.setdefault(value, set()).add((record.given_ph, record.family_ph))
            written.setdefault(value, set()).add((record.given or record.given_ph, record.family or record.family_ph))
        else:
            partial.setdefault(value, []).append(record.given_ph or record.family_ph)
    holders = {}
    for value in repeated:
        names = full.get(value, set())
        known = {name for pair in names for name in pair}
        unexplained = [name for name in partial.get(value, []) if not name or name not in known]
        count = _people_named(written.get(value, set())) + len(set(n for n in unexplained if n)) + sum(1 for n in unexplained if not n)
        if count > 1:
            holders[value] = count
    return holders


def _people_named(names: set[tuple[str, str]]) -> int:
    """How many people the full names (given and family names as written, folded) holding one
    personal value are: one per given name. One person's family name changes (a marriage, a divorce) or is mistyped from one
    record to the next while the given name stays; the people sharing a line or a placeholder
    (a household, strangers) have given names of their own. Names written swapped ("Marie
    Mauilaud" / "Mauilaud Marie") are one person. Counting full names made one woman's mobile under
    her maiden and married names "held by two people", which took a bit off the very agreement
    that tells her records apart from a namesake's (bench.split_parts, married name + one phone).
    Given names are compared as written, not by sound: Jean and Jeanne, Michel and Michèle sound
    alike and are a couple sharing a mailbox or a line far more often than one person's slip."""
    people = {given: {given} for given, _ in names}
    for given, family in names:
        if (family, given) in names and people[given] is not people[family]:
            merged = people[given] | people[family]
            people.update(dict.fromkeys(merged, merged))
    return len({id(person) for person in people.values()})


def given_names_of_their_own(records: list[RecordFeatures]) -> list[str]:
    """The given names written under at least OWN_NAME_FAMILIES family names (by sound): names
    parents give, not one person's misspelling, which stays within the family that holds it —
    unless the data is large and typos frequent, when a slip of a common name reaches that many
    families too: a name a slip away from one written under SLIP_SOURCE_RATIO times more families
    is that name's slip, not a name of its own."""
    families: dict[str, set[str]] = {}
    sounds: dict[str, str] = {}
    for record in records:
        if record.given and record.family_ph:
            families.setdefault(record.given, set()).add(record.family_ph)
            sounds[record.given] = record.given_ph
    counts = {name: len(held) for name, held in families.items()}
    candidates = [name for name, count in counts.items() if count >= OWN_NAME_FAMILIES]
    sources = sorted((name for name in candidates if counts[name] >= SLIP_SOURCE_RATIO * OWN_NAME_FAMILIES), key=counts.__getitem__)
    return sorted(name for name in candidates if not _slip_of_a_commoner_name(name, sources, counts, sounds))


def _slip_of_a_commoner_name(name: str, sources: list[str], counts: dict[str, int], sounds: dict[str, str]) -> bool:
    """Whether a name written under SLIP_SOURCE_RATIO times more families (`sources`, rarest
    first) is a slip away from `name` or sounds the same."""
    floor = SLIP_SOURCE_RATIO * counts[name]
    return any(
        counts[source] >= floor and (sounds[source] == sounds[name] or within_a_slip(source, name))
        for source in sources
        if abs(len(source) - len(name)) <= 2
    )
