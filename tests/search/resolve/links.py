"""Clustering over links written by hand: (i, j, probability, resting on names alone) per link."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from search.resolve.clustering import Clustering, cluster
from search.resolve.features import RecordFeatures

Link = tuple[int, int, float, bool]


def cluster_links(
    records: list[RecordFeatures], links: list[Link], bar: float, disagree: Callable[[int, int], int] | None = None
) -> Clustering:
    """cluster() over `links` at the match threshold 0.99, names-alone links joining from `bar`."""
    probabilities = np.array([p for *_, p, _ in links])
    return cluster(
        records,
        np.array([(i, j) for i, j, *_ in links]),
        np.log2(probabilities / (1 - probabilities)),
        probabilities,
        threshold=0.99,
        max_cluster_size=20,
        disagree=disagree,
        names_alone=np.array([alone for *_, alone in links]),
        weak_threshold=bar,
    )
