"""The documented default weights a small data set resolves with (config.DEFAULT_LEVELS): coherent
as they are written, not silently rescaled, and ordered as the evidence is. Pure: no node."""

from __future__ import annotations

import math

import pytest

from search.resolve.config import DEFAULT_LEVELS

# The single "same postcode" level the two postcode levels were split from: (m, u) = (0.05, 0.005).
OLD_SAME_POSTCODE_BITS = math.log2(0.05 / 0.005)


@pytest.mark.parametrize("comparison", sorted(DEFAULT_LEVELS))
def test_default_m_and_u_are_distributions_as_written(comparison: str) -> None:
    levels = DEFAULT_LEVELS[comparison]
    assert sum(m for m, _ in levels) == pytest.approx(1.0, abs=1e-4)
    assert sum(u for _, u in levels) == pytest.approx(1.0, abs=1e-4)


def test_default_address_weights_follow_how_much_of_the_address_agrees() -> None:
    bits = [math.log2(m / u) for m, u in DEFAULT_LEVELS["address"]]
    same_street, close_street, street_missing, another_street, same_town, elsewhere = bits
    assert same_street > close_street > street_missing >= another_street >= same_town > elsewhere
    # A namesake shares a postcode with another street (evidence.NAMESAKE_LEVELS): by default it
    # counts no more than the postcode alone did before the split.
    assert another_street <= OLD_SAME_POSTCODE_BITS
    assert street_missing <= OLD_SAME_POSTCODE_BITS + 1e-9
