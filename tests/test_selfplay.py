"""Self-play: records replay legally through the engine, counters add up, tree reuse keeps the
chosen subtree's statistics and saves evaluations, a real ONNX Runtime model can drive it."""

from __future__ import annotations

import numpy as np
import pytest
from actor_models import make_model

from actor.mcts import EXPANDED, Forest, alphazero_search, build_kernels, pool_sizes
from actor.selfplay import SelfPlay, SelfPlayConfig, default_config
from engine import EngineContext, get_game, list_games


def fixed_evaluator(num_actions: int):
    """The same priors for every position (action 0 most liked) and small nonzero values."""
    logits = np.linspace(2.0, 0.0, num_actions, dtype=np.float32)

    def evaluate(planes: np.ndarray):
        batch = planes.shape[0]
        values = np.linspace(-0.3, 0.3, batch, dtype=np.float32).reshape(batch, 1)
        return np.tile(logits, (batch, 1)), values

    return evaluate


def position_evaluator(game, seed: int = 0):
    """A fixed random linear network: like a real one, its answer depends on the position alone
    (and its planes), not on the batch."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(game.plane_shape))
    weights = rng.normal(size=(size, game.num_actions)).astype(np.float32)
    value_weights = (0.3 * rng.normal(size=size)).astype(np.float32)

    def evaluate(planes: np.ndarray):
        flat = planes.reshape(planes.shape[0], -1)
        return flat @ weights, np.tanh(flat @ value_weights).reshape(-1, 1)

    return evaluate


def play_games(selfplay: SelfPlay, evaluator, count: int, max_steps: int = 100_000) -> list:
    records = []
    for _ in range(max_steps):
        records += selfplay.step(evaluator)
        if len(records) >= count:
            return records
    raise AssertionError("self-play made no progress")


def check_record(name: str, record, simulations: int, opening: int = 0) -> None:
    """Legal moves to the recorded end; the first `opening` moves unsearched (all-zero rows)."""
    ctx = EngineContext(name)
    result = ctx.reset()
    for ply, action in enumerate(record.moves):
        visits = record.visits[ply]
        if ply < opening:
            assert (visits == 0).all() and record.root_values[ply] == 0
            result = ctx.step(result.state, int(action))
            continue
        assert visits.sum() == pytest.approx(1.0, abs=1e-5)
        assert (visits[~result.legal_mask] == 0).all()  # visits only on legal moves
        assert visits[action] > 0  # the move played was searched
        assert -1.0 <= record.root_values[ply] <= 1.0
        result = ctx.step(result.state, int(action))  # raises on an illegal move
    assert result.terminal
    assert record.outcome == result.winner


@pytest.mark.parametrize("name", list_games())
def test_records_replay_legally(name):
    game = get_game(name)
    config = default_config(game, games_in_parallel=6, simulations=12, temperature_moves=4)
    selfplay = SelfPlay(game, config, seed=1)
    records = play_games(selfplay, None, 6)
    searched = 0
    for record in records:
        opening = int(np.argmax(record.visits.sum(axis=1) > 0))  # the game's default openings
        assert opening <= config.opening_moves
        check_record(name, record, 12, opening)
        searched += record.num_moves - opening
    assert selfplay.games == len(records)
    assert selfplay.nn_evals >= selfplay.positions  # at least one evaluation per move...
    assert selfplay.batches > 0 and 0 < selfplay.batch_fill <= 1.0
    assert searched <= selfplay.positions


def test_temperature_gives_varied_openings_and_greedy_play_is_greedy():
    game = get_game("tictactoe")
    varied = SelfPlay(game, default_config(game, games_in_parallel=16, simulations=20), seed=2)
    openings = {tuple(r.moves[:2]) for r in play_games(varied, None, 16)}
    assert len(openings) > 3
    config = default_config(game, games_in_parallel=4, simulations=40, temperature_moves=0)
    greedy = SelfPlay(game, config, seed=3)
    for record in play_games(greedy, None, 4):
        for ply, action in enumerate(record.moves):
            assert record.visits[ply, action] == record.visits[ply].max()


def test_final_temperature_samples_moves_after_the_opening():
    game = get_game("connect4")
    config = default_config(
        game, games_in_parallel=8, simulations=30, temperature_moves=0, final_temperature=1.0
    )
    records = play_games(SelfPlay(game, config, seed=5), None, 8)
    not_most_visited = sum(
        record.visits[ply, action] < record.visits[ply].max()
        for record in records
        for ply, action in enumerate(record.moves)
    )
    assert not_most_visited > 10  # at temperature 0 this count is 0 (the test above)


def test_a_tiny_final_temperature_plays_the_most_visited_move():
    game = get_game("connect4")  # 7 moves, 14 visits: every share^2000 underflows to 0
    config = default_config(
        game, games_in_parallel=8, simulations=14, temperature_moves=0, final_temperature=5e-4
    )
    for record in play_games(SelfPlay(game, config, seed=6), None, 8):
        for ply, action in enumerate(record.moves):
            assert record.visits[ply, action] == record.visits[ply].max()


@pytest.mark.parametrize("name", list_games())
def test_random_openings_start_games_off_the_beaten_track(name):
    game = get_game(name)
    limit = 9 if name == "tictactoe" else 12  # tictactoe: random moves that would end the game
    config = default_config(  # stop the opening early (the limit equals the longest game)
        game, games_in_parallel=4, simulations=10, temperature_moves=0, opening_moves=limit
    )
    selfplay = SelfPlay(game, config, seed=7)
    records = play_games(selfplay, fixed_evaluator(game.num_actions), 24)  # slots reused
    lengths = []
    for record in records:
        opening = int(np.argmax(record.visits.sum(axis=1) > 0))  # the first searched move
        assert opening <= limit
        check_record(name, record, 10, opening)
        lengths.append(opening)
    assert len(set(lengths)) >= 4  # 0..limit, uniformly
    assert len({tuple(r.moves[:3]) for r in records}) >= 4  # the fixed evaluator alone: 1
    config = default_config(
        game, games_in_parallel=4, simulations=10, temperature_moves=0, opening_moves=0
    )
    for record in play_games(SelfPlay(game, config, seed=7), fixed_evaluator(game.num_actions), 8):
        assert (record.visits.sum(axis=1) > 0).all()  # 0: every move searched


@pytest.mark.parametrize("name", list_games())
def test_reroot_keeps_the_chosen_subtree_statistics(name):
    game = get_game(name)
    kernels = build_kernels(game, False)
    forest = Forest.allocate(game, 1, *pool_sizes(game, 300))
    alphazero_search(game, game.initial_state(), 300, None, forest=forest)
    children = forest.children(0, 0)
    child = int(children[np.argmax(forest.visits[0, children])])
    grandchildren = forest.children(0, child)
    before_visits = int(forest.visits[0, child])
    before_value = float(forest.value_sum[0, child])
    before_grand = forest.visits[0, grandchildren].copy()
    before_grand_values = forest.value_sum[0, grandchildren].copy()
    child_state = forest.states[0, forest.state_row[0, child]].copy()
    scratch = Forest.allocate(game, 1, forest.visits.shape[1], forest.states.shape[1])
    order = np.zeros(forest.visits.shape[1], np.int32)
    kernels.reroot(forest.arrays(), 0, child, scratch.arrays(), order)
    assert forest.visits[0, 0] == before_visits
    assert forest.value_sum[0, 0] == pytest.approx(-before_value)  # now the root player's view
    assert np.array_equal(forest.states[0, forest.state_row[0, 0]], child_state)
    new_children = forest.children(0, 0)
    assert np.array_equal(forest.visits[0, new_children], before_grand)
    assert np.allclose(forest.value_sum[0, new_children], before_grand_values)
    assert (forest.parent[0, new_children] == 0).all()
    assert forest.node_count[0] <= before_visits * game.num_actions + 1


def test_tree_reuse_saves_evaluations():
    game = get_game("connect4")
    evals = {}
    for reuse in (True, False):
        config = default_config(game, games_in_parallel=8, simulations=60, tree_reuse=reuse)
        selfplay = SelfPlay(game, config, seed=4)
        play_games(selfplay, None, 8)
        evals[reuse] = selfplay.nn_evals / selfplay.positions
    assert evals[True] < 0.9 * evals[False]
    assert evals[False] > 30  # without reuse each move pays for its simulations (less terminals)


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        default_config("tictactoe", simulations=0)
    with pytest.raises(ValueError):
        default_config("tictactoe", dirichlet_fraction=1.5)
    with pytest.raises(ValueError, match="final_temperature"):
        default_config("tictactoe", final_temperature=-0.5)
    with pytest.raises(ValueError, match="opening_moves"):
        default_config("tictactoe", opening_moves=-1)
    with pytest.raises(ValueError, match="unknown"):
        default_config("tictactoe", no_such_setting=3)
    with pytest.raises(ValueError):
        SelfPlay(get_game("tictactoe"), SelfPlayConfig(games_in_parallel=0))


@pytest.mark.parametrize("setting", ["c_puct", "dirichlet_alpha"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0])
def test_non_finite_search_constants_are_refused(setting: str, value: float) -> None:
    """NaN or inf pass a `<= 0` check, so they are refused on their own, naming the setting:
    NaN noise would make numba's gamma draw spin forever (self-play hanging with the actor still
    serving), a NaN c_puct would make every search play the first move."""
    with pytest.raises(ValueError, match=setting):
        default_config("connect4", **{setting: value})


def test_selfplay_with_a_real_onnx_model(tmp_path):
    import onnxruntime as ort

    game = get_game("tictactoe")
    path = make_model(tmp_path / "tiny.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch_sizes = []

    def evaluator(planes):
        batch_sizes.append(planes.shape[0])
        policy, value = session.run(["policy", "value"], {"planes": planes})
        return policy, value

    config = default_config(game, games_in_parallel=8, simulations=16)
    selfplay = SelfPlay(game, config, seed=5)
    for record in play_games(selfplay, evaluator, 8):
        check_record("tictactoe", record, 16)
    assert max(batch_sizes) == 8  # one leaf per game per call
    assert selfplay.nn_evals == sum(batch_sizes)


@pytest.mark.parametrize("name", list_games())
def test_every_expanded_node_counts_its_own_visit_plus_its_children(name):
    """Between steps (a batch pending, virtual losses in place), after moves, reroots and
    restarts: visits(node) == 1 + sum(visits(children)) and |value_sum| <= visits."""
    game = get_game(name)
    config = default_config(game, games_in_parallel=5, simulations=24, leaves_per_tree=2)
    selfplay = SelfPlay(game, config, seed=7)
    forest = selfplay.forest
    checked = 0
    for step in range(400):
        selfplay.step(fixed_evaluator(game.num_actions))
        if step % 37:
            continue
        for t in range(config.games_in_parallel):
            for node in range(int(forest.node_count[t])):
                if forest.kind[t, node] != EXPANDED:
                    continue
                children = forest.children(t, node)
                assert forest.visits[t, node] == 1 + forest.visits[t, children].sum()
                assert abs(forest.value_sum[t, node]) <= forest.visits[t, node] + 1e-3
                assert (forest.parent[t, children] == node).all()
                checked += 1
    assert checked > 50
    assert selfplay.positions > 0


def test_bad_evaluator_answers_are_refused_and_play_goes_on():
    game = get_game("tictactoe")
    selfplay = SelfPlay(game, default_config(game, games_in_parallel=4, simulations=8), seed=1)
    good = fixed_evaluator(game.num_actions)
    selfplay.step(good)

    def not_finite(planes):
        logits, values = good(planes)
        logits[0, 3] = np.nan
        return logits, values

    def wrong_shape(planes):
        return np.zeros((planes.shape[0], 5), np.float32), np.zeros(planes.shape[0])

    def infinite_value(planes):
        logits, values = good(planes)
        values[-1] = np.inf
        return logits, values

    before = (selfplay.nn_evals, selfplay.positions)
    for bad, message in ((not_finite, "non-finite"), (wrong_shape, "evaluator returned"),
                         (infinite_value, "non-finite")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            selfplay.step(bad)
    assert selfplay.positions == before[1]
    records = play_games(selfplay, good, 4)
    for record in records:
        check_record("tictactoe", record, 8)


def test_command_line_self_play_settings_reach_the_worker():
    from actor.config import parse_args
    from actor.worker import selfplay_config

    config = parse_args(
        ["--game", "connect4", "--opening-moves", "14", "--final-temperature", "0.4"]
    )
    settings = selfplay_config(get_game("connect4"), config)
    assert settings.opening_moves == 14 and settings.final_temperature == 0.4
    connect4 = get_game("connect4")
    assert selfplay_config(connect4, parse_args(["--game", "connect4"])).opening_moves == 14
    off = parse_args(["--game", "connect4", "--opening-moves", "0"])
    assert selfplay_config(connect4, off).opening_moves == 0
    assert selfplay_config(get_game("tictactoe"), parse_args([])).opening_moves == 0
    assert selfplay_config(connect4, parse_args(["--eval-cache", "0"])).eval_cache == 0
    assert selfplay_config(connect4, parse_args([])).eval_cache == 1 << 16
    with pytest.raises(SystemExit):  # refused at the command line, naming the flag
        parse_args(["--eval-cache", "1000"])
    with pytest.raises(ValueError, match="power of two"):  # and by the worker's own config
        default_config(connect4, eval_cache=1000)


@pytest.mark.parametrize("name", list_games())
def test_the_evaluation_cache_plays_as_the_network_with_fewer_calls(name):
    """No noise and the most visited move: every game is one deterministic game, so a cache that
    answered differently from the network would change it (games part only on ties between
    visit counts, broken at random, alike in both runs). It must not, and must save calls: a
    game played again (one at a time) finds its positions there."""
    game = get_game(name)
    evaluator = position_evaluator(game)
    settings = dict(games_in_parallel=1, simulations=24, temperature_moves=0,
                    dirichlet_fraction=0.0, opening_moves=0)  # fmt: skip
    runs = {}
    for entries in (0, 1 << 14):
        selfplay = SelfPlay(game, default_config(game, eval_cache=entries, **settings), seed=3)
        records = play_games(selfplay, evaluator, 4)[:4]
        runs[entries] = (records, selfplay.nn_evals)
    (plain, plain_calls), (cached, cached_calls) = runs[0], runs[1 << 14]
    for a, b in zip(plain, cached, strict=True):
        np.testing.assert_array_equal(a.moves, b.moves)
        np.testing.assert_array_equal(a.visits, b.visits)
        # float32 sums: a batched leaf's virtual loss, added and taken back, rounds apart
        np.testing.assert_allclose(a.root_values, b.root_values, atol=1e-6)
    assert cached_calls < 0.8 * plain_calls  # measured 0.36-0.62


def test_the_evaluation_cache_holds_only_the_current_models_answers():
    game = get_game("connect4")
    first, second = position_evaluator(game, seed=1), position_evaluator(game, seed=2)
    selfplay = SelfPlay(game, default_config(game, games_in_parallel=16, eval_cache=1 << 10))
    for _ in range(60):
        selfplay.step(first)
    keys, states, logits, values = selfplay._cache
    assert np.count_nonzero(keys) > 100
    selfplay.step(second)  # a new model: the old answers go
    used = np.flatnonzero(keys)
    assert 0 < len(used) <= 16
    planes = np.zeros((len(used), *game.plane_shape), np.float32)
    for row, slot in enumerate(used):
        game.encode(states[slot], planes[row])
    expected_logits, expected_values = second(planes)
    np.testing.assert_allclose(logits[used], expected_logits, rtol=1e-6)
    np.testing.assert_allclose(values[used], expected_values.reshape(-1), rtol=1e-6)
    keys_before = keys.copy()
    selfplay.step(None)  # no model (a uniform prior): nothing to cache
    assert not keys.any() and keys_before.any()


def test_othello_self_plays_with_two_workers_unless_told_otherwise(tmp_path):
    """A real actor: /api/health lists one entry per worker process it started."""
    import httpx
    from reliability_helpers import start_actor, wait_healthy

    from actor.config import parse_args

    assert parse_args(["--game", "othello"]).selfplay_workers() == 2
    assert parse_args(["--game", "othello", "--workers", "1"]).selfplay_workers() == 1
    assert parse_args(["--game", "connect4"]).selfplay_workers() == 1
    assert parse_args(["--workers", "3"]).selfplay_workers() == 3
    actor = start_actor(
        tmp_path, "--game", "othello", "--simulations", "4", "--games-in-parallel", "2",
        "--no-evaluation",
    )  # fmt: skip
    try:
        wait_healthy(actor)
        workers = httpx.get(actor.url + "/api/health", timeout=10).json()["workers"]
        assert len(workers) == 2, workers
    finally:
        actor.close()


class FakeProcess:
    def __init__(self, alive: bool = True, exitcode: int | None = None) -> None:
        self.alive, self.exitcode = alive, exitcode

    def is_alive(self) -> bool:
        return self.alive


def test_a_stuck_or_dead_worker_is_noticed() -> None:
    """A worker stuck in a jitted call or ORT kept the actor serving with no self-play, and the
    learner training on an old window, unnoticed: its last batch's time gives it away."""
    import multiprocessing
    import time

    from actor.__main__ import Progress
    from actor.config import ActorConfig
    from actor.worker import STUCK_AFTER_S, WorkerBoard

    board = WorkerBoard.create(multiprocessing.get_context("spawn"), 3)
    processes = [FakeProcess(), FakeProcess(), FakeProcess()]
    progress = Progress(ActorConfig(), board, processes, lambda: None, None)
    board.publish(0, alive_at=time.monotonic())
    board.publish(1, alive_at=time.monotonic() - 5)  # worker 2: no batch yet (compiling)
    assert progress.failed_worker() is None
    board.publish(1, alive_at=time.monotonic() - STUCK_AFTER_S - 10)
    assert progress.failed_worker().startswith("self-play worker 1 has made no progress for")
    processes[0] = FakeProcess(alive=False, exitcode=1)
    assert progress.failed_worker() == "self-play worker 0 died (exit code 1)"


