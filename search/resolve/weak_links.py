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
