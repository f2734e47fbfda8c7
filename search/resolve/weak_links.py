"""The bar a link resting on names alone joins its one fitting customer from, estimated from the data.

A link whose only evidence is a name (a birth year, a town) is a guess: two "Claude Gomez" are often
two people. The match model's probability for such a pair already weighs how common each name is
(term frequencies); what it cannot say is how many of these guesses may be wrong before the
customers stop being trustworthy. That is a budget, stated once (`weak_link_error_budget`): the
expected share of wrong links among the weak links joined. The bar is the lowest probability at
which the candidate weak links from it up — names alone, no field plainly different — are wrong
no more often than the budget on average, their own probabilities being their chances of being
right (1 - p wrong each). Data full of near-certain name links (rare names, a birth year and a
town) gets a lower bar, data of common names and bare records a higher one.

The bar is estimated where the model is trained (a full run, or a partitioned run's sample) and
kept in the model, so real-time resolution (search.resolve.realtime) decides as the full run did.
"""

from __future__ import annotations

import numpy as np

from search.resolve.config import DEFAULT_WEAK_LINK_BAR, MIN_WEAK_LINK_PAIRS, ResolutionConfig
from search.resolve.features import RecordFeatures
from search.resolve.model import MatchModel


def estimate_weak_link_bar(probabilities: np.ndarray, budget: float, match_threshold: float) -> float | None:
    """The lowest probability p such that the candidate weak links from p up are wrong, on average,
    at most `budget` of the time, and a link at p itself at most `budget_floor(budget)`; never above
    `match_threshold` nor below even odds. Links at match_threshold or above are in the average:
    they join through the same guard as the others (only when one customer fits), so they are weak
    links joined, which is what the budget counts; the floor, not their absence, keeps them from
    paying for a mass of doubtful links. Links of one probability (name-only pairs of one name share
    it) are all in or all out, as the bar lets them all through. None when fewer than
    MIN_WEAK_LINK_PAIRS links say anything (the documented default applies)."""
    if len(probabilities) < MIN_WEAK_LINK_PAIRS:
        return None
    values, counts = np.unique(probabilities, return_counts=True)
    values, counts = values[::-1], counts[::-1]  # strongest first, one entry per probability
    mean_error = np.cumsum(counts * (1.0 - values)) / np.cumsum(counts)
    within = np.nonzero((mean_error <= budget) & (values >= budget_floor(budget)))[0]
    if not len(within):
        return match_threshold
    # Errors only grow as weaker links come in, so the last tie class within the budget is the bar.
    return float(np.clip(values[within[-1]], 0.5, match_threshold))


# The bound: whatever the mix of links, the bar is never below budget_floor (1 - 2 x budget: 0.97 at
# the default budget 0.015, session 11's constant bar measured on bench.corruption), nor above the
# match threshold. Name-only links at or above the threshold are in the average (session 13), so a
# mass of them can spend the budget on weaker links; the floor bounds what they can let in, so the
# worst case is session 11's bar.
def budget_floor(budget: float) -> float:
    """The lowest probability a link may join from on names alone: wrong at most twice the budget.
    Twice, because links whose errors spread evenly from none up to e average e / 2: a budget met
    that way has its weakest link wrong 2 x budget of the time, and a bar lower than that would be
    paid for by links stronger than the even spread (5,000 near-certain links let 300 links one in
    four wrong through, with the average still within the budget)."""
    return 1.0 - 2.0 * budget


def weak_link_bar(config: ResolutionConfig, estimated: float | None) -> float:
    """The bar in force: the configured weak_link_threshold when set, else the model's estimate,
    else the documented default; never above match_threshold."""
    if config.weak_link_threshold is not None:
        bar = config.weak_link_threshold
    else:
        bar = estimated if estimated is not None else DEFAULT_WEAK_LINK_BAR
    return min(bar, config.match_threshold)


# A name alone, priced by how many people hold it. A sparse record (a name and one shop's card, a
# name and a postcode) that fits exactly one customer is that customer's unless a namesake of the
# same full name exists: the chance it is someone else's is the chance such a person exists, which
# the data estimate. With people drawing the two parts of their names independently, as often as
# the records hold them, the expected number of people holding "given family" is
#     namesakes = holders(given) x holders(family) / people
# with holders = records holding the value / records per person, people = records / records per
# person (model.records_per_person: records over distinct full names). The customer counts as one holder
# of each part: a name seen on one person only may still be another's, and the estimate errs towards
# "someone else". The record is the customer's rather than one of the namesakes' with odds 1 to
# namesakes. "Marie Martin" in 5,000 people (150 Marie, 60 Martin): 1.8 namesakes, 0.36 right; a
# given name of 150 people beside a family name of one: 0.03, 0.97; two rare parts: 0.0002. The
# model's probability for the same pair leaves this out: its term-frequency bonus is capped
# (config.MAX_TF_BONUS_BITS, measured for pairs in general) and its prior is the share of matches
# among candidate pairs, not the number of people a name could belong to.
def one_holder_odds(model: MatchModel, records: list[RecordFeatures], pairs: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """For each pair, the chance that its two records holding one full name are one person, from
    the name's frequency alone (above): NaN where the pair is not `eligible`, does not hold the
    same folded given and family names, or the model counted no values (small data)."""
    right = np.full(len(pairs), np.nan)
    given, family = model.term_frequencies.get("given"), model.term_frequencies.get("family")
    if given is None or family is None or not model.records:
        return right
    per_person = max(model.records_per_person, 1.0)
    for k in np.nonzero(eligible)[0].tolist():
        x, y = records[pairs[k, 0]], records[pairs[k, 1]]
        if not x.given or not x.family or x.given != y.given or x.family != y.family:
            continue
        namesakes = given.get(x.given, 1) * family.get(x.family, 1) / (model.records * per_person)
        right[k] = 1.0 / (1.0 + namesakes)
    return right


def priced_by_name_rarity(probabilities: np.ndarray, right: np.ndarray, budget: float, threshold: float) -> np.ndarray:
    """The probabilities clustering decides weak links with: a link whose full name is so rare that
    a namesake is no likelier than the weak links' error budget (`one_holder_odds` at 1 - budget or
    above) counts as at least that sure, never at the match threshold (it still joins only the one
    customer it fits, from the weak-link bar, and never outvotes a never-merge rule as a link above
    the threshold does). The budget and not the bar's floor (1 - 2 x budget): the floor lets a link
    be wrong twice the budget because stronger links average it down, and a link priced on its
    name alone has nothing beside it to average with."""
    priced = probabilities.copy()
    rare = np.nan_to_num(right, nan=0.0) >= 1.0 - budget
    below = np.nextafter(threshold, 0.0)
    priced[rare] = np.maximum(probabilities[rare], np.minimum(right[rare], below))
    return priced