def test_a_restarted_worker_does_not_replay_the_last_starts_games(tmp_path) -> None:
    """Seeded by the worker's index alone, a restart with an unchanged model (or none yet)
    played the last start's games again, stored twice in replay.db."""
    from actor.replay_db import ReplayWriter
    from actor.worker import worker_seed

    game = get_game("tictactoe")
    writer = ReplayWriter(tmp_path / "replay.db")
    first_start = SelfPlay(game, seed=worker_seed(0, 0, writer.newest_id()))
    games = play_games(first_start, None, 16)
    for record in games:
        writer.insert(record)
    restart = SelfPlay(game, seed=worker_seed(0, 0, writer.newest_id()))
    again = play_games(restart, None, 16)
    first_moves = {tuple(r.moves.tolist()) for r in games}
    assert sum(tuple(r.moves.tolist()) in first_moves for r in again) < len(again) // 2
    same = SelfPlay(game, seed=worker_seed(0, 0, 0))  # the same state: the same games
    assert [r.moves.tolist() for r in play_games(same, None, 16)] == [
        r.moves.tolist() for r in games
    ]
    assert 0 <= worker_seed(2**40, 7, 10**9) < 2**32
    writer.close()


def test_a_first_run_says_that_it_compiles_rather_than_playing_0_games_per_s(caplog) -> None:
    """The first start compiles the search for about a minute, which the actor says rather than
    log `0.00 games/s ... no model yet` ten times and nothing else."""
    import multiprocessing

    from actor import worker
    from actor.__main__ import Progress
    from actor.config import ActorConfig

    game = get_game("tictactoe")
    board = worker.WorkerBoard.create(multiprocessing.get_context("spawn"), 1)
    progress = Progress(ActorConfig(), board, [FakeProcess()], lambda: None, None)
    with caplog.at_level("INFO"):
        worker.announce_start(0, game)
    assert (
        "self-play worker 0: starting the tictactoe search (a first run compiles it first: about"
        " half a minute on an idle machine, longer on a busy one)" in caplog.text
    )
    totals = board.totals()
    assert progress.line(totals, totals, 5.0) == (
        "self-play tictactoe: starting (a first run compiles the search:"
        " about half a minute on an idle machine)"
    )
    board.publish(0, batches=40, games=12, positions=90, nn_evals=800, batch_size=128)
    line = progress.line(totals, board.totals(), 5.0)
    assert line.startswith("self-play tictactoe: 2.40 games/s, 18 positions/s, 160 leaf evals/s")
