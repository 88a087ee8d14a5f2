"""Elo ratings from match results: a maximum-likelihood Bradley-Terry fit (choix).

A draw counts as half a win for each side; a win as a whole one. Ratings are on the Elo scale
(400 points = 10:1 odds) and anchored so that `anchor` is at 0.
"""

from __future__ import annotations

import math

import choix
import numpy as np

ELO_PER_NATURAL_UNIT = 400.0 / math.log(10.0)


def fit_elo(
    players: list[str],
    results: list[tuple[int, int, float]],
    anchor: str | None = None,
    regularization: float = 0.01,
) -> dict[str, float]:
    """Ratings for `players` from `(i, j, score_of_i)` results, score 1 win, 0.5 draw, 0 loss.

    The small `regularization` keeps ratings finite for a player that never lost or never won.
    """
    comparisons: list[tuple[int, int]] = []
    for i, j, score in results:
        if score not in (0.0, 0.5, 1.0):
            raise ValueError(f"score must be 0, 0.5 or 1, got {score}")
        if score == 1.0:
            comparisons += [(i, j), (i, j)]
        elif score == 0.0:
            comparisons += [(j, i), (j, i)]
        else:
            comparisons += [(i, j), (j, i)]
    strengths = choix.ilsr_pairwise(len(players), comparisons, alpha=regularization)
    ratings = np.asarray(strengths) * ELO_PER_NATURAL_UNIT
    offset = ratings[players.index(anchor)] if anchor is not None else ratings.mean()
    return {name: float(rating - offset) for name, rating in zip(players, ratings, strict=True)}


def expected_score(rating_a: float, rating_b: float) -> float:
    """The expected score of A against B under the Elo model."""
    return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / 400.0))
