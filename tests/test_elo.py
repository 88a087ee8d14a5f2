import numpy as np

from actor.elo import expected_score, fit_elo


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
