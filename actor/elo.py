"""Elo ratings from match results: a maximum-likelihood Bradley-Terry fit (choix), with errors.

A draw counts as half a win for each side; a win as a whole one. Ratings are on the Elo scale
(400 points = 10:1 odds) and anchored so that `anchor` is at 0. `elo_errors` gives each
rating's standard error, relative to the anchor, from the fit's Fisher information.
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


def elo_errors(
    players: list[str],
    results: list[tuple[int, int, float]],
    ratings: dict[str, float],
    anchor: str | None = None,
) -> dict[str, float]:
    """Standard errors (Elo) of `ratings` (`fit_elo`'s, same `results` and `anchor`).

    Each game between i and j carries p(1 - p) of information on the rating difference (p: the
    fitted expected score), as a win-or-loss game would. A draw varies less than that, so with
    many draws the errors are on the large side, never too small. They are relative to the
    anchor (0 there), or to the mean rating without one. inf: the results cannot place the
    player (no games, or only against players who cannot be placed).
    """
    size = len(players)
    theta = np.array([ratings[name] for name in players]) / ELO_PER_NATURAL_UNIT
    information = np.zeros((size, size))
    for i, j, _ in results:
        p = 1.0 / (1.0 + math.exp(theta[j] - theta[i]))
        weight = p * (1.0 - p)
        information[i, i] += weight
        information[j, j] += weight
        information[i, j] -= weight
        information[j, i] -= weight
    if anchor is not None:
        fixed = players.index(anchor)
        free = [k for k in range(size) if k != fixed]
        covariance = np.zeros((size, size))
        covariance[np.ix_(free, free)] = np.linalg.pinv(information[np.ix_(free, free)])
    else:
        covariance = np.linalg.pinv(information)  # the sum-zero constraint of the mean anchor
    variance = np.diag(covariance).copy()
    played = np.diag(information) > 0
    if anchor is not None:
        played[players.index(anchor)] = True
    errors = np.where(played, np.sqrt(np.maximum(variance, 0.0)), math.inf)
    return {name: float(e * ELO_PER_NATURAL_UNIT) for name, e in zip(players, errors, strict=True)}
