"""Source attributes that behave like identifiers, found in the data at training time.

A national id, a customer number or a membership number carried as a free source attribute is an
identifier whether or not anyone configured it. Three signs, none needing labels:
- it is held by many records, nearly one value per record (many distinct values);
- within candidate pairs (records that already share a name sound, a birth date, a place…) that
  hold it on both sides, it is equal far more often than between two records taken at random;
- among the records sharing one value, clearly different people (other given AND family names)
  are rare: a household's shared account number is not an identifier.
An attribute showing all three is compared as an identifier (its weights learned by EM like the
others) and blocked on; `rcu resolve` names it with the figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations
from typing import Any

import numpy as np

from search.resolve.comparisons import NAME_DIFFERENT, name_orientation
from search.resolve.config import IdentifierDetection
from search.resolve.features import RecordFeatures

MAX_VALUE_LENGTH = 40  # longer values are free text (a note), not identifiers
MAX_SHARING_PAIRS = 20_000  # pairs sharing a value looked at, at most (bounded cost)


def attribute_candidates(documents: Iterable[dict[str, Any]], settings: IdentifierDetection) -> tuple[str, ...]:
    """Attributes held by enough records with nearly one value per record (a cheap first pass)."""
    if not settings.enabled:
        return ()
    holders: Counter[str] = Counter()
    values: dict[str, set[str]] = defaultdict(set)
    total = 0
    for document in documents:
        total += 1
        for name, value in (document.get("attributes") or {}).items():
            text = str(value).strip() if value is not None and not isinstance(value, (dict, list)) else ""
            if text and len(text) <= MAX_VALUE_LENGTH:
                holders[name] += 1
                values[name].add(text)
    return tuple(
        sorted(
            name
            for name, count in holders.items()
            if count >= settings.min_coverage * total and len(values[name]) >= settings.min_distinct_share * count and count >= 2
        )
    )


def detect_identifiers(records: list[RecordFeatures], pairs: np.ndarray, settings: IdentifierDetection) -> dict[str, str]:
    """attribute → why it is used as an identifier, for the candidate attributes held in
    `records[i].attributes` that show the three signs."""
    names = sorted({name for record in records for name in record.attributes})
    found: dict[str, str] = {}
    for name in names:
        values = [record.attributes.get(name, "") for record in records]
        counts = Counter(value for value in values if value)
        held = sum(counts.values())
        chance = sum(count * (count - 1) for count in counts.values()) / max(held * (held - 1), 1)
        both = [(i, j) for i, j in pairs.tolist() if values[i] and values[j]]
        if not both:
            continue
        agreeing = sum(1 for i, j in both if values[i] == values[j])
        within = agreeing / len(both)
        lift = within / chance if chance else float("inf")
        different, sharing = _shared_by_different(records, values, counts)
        shared_by_different = different / sharing if sharing else 0.0
        if lift >= settings.min_lift and shared_by_different <= settings.max_shared_by_different and agreeing > 0:
            found[name] = (
                f"{len(counts)} distinct values on {held} records; equal in {within:.0%} of {len(both)} candidate pairs "
                f"({'∞' if lift == float('inf') else f'{lift:.0f}'}× chance); {different} of {sharing} record pairs sharing a value are clearly different people"
            )
    return found


def _shared_by_different(records: list[RecordFeatures], values: list[str], counts: Counter[str]) -> tuple[int, int]:
    """(pairs of clearly different people, pairs looked at) among records sharing a value."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, value in enumerate(values):
        if value and counts[value] > 1:
            groups[value].append(index)
    different = sharing = 0
    for members in groups.values():
        for i, j in combinations(members, 2):
            given, family = name_orientation(records[i], records[j])
            sharing += 1
            different += given == NAME_DIFFERENT and family == NAME_DIFFERENT
            if sharing >= MAX_SHARING_PAIRS:
                return different, sharing
    return different, sharing


def use_identifiers(records: list[RecordFeatures], names: Iterable[str]) -> None:
    """Compare and block on these attributes as identifiers from now on."""
    names = tuple(names)
    for record in records:
        for name in names:
            value = record.attributes.get(name)
            if value:
                record.identifiers[name] = value
