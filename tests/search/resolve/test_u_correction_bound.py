"""u loses the random pairs' own matches as EM's first pass counts them; a first pass fooled by
candidates full of household members must not take out more than records can plausibly share a
person, and every correction is written in the training report (`rcu resolve` prints it). Pure."""

from __future__ import annotations

import numpy as np

from search.resolve.config import MAX_RECORDS_PER_PERSON
from search.resolve.model import random_pair_match_share, u_among_non_matches

ADDRESS = ["address", "same street", "same postcode", "elsewhere"]


def test_a_first_pass_counting_households_as_matches_is_bounded_by_records_per_person() -> None:
    # 2,000 records whose candidates are households: the first pass takes 40,000 of them for one
    # person (20 pairs per record), where six records per person would make at most 5,000.
    records, household_heavy = 2_000, 40_000.0
    share = random_pair_match_share(household_heavy, records)
    assert share == (MAX_RECORDS_PER_PERSON - 1) / (records - 1)
    random_levels = [np.array([60.0, 300.0, 9_640.0])]  # 10,000 random pairs: 60 share a street
    m = [[0.5, 0.2, 0.3]]
    unbounded = u_among_non_matches(random_levels, m, household_heavy / (records * (records - 1) / 2))[0]
    bounded = u_among_non_matches(random_levels, m, share)[0]
    # Unbounded, 0.02 x 10,000 x 0.5 = 100 pairs would go from a level holding 60: u at the floor.
    assert unbounded[0] < 1e-4
    # Bounded, 0.0025 x 10,000 x 0.5 = 12.5 go: u stays near what the 47.5 pairs left say.
    assert bounded[0] > 0.0045
    # A plausible share is not touched by the bound.
    assert random_pair_match_share(500.0, records) == 500.0 / (records * (records - 1) / 2)


def test_every_u_corrected_is_reported_with_the_levels_left_at_the_floor() -> None:
    corrections: dict[str, str] = {}
    random_levels = [np.array([6.0, 300.0, 9_694.0])]
    u_among_non_matches(random_levels, [[0.5, 0.2, 0.3]], 0.002, corrections, [ADDRESS])
    assert corrections["address/same street"].endswith("6 of 6 random pairs taken out as one person, at the smoothing floor")
    assert "4 of 300" in corrections["address/same postcode"] and "floor" not in corrections["address/same postcode"]
