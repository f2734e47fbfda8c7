"""Never-merge rules checked against the data before they are enforced.

Each rule stands on a premise about people: other given names at one address and family name are
another member of the household, and household members are born on different days (twins are a
few percent of siblings); one full name at one address with another birth date is a namesake,
and namesakes under one roof are rare. When a data set's own candidate pairs contradict a premise
— most "household members" share their birth date, or birth dates disagree far more often than
namesakes can explain — the field is noisy in that data (a replaced given name, a default birth
date), and enforcing the rule would cut its customers in two. The rule is then left to the match
weights for this data, and the run says so. No labels are needed: only the pairs' comparison levels.
"""

from __future__ import annotations

import numpy as np

from search.resolve.comparisons import NAME_DIFFERENT, NULL, Comparison
from search.resolve.config import ResolutionConfig

SAME = (0, 1)  # exact or same-sounding name; same or nearly the same street in the same town
BIRTH_EXACT, BIRTH_DIFFERENT = 0, (2, 3)
RULE_FIELDS = {"different_given_names": "given_name", "different_birth_dates": "birth_date"}  # the field each calibrated rule reads


def relaxed_never_merge_rules(vectors: np.ndarray, comparisons: tuple[Comparison, ...], config: ResolutionConfig) -> dict[str, str]:
    """The never-merge rules this data contradicts, each with the figures that say so."""
    settings = config.never_merge_calibration
    if not settings.enabled or not len(vectors):
        return {}
    column = {c.name: i for i, c in enumerate(comparisons)}
    given, family = vectors[:, column["given_name"]], vectors[:, column["family_name"]]
    birth, address = vectors[:, column["birth_date"]], vectors[:, column["address"]]
    one_roof = np.isin(family, SAME) & np.isin(address, SAME) & (birth != NULL)
    relaxed: dict[str, str] = {}

    household = one_roof & (given == NAME_DIFFERENT)
    born_same_day = int(np.count_nonzero(birth[household] == BIRTH_EXACT))
    total = int(np.count_nonzero(household))
    if "different_given_names" in config.never_merge and total >= settings.min_pairs and born_same_day / total > settings.twins_share:
        relaxed["different_given_names"] = (
            f"{born_same_day} of {total} pairs with other given names at one address share their birth date "
            f"(more than {settings.twins_share:.0%}): given names are noisy here, not household members"
        )

    # One full name under one roof is not always one person: a son named after his father shares the
    # name, the address and the landline, a generation apart ("père et fils"). A birth date that
    # disagrees there is noise only where what a household does not share says the two records are
    # one person — the same e-mail, or an identifier — so only those pairs tell noise from namesakes.
    vouched = one_roof & np.isin(given, SAME) & _personal_agreement(vectors, column)
    born_apart = int(np.count_nonzero(np.isin(birth[vouched], BIRTH_DIFFERENT)))
    total = int(np.count_nonzero(vouched))
    if "different_birth_dates" in config.never_merge and total >= settings.min_pairs and born_apart / total > settings.namesakes_share:
        relaxed["different_birth_dates"] = (
            f"{born_apart} of {total} pairs with one full name at one address and one e-mail or identifier have other birth dates "
            f"(more than {settings.namesakes_share:.0%}): birth dates are noisy here, not namesakes"
        )
    return relaxed


def _personal_agreement(vectors: np.ndarray, column: dict[str, int]) -> np.ndarray:
    """Pairs agreeing exactly on what members of one household do not share: an e-mail, an identifier."""
    agree = vectors[:, column["email"]] == 0
    for name, index in column.items():
        if name.startswith("id:"):
            agree |= vectors[:, index] == 0
    return agree


def enforced_never_merge(config: ResolutionConfig, relaxed: dict[str, str]) -> frozenset[str]:
    return frozenset(config.never_merge) - relaxed.keys()


def never_merge_pairs(vectors: np.ndarray, comparisons: tuple[Comparison, ...], rules: frozenset[str]) -> np.ndarray:
    """For each pair (a row of comparison levels), whether an enforced never-merge rule calls its
    records two people (comparisons.clearly_different_people, read from the levels; the
    civility rule needs more than levels and is left out). Clustering never joins such pairs, so
    EM treats them as known non-matches: otherwise its "match" class learns the household (one
    family name, one street, any given name) instead of the person, and weighs a different given
    name, birth date, phone or e-mail far too lightly against every other pair."""
    column = {c.name: i for i, c in enumerate(comparisons)}
    birth = vectors[:, column["birth_date"]]
    identified = np.zeros(len(vectors), dtype=bool)
    near_identifier = np.zeros(len(vectors), dtype=bool)
    for name, index in column.items():
        if name.startswith("id:"):
            identified |= vectors[:, index] == 0
            near_identifier |= vectors[:, index] == 1
    different = np.zeros(len(vectors), dtype=bool)
    if "different_birth_dates" in rules:
        different |= np.isin(birth, BIRTH_DIFFERENT)
    if "different_given_names" in rules:
        contact = near_identifier.copy()
        for name, same in (("email", (0, 1)), ("phone", (0, 1)), ("loyalty_card", (0,))):
            contact |= np.isin(vectors[:, column[name]], same)
        different |= (vectors[:, column["given_name"]] == NAME_DIFFERENT) & ~((birth == BIRTH_EXACT) & contact)
    return different & ~identified
