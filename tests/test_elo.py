import numpy as np
import pytest

from actor.elo import elo_errors, expected_score, fit_elo


def simulate(true_ratings: list[float], games_per_pair: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    results = []
    for i in range(len(true_ratings)):
        for j in range(i + 1, len(true_ratings)):
            p = expected_score(true_ratings[i], true_ratings[j])
            for _ in range(games_per_pair):
                results.append((i, j, 1.0 if rng.random() < p else 0.0))
    return results


def test_fit_recovers_known_ratings() -> None:
    true_ratings = [0.0, 200.0, 400.0, 600.0]
    players = ["random", "a", "b", "c"]
    ratings = fit_elo(players, simulate(true_ratings, 400), anchor="random")
    assert ratings["random"] == 0.0
    for name, truth in zip(players, true_ratings, strict=True):
        assert abs(ratings[name] - truth) < 60, (name, ratings[name], truth)


def test_draws_between_equals_give_equal_ratings() -> None:
    ratings = fit_elo(["x", "y"], [(0, 1, 0.5)] * 50)
    assert abs(ratings["x"] - ratings["y"]) < 1e-6


def test_undefeated_player_stays_finite_and_on_top() -> None:
    ratings = fit_elo(["weak", "strong"], [(1, 0, 1.0)] * 20, anchor="weak")
    assert 0 < ratings["strong"] < 5000


def test_errors_give_95_percent_intervals_that_hold_the_truth() -> None:
    true_ratings = [0.0, 150.0, 300.0, 450.0]
    players = ["random", "a", "b", "c"]
    covered, trials = 0, 200
    for seed in range(trials):
        results = simulate(true_ratings, 30, seed=seed)
        ratings = fit_elo(players, results, anchor="random")
        errors = elo_errors(players, results, ratings, anchor="random")
        assert errors["random"] == 0.0
        covered += sum(
            abs(ratings[name] - truth) <= 1.96 * errors[name]
            for name, truth in zip(players[1:], true_ratings[1:], strict=True)
        )
    assert 0.90 <= covered / (3 * trials) <= 0.99


def test_errors_shrink_with_the_square_root_of_the_games() -> None:
    players = ["random", "a", "b"]
    few = simulate([0.0, 100.0, 200.0], 50, seed=1)
    many = few * 16  # the same scores, sixteen times the games
    errors = [elo_errors(players, r, fit_elo(players, r)) for r in (few, many)]
    for name in players:
        assert 15 < errors[0][name] < 60, errors  # 100 games each, 100 Elo apart
        assert errors[1][name] == pytest.approx(errors[0][name] / 4, rel=0.02)


def test_a_player_without_games_cannot_be_placed() -> None:
    results = [(0, 1, 1.0), (1, 0, 0.5)] * 10
    ratings = fit_elo(["x", "y", "idle"], results, anchor="x")
    errors = elo_errors(["x", "y", "idle"], results, ratings, anchor="x")
    assert errors["idle"] == float("inf") and 0 < errors["y"] < 400
