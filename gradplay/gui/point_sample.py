"""Which points of a large data set the output map draws: a class-stratified sample that depends
only on the points.

Painting a scatter costs in proportion to its points (measured offscreen on a 600×500 plot, 7 px
dots with one shared brush per class: 3,000 points 3.0 ms a repaint, 10,000 7.5 ms, 20,000
19.7 ms), and 20,000 points of a spiral are one blob anyway. So the map draws at most
MAX_TRAIN_DRAWN training and MAX_TEST_DRAWN test points (together ~3 ms) and says how many of how
many it shows.

Each point has a pseudo-random priority hashed from its coordinates (`priority`), and each class
draws its share of the cap from its points of lowest priority. The same data therefore shows the
same points on every frame and after every reset, and a point added to or removed from one's own
data (a new data set, split anew) leaves the other points drawn as they were.
"""
from __future__ import annotations

import numpy as np

from ..core.dropout import GOLDEN, mix

MAX_TRAIN_DRAWN = 2000
MAX_TEST_DRAWN = 1000


def priority(points: np.ndarray) -> np.ndarray:
    """A pseudo-random uint64 per row of `points` (n × 2 floats), from their bits alone: SplitMix64's
    finaliser (the one dropout's masks use) folded over the two coordinates."""
    bits = np.ascontiguousarray(points, dtype=np.float64).view(np.uint64).reshape(len(points), 2)
    h = np.full(len(points), GOLDEN, dtype=np.uint64)
    for col in bits.T:
        h = mix(h ^ col)
    return h


def stratified_sample(strata: np.ndarray, cap: int, rank: np.ndarray) -> np.ndarray:
    """Sorted indices of at most `cap` rows (`strata`: one stratum label per row, e.g. the class):
    every row when there are no more than `cap`, else each stratum's share in proportion to its
    count (largest remainder, so the shares add up to `cap`), its rows of lowest `rank` first."""
    strata = np.asarray(strata).ravel()
    n = len(strata)
    if n <= cap:
        return np.arange(n)
    _, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    exact = cap * counts / n
    quota = np.floor(exact).astype(np.int64)
    short = cap - int(quota.sum())
    quota[np.argsort(-(exact - quota), kind="stable")[:short]] += 1
    order = np.lexsort((rank, inverse))  # by stratum, then by rank
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picks = [order[s:s + q] for s, q in zip(start, quota)]
    return np.sort(np.concatenate(picks))
