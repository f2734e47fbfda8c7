"""Which links rest on a name alone: the pairs of records whose only agreement, beside their names,
is a birth year or a town.

A name is not an identifier: two "Claude Gomez" in one country are often two people. A link that
rests on names (the call-center note holding a name, a loyalty record holding a name and a shop's
card) may join a customer only when no other customer fits it as well (search.resolve.clustering).
"""

from __future__ import annotations

import numpy as np

from search.resolve.comparisons import NULL, Comparison

NAME_COMPARISONS = frozenset({"given_name", "family_name"})
# Levels that, beside a name, do not tell a person from a namesake: a plain disagreement (a card of
# another shop, another e-mail), a birth year, a town or a département (a common town holds many
# namesakes), a postcode where each holds his own street (FEBRL4's two "Lachlan Nguyen"), one
# mailbox name at two providers. Every
# other level of the other comparisons — a birth date exact or one keystroke off, an e-mail, a
# phone, a card or an identifier exact or one keystroke off, a street, a postcode where a street is
# missing — is evidence a namesake would not share.
NAMESAKE_LEVELS = frozenset(
    {
        "different",
        "same year",
        "same postcode, another street",
        "same town or département",
        "elsewhere",
        # jean.dupont@ at two providers: a namesake's mailbox as often as one person's old one.
        "same mailbox, another provider",
    }
)


# Levels that, beside names alone, count as a plain difference: the link does not join from the
# weak-link bar (search.resolve.clustering), only from the match threshold and when one customer
# fits, as when the field plainly differs. One mailbox name at two providers is evidence for (the
# model weighs it), but of a person's old address as of a namesake's own choice of the same word:
# before it had a level of its own it was "different", and it must not by itself lower the bar a
# name-only link joins from. With a telling field agreeing (a phone, a street) the link does not
# rest on names alone and this does not apply; a birth year or a town beside it is no such field.
WEAK_LINK_BARRING_LEVELS = frozenset({"same mailbox, another provider"})


# A postcode with a street missing on a side: a place, where a namesake lives as often as in the
# town (a French postcode is a town or a quarter of one, some 10,000 people on average). Beside a
# name it corroborates a link (the model weighs it), unless the customers it would join live at two
# streets of it (search.resolve.clustering: NAMESAKES_OF_ONE_POSTCODE).
PLACE_LEVELS = frozenset({"same postcode"})


def names_alone(vectors: np.ndarray, comparisons: tuple[Comparison, ...]) -> np.ndarray:
    """For each pair (a row of comparison levels), whether nothing but names, a birth year or a town agrees."""
    return _uncorroborated(vectors, comparisons, NAMESAKE_LEVELS)


def names_and_place(vectors: np.ndarray, comparisons: tuple[Comparison, ...]) -> np.ndarray:
    """For each pair, whether nothing but names and a place (a postcode, a town, a birth year)
    agrees: names_alone, or a postcode where a side holds no street besides."""
    return _uncorroborated(vectors, comparisons, NAMESAKE_LEVELS | PLACE_LEVELS)


def _uncorroborated(vectors: np.ndarray, comparisons: tuple[Comparison, ...], uninformative: frozenset[str]) -> np.ndarray:
    corroborated = np.zeros(len(vectors), dtype=bool)
    for column, comparison in enumerate(comparisons):
        if comparison.name in NAME_COMPARISONS:
            continue
        telling = np.array([level not in uninformative for level in comparison.levels])
        levels = vectors[:, column]
        present = levels != NULL
        corroborated[present] |= telling[levels[present]]
    return ~corroborated
