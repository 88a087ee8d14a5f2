"""Evaluation: matches against baselines, moves judged by the solvers, evaluations.json, service.

Real ONNX Runtime sessions on small models made here, the project's real solvers, real files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from actor_models import make_model
from reliability_helpers import START_LIMIT_S, wait_for, wait_gone

from actor import arena, mcts
from actor import evaluation as ev
from actor.evaluation_positions import (
    PHASES,
    PositionSet,
    connect4_positions,
    pons_positions,
    reachable_positions,
    read_connect4_positions,
    tictactoe_positions,
)
from actor.model import load_model
from engine import get_game
from runfiles.layout import EVALUATIONS_FILE

TICTACTOE = get_game("tictactoe")
CONNECT4 = get_game("connect4")
REPO = Path(__file__).resolve().parent.parent
SMALL = ev.EvaluationSettings(simulations=8, games_per_opponent=4, mcts_budgets=(16,))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = make_model(tmp_path_factory.mktemp("models") / "model_step_000007.onnx", step=7)
    return load_model(path, TICTACTOE)


class PerfectEvaluator:
    """A tictactoe 'network' that knows the minimax value of every move: logits = 10 x value,
    value = the best move's value. It reads the board back from the planes."""

    def __init__(self) -> None:
        positions = tictactoe_positions()
        self.table = {
            (int(s[0]), int(s[1])): v
            for s, v in zip(positions.states, positions.action_values, strict=True)
        }
        self.calls = 0

    def __call__(self, planes: np.ndarray):
        self.calls += 1
        weights = 1 << np.arange(9)
        own = planes[:, 0].reshape(len(planes), 9).astype(np.int64) @ weights
        other = planes[:, 1].reshape(len(planes), 9).astype(np.int64) @ weights
        moves = planes.reshape(len(planes), -1).sum(axis=1).astype(np.int64)
        logits = np.zeros((len(planes), 9), np.float32)
        values = np.zeros(len(planes), np.float32)
        for row, (mine, theirs, count) in enumerate(zip(own, other, moves, strict=True)):
            key = (int(mine), int(theirs)) if count % 2 == 0 else (int(theirs), int(mine))
            action_values = self.table[key]
            logits[row] = 10.0 * np.nan_to_num(action_values, nan=-1.0)
            values[row] = np.nanmax(action_values)
        return logits, values


def test_tictactoe_positions_are_every_reachable_ongoing_position():
    positions = tictactoe_positions()
    assert len(positions) == 4520  # 5,478 reachable states less 958 finished ones
    assert len({state.tobytes() for state in positions.states}) == 4520
    legal = np.stack([TICTACTOE.legal_mask(state) for state in positions.states])
    assert np.array_equal(~np.isnan(positions.action_values), legal)
    # the empty board is a draw whatever the first move
    assert np.all(positions.action_values[0] == 0.0)
    assert positions.optimal_mask.any(axis=1).all()


def retrograde_values(states: np.ndarray) -> np.ndarray:
    """Each move's minimax value by retrograde analysis over the breadth-first positions (the
    deepest first): an independent check of the project's solver."""
    value_of: dict[bytes, float] = {}
    values = np.full((len(states), 9), np.nan, dtype=np.float32)
    for index in range(len(states) - 1, -1, -1):
        for action in np.flatnonzero(TICTACTOE.legal_mask(states[index])):
            child = states[index].copy()
            TICTACTOE.apply_action(child, int(action))
            status = TICTACTOE.status(child)
            if status == 0:
                values[index, action] = -value_of[child.tobytes()]
            else:
                values[index, action] = 0.0 if status == 3 else 1.0
        value_of[states[index].tobytes()] = float(np.nanmax(values[index]))
    return values


def test_tictactoe_values_agree_with_an_independent_minimax():
    positions = tictactoe_positions()
    expected = retrograde_values(positions.states)
    assert np.array_equal(positions.action_values, expected, equal_nan=True)


def test_batched_search_picks_the_same_moves_as_single_searches(tiny_model):
    states = reachable_positions(TICTACTOE)[::113]
    for simulations in (0, 16):
        batched = arena.search_actions(TICTACTOE, states, simulations, tiny_model)
        single = [
            mcts.alphazero_search(TICTACTOE, s, simulations, tiny_model).action for s in states
        ]
        assert batched.tolist() == single


def test_perfect_network_scores_every_move_optimal():
    positions = tictactoe_positions()
    perfect = PerfectEvaluator()
    assert arena.optimal_move_rate(TICTACTOE, positions, perfect, 0) == 1.0
    assert perfect.calls == 2  # one batched call over all 4,520 positions (chunks of 4,096)
    assert arena.optimal_move_rate(TICTACTOE, positions, perfect, 64) == 1.0


def test_untrained_network_scores_clearly_below(tiny_model):
    positions = tictactoe_positions()
    alone = arena.optimal_move_rate(TICTACTOE, positions, tiny_model, 0)
    assert 0.2 < alone < 0.9
    picks = np.random.default_rng(0).random((len(positions), 9))
    picks[np.isnan(positions.action_values)] = -1
    assert positions.optimal_rate(picks.argmax(axis=1)) < 0.9  # a random player


def test_perfect_players_never_lose_to_random():
    perfect = arena.PerfectAgent()
    match = arena.play_match(TICTACTOE, perfect, arena.RandomAgent(), 20, seed=3)
    assert match.games == 20 and match.losses == 0 and match.wins >= 10
    searcher = arena.AlphaZeroAgent(PerfectEvaluator(), 16)
    match = arena.play_match(TICTACTOE, searcher, arena.RandomAgent(), 10, seed=4)
    assert match.losses == 0
    # perfect against perfect: every game is a draw
    assert arena.play_match(TICTACTOE, perfect, arena.PerfectAgent(), 4).draws == 4


class Recorder:
    """Wraps an agent and records the side to move at each of its first moves per game."""

    def __init__(self, agent, opening_moves: int = 0) -> None:
        self.agent = agent
        self.plies = (opening_moves, opening_moves + 1)
        self.name = "recorder"
        self.sides: list[int] = []

    def act(self, game, state, seed):
        if int(state[2]) in self.plies:  # state[2] = moves played: its first move of a game
            self.sides.append(int(game.to_play(state)))
        return self.agent.act(game, state, seed)


def test_match_colours_alternate():
    recorder = Recorder(arena.RandomAgent())
    match = arena.play_match(TICTACTOE, recorder, arena.RandomAgent(), 6, seed=1)
    assert match.agent_first == [True, False, True, False, True, False]
    assert recorder.sides == [0, 1, 0, 1, 0, 1]
    assert match.wins + match.draws + match.losses == 6 == len(match.outcomes)


def test_paired_openings_are_shared_and_colours_swapped():
    recorder = Recorder(arena.PerfectAgent(), opening_moves=1)
    match = arena.play_match(TICTACTOE, recorder, arena.PerfectAgent(), 4, opening_moves=1)
    assert match.draws == 4 and recorder.sides == [0, 1, 0, 1]  # x after the opening move

    def keys(openings: list) -> list[bytes]:
        return [opening.tobytes() for opening in openings]

    assert keys(arena.pair_openings(TICTACTOE, 1, 3, 5)) == keys(
        arena.pair_openings(TICTACTOE, 1, 3, 5)
    )


def test_pairs_get_different_openings_while_there_are_enough():
    """Drawn independently, a fifth of the pairs repeated an opening, and two deterministic
    players replayed those games: each counted as new evidence."""
    openings = arena.pair_openings(TICTACTOE, 1, 9, seed=0)
    assert len({o.tobytes() for o in openings}) == 9  # all nine first moves
    cycled = arena.pair_openings(TICTACTOE, 1, 20, seed=0)
    assert len({o.tobytes() for o in cycled}) == 9
    assert [o.tobytes() for o in cycled[9:]] == [o.tobytes() for o in cycled[:11]]
    connect4 = arena.pair_openings(get_game("connect4"), 2, 40, seed=1)
    assert len({o.tobytes() for o in connect4}) == 40


def test_evaluations_json_is_valid_at_every_moment(tmp_path):
    run_dir = tmp_path / "tictactoe"
    ev.append_evaluations(run_dir, [{"step": 0}])
    stop = threading.Event()
    reads, errors = [0], []

    def reader() -> None:
        path = run_dir / EVALUATIONS_FILE
        while not stop.is_set():
            try:
                data = json.loads(path.read_text())
                assert isinstance(data, list) and data
                reads[0] += 1
            except Exception as error:  # noqa: BLE001 - counted, the assertion is below
                errors.append(repr(error))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for step in range(1, 150):
            entries = [{"step": step, "time": time.time(), "opponent": "random", "x": float("nan")}]
            ev.append_evaluations(run_dir, entries * 3, max_entries=60)
    finally:
        stop.set()
        thread.join()
    assert errors == [] and reads[0] > 10
    final = ev.read_evaluations(run_dir)
    assert len(final) <= 60 and final[-1]["step"] == 149 and final[-1]["x"] is None
    # Thinned by whole evaluations, the oldest kept: a long run keeps the start of its charts.
    steps = [entry["step"] for entry in final]
    kept = sorted(set(steps))
    assert kept[0] == 0 and kept[1] < 40 and len(kept) >= 15
    assert all(steps.count(step) == 3 for step in set(steps) - {0})
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "damaged", ['[{"step": 1}, {"st', '{"entries": [{"step": 1}]}', '[{"step": 1}, 7]']
)
def test_a_damaged_evaluations_file_is_set_aside_not_overwritten(tmp_path, damaged):
    run_dir = tmp_path / "tictactoe"
    run_dir.mkdir()
    (run_dir / EVALUATIONS_FILE).write_text(damaged)
    assert ev.read_evaluations(run_dir) in ([], [{"step": 1}])  # readers take what they can
    assert ev.append_evaluations(run_dir, [{"step": 2}]) == [{"step": 2}]
    (aside,) = run_dir.glob(f"{EVALUATIONS_FILE}.damaged-*")
    assert aside.read_text() == damaged
    assert ev.append_evaluations(run_dir, [{"step": 3}]) == [{"step": 2}, {"step": 3}]
    assert len(list(run_dir.glob("*.damaged-*"))) == 1  # a sound file is not set aside


def test_damaged_evaluations_set_aside_within_one_second_are_all_kept(tmp_path, monkeypatch):
    """Two damaged files set aside in the same second: the second overwrote the first copy."""
    frozen = time.gmtime(0)
    monkeypatch.setattr(time, "gmtime", lambda *args: frozen)
    for damaged in ("{", "7"):
        (tmp_path / EVALUATIONS_FILE).write_text(damaged)
        ev.append_evaluations(tmp_path, [{"step": 1}])
    kept = tmp_path.glob(f"{EVALUATIONS_FILE}.damaged-*")
    assert sorted(path.read_text() for path in kept) == ["7", "{"]


def test_evaluations_json_is_readable_by_other_users(tmp_path):
    ev.append_evaluations(tmp_path, [{"step": 1}])  # mkstemp alone made it 0600
    assert (tmp_path / EVALUATIONS_FILE).stat().st_mode & 0o777 == 0o644


def test_an_entry_with_a_bad_time_does_not_stop_the_evaluation(tmp_path):
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=12)
    ev.append_evaluations(run_dir, [{"step": 12, "opponent": "random", "time": "yesterday"}])
    settings = ev.EvaluationSettings(simulations=2, games_per_opponent=0, mcts_budgets=())
    entries = ev.evaluate_file("tictactoe", run_dir, path, settings, skip_done=True)
    assert [e["step"] for e in entries] == [12, 12]  # judged: the entry says nothing of when


def test_random_rate_is_what_uniformly_random_moves_score():
    positions = tictactoe_positions()
    by_position = []
    for values in positions.action_values:
        legal = values[~np.isnan(values)]
        by_position.append(np.mean(legal == legal.max()))
    assert positions.random_rate == pytest.approx(np.mean(by_position))
    rng = np.random.default_rng(1)
    scores = []
    for _ in range(100):
        picks = rng.random((len(positions), 9))
        picks[np.isnan(positions.action_values)] = -1
        scores.append(positions.optimal_rate(picks.argmax(axis=1)))
    assert np.mean(scores) == pytest.approx(positions.random_rate, abs=0.005)
    assert 0.3 < positions.random_rate < 0.9  # most Tic-tac-toe moves keep the draw


def test_evaluate_file_writes_entries_in_the_stats_shape(tmp_path):
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=12)
    settings = ev.EvaluationSettings(simulations=8, games_per_opponent=4, mcts_budgets=(16,))
    entries = ev.evaluate_file("tictactoe", run_dir, path, settings)
    keys = {"step", "time", "opponent", "simulations", "win_rate", "draw_rate", "loss_rate",
            "optimal_move_rate"}  # fmt: skip
    assert [(e["opponent"], e["simulations"]) for e in entries] == [
        ("random", 8), ("mcts-16", 8), ("solver", 0), ("solver", 8),
    ]  # fmt: skip
    for entry in entries:
        assert keys <= set(entry) and entry["step"] == 12
    assert abs(sum(entries[0][k] for k in ("win_rate", "draw_rate", "loss_rate")) - 1) < 1e-9
    decisive = tictactoe_positions().decisive()
    assert entries[0]["games"] == 4 and entries[2]["positions"] == len(decisive) == 3191
    assert 0.0 < entries[2]["optimal_move_rate"] < 1.0
    assert entries[2]["optimal_moves"] == round(entries[2]["optimal_move_rate"] * 3191)
    for judged in entries[2:]:  # decisive positions by phase, and all 4,520 kept apart
        phases = judged["phases"]
        assert sum(phases[phase]["positions"] for phase in PHASES) == 3191
        assert sum(phases[phase]["optimal_moves"] for phase in PHASES) == judged["optimal_moves"]
        assert judged["all_positions"]["positions"] == 4520
        trivial = 4520 - 3191  # every move is right there
        assert judged["all_positions"]["optimal_moves"] == judged["optimal_moves"] + trivial
        assert judged["trivial_share"] == round(trivial / 4520, 4)
    for match in entries[:2]:  # the score's Wilson interval over the 4 games played
        score = match["win_rate"] + match["draw_rate"] / 2
        low, high = arena.score_interval(score, 4)
        assert (match["score_low"], match["score_high"]) == (round(low, 4), round(high, 4))
        assert match["score_low"] <= score <= match["score_high"]
    random_rate = round(decisive.random_rate, 4)
    assert entries[2]["random_optimal_rate"] == entries[3]["random_optimal_rate"] == random_rate
    assert ev.read_evaluations(run_dir) == json.loads(json.dumps(entries))


def test_zero_games_judges_positions_only(tmp_path):
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=5)
    settings = ev.EvaluationSettings(simulations=8, games_per_opponent=0, mcts_budgets=(16,))
    entries = ev.evaluate_file("tictactoe", run_dir, path, settings, save=False)
    assert [(e["opponent"], e["simulations"]) for e in entries] == [("solver", 0), ("solver", 8)]


def test_cli_prints_results_and_refuses_bad_input(tmp_path, capsys):
    run_dir = tmp_path / "tictactoe"
    make_model(run_dir / "models" / "latest.onnx", step=3)
    args = ["--game", "tictactoe", "--data-dir", str(tmp_path), "--games", "2", "--mcts", "8"]
    assert ev.main([*args, "--simulations", "4"]) == 0
    out = capsys.readouterr().out
    assert "step 3" in out and "mcts-8" in out and "solver" in out
    assert len(ev.read_evaluations(run_dir)) == 4
    assert ev.main(["--game", "chess", "--data-dir", str(tmp_path)]) == 2
    missing = ["--model", str(tmp_path / "missing.onnx")]
    assert ev.main(["--game", "connect4", "--data-dir", str(tmp_path), *missing]) == 2
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert ev.main([*args, "--model", str(bad)]) == 2
    assert "cannot load" in capsys.readouterr().err


def test_service_runs_every_kth_model_in_the_background(tmp_path):
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=5)
    service = ev.EvaluationService(
        "tictactoe", run_dir, settings=SMALL, every=2, min_interval_s=0.0, mode="thread"
    )
    try:
        assert service.poll() is True  # model 1: evaluated
        assert service.poll() is False  # unchanged file: nothing new
        assert service.notify(path) is False  # model 2: not a K-th one
        service.wait(START_LIMIT_S)
        assert service.last_error is None and len(service.last_entries) == 4
        assert service.last_seconds > 0
        make_model(path, step=6)
        assert service.poll() is True  # model 3
        service.wait(START_LIMIT_S)
        assert [e["step"] for e in ev.read_evaluations(run_dir)] == [5] * 4 + [6] * 4
        slow = ev.EvaluationService("tictactoe", run_dir, min_interval_s=3600, mode="thread")
        assert slow.notify(path) is True and slow.notify(path) is False  # busy / too soon
        slow.close(wait=True)
        service.notify(tmp_path / "missing.onnx", force=True)
        service.wait(60)
        assert "cannot load" in service.last_error
    finally:
        service.close(wait=True)
    with pytest.raises(ValueError):
        ev.EvaluationService("tictactoe", run_dir, mode="fork")


def test_service_evaluates_in_a_separate_process(tmp_path):
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=9)
    service = ev.EvaluationService("tictactoe", run_dir, settings=SMALL, min_interval_s=0.0, nice=0)
    try:
        assert service.mode == "process" and service.notify(path) is True
        service.wait(START_LIMIT_S)
        # The done-callback runs in the executor's thread, after wait() returns.
        assert wait_for(lambda: service.evaluations_finished == 1, 60)
        assert service.last_error is None
    finally:
        service.close(wait=True)
    assert [e["step"] for e in ev.read_evaluations(run_dir)] == [9] * 4


def test_a_model_that_arrives_too_soon_is_evaluated_later_and_no_step_twice(tmp_path):
    """A model arriving while an evaluation runs (or within the interval) is evaluated later,
    so the learner's last model is evaluated too; a restarted actor does not evaluate the same
    latest.onnx again (two entries of a kind would break the dashboard's card)."""
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=5)
    service = ev.EvaluationService(
        "tictactoe", run_dir, settings=SMALL, min_interval_s=5.0, mode="thread"
    )
    try:
        assert service.poll() is True  # step 5
        make_model(path, step=6)
        assert service.poll() is False  # running, or too soon: step 6 waits
        assert wait_for(service.poll, START_LIMIT_S)  # step 6, once step 5 is done and 5 s passed
        service.wait(START_LIMIT_S)
    finally:
        service.close(wait=True)
    steps = [e["step"] for e in ev.read_evaluations(run_dir)]
    assert steps == [5] * 4 + [6] * 4
    again = ev.EvaluationService("tictactoe", run_dir, settings=SMALL, mode="thread")
    try:  # a restarted actor: the same latest.onnx, already evaluated
        assert again.poll() is True
        again.wait(START_LIMIT_S)
        assert again.last_error is None and again.last_entries == []
        assert [e["step"] for e in ev.read_evaluations(run_dir)] == steps
        # Step 6 made again after a learner crash (a new file): that one is evaluated.
        time.sleep(0.01)
        make_model(path, step=6)
        again.notify(path, force=True)
        again.wait(START_LIMIT_S)
        assert [e["step"] for e in again.last_entries] == [6] * 4
    finally:
        again.close(wait=True)


def test_a_dead_evaluation_process_is_replaced_for_the_next_model(tmp_path):
    """The evaluation's process killed mid-run (the OOM killer, say): the broken pool is
    replaced, so the next model's evaluation starts and is not lost."""
    import os
    import signal

    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=5)
    service = ev.EvaluationService("tictactoe", run_dir, settings=SMALL, min_interval_s=0.0)
    try:
        assert service.notify(path) is True
        for pid in list(service._executor._processes):  # the pool's one process
            os.kill(pid, signal.SIGKILL)
        # The done-callback runs in the executor's thread, after wait() returns: poll for it.
        assert wait_for(lambda: "BrokenProcessPool" in (service.last_error or ""), START_LIMIT_S)
        make_model(path, step=6)
        assert service.poll() is True
        assert wait_for(lambda: service.evaluations_finished == 2, START_LIMIT_S)
        assert service.last_error is None
    finally:
        service.close(wait=True)
    assert [e["step"] for e in ev.read_evaluations(run_dir)] == [6] * 4


def test_a_closed_service_starts_no_evaluation(tmp_path):
    """The actor's progress thread may poll once more while the actor closes the service: that
    started a new evaluation process, and the actor's exit waited for it."""
    run_dir = tmp_path / "tictactoe"
    path = make_model(run_dir / "models" / "latest.onnx", step=5)
    service = ev.EvaluationService("tictactoe", run_dir, settings=SMALL, mode="thread")
    service.close()
    assert service.notify(path, force=True) is False and service.poll() is False
    assert service._executor is None


def test_closing_stops_a_running_evaluation_at_once(tmp_path):
    """An actor told to stop ends its running background evaluation at once rather than
    linger until it ends (about a minute for Connect 4), as the pool's exit hook, which waits
    for a running job, would."""
    run_dir = tmp_path / "connect4"
    path = make_model(run_dir / "models" / "latest.onnx", "connect4", step=5)
    slow = ev.EvaluationSettings(simulations=400, games_per_opponent=200, mcts_budgets=(400,))
    service = ev.EvaluationService("connect4", run_dir, settings=slow, min_interval_s=0.0)
    assert service.notify(path) is True
    # Running: handed to the pool's process, past where closing could still cancel it.
    assert wait_for(lambda: service._future.running(), START_LIMIT_S)
    pids = list(service._executor._processes)
    assert pids and service.busy
    service.close()
    assert not wait_gone(pids, 60)  # the evaluation itself takes many minutes


def test_shipped_connect4_set_holds_decisive_solved_positions_of_every_phase():
    positions = read_connect4_positions()
    assert len(positions) >= 1000 and positions.trivial_share == 0.0
    assert len({state.tobytes() for state in positions.states}) == len(positions)
    stones = positions.states[:, 2]
    assert stones.min() == 4 and stones.max() <= 30  # openings from 4 stones on
    counts = {phase: int(mask.sum()) for phase, mask in positions.phase_masks().items()}
    assert sum(counts.values()) == len(positions) and min(counts.values()) >= 50
    legal = np.stack([CONNECT4.legal_mask(state) for state in positions.states])
    assert np.array_equal(~np.isnan(positions.action_values), legal)
    # The solver agrees again on late positions (a second each at most; early ones take long).
    from engine.solvers import solve_action_values

    for row in np.flatnonzero(stones >= 22)[:: max(1, int((stones >= 22).sum()) // 8)]:
        solved = solve_action_values("connect4", positions.states[row], time_limit_s=60.0)
        assert np.array_equal(solved, positions.action_values[row], equal_nan=True)


def test_connect4_positions_file_refuses_bad_lines(tmp_path):
    path = tmp_path / "set.txt"
    cases = {
        "4 ++++++": "expected",  # six values, not seven
        "4 +++x+++": "x",  # not a value character
        "9 +++++++": "column 8",  # no such column
        "1111111 +++++++": "full",  # a seventh stone in a column
        "111111 +++++++": "legal moves",  # column 1 is full: its value must be "."
        "1212121 +++++++": "over",  # four in column 1: finished
    }
    for line, words in cases.items():
        path.write_text(f"# a comment\n4 +=-+=-+\n{line}\n")
        with pytest.raises(ValueError, match=f"{path}:3: .*{words}"):
            read_connect4_positions(path)
    path.write_text("# only a comment\n")
    with pytest.raises(ValueError, match="no positions"):
        read_connect4_positions(path)


def test_connect4_evaluation_judges_the_shipped_set_without_solving(tmp_path):
    """A real ONNX model judged on the shipped set: network alone and searched, every position
    decisive, counts per phase adding up, and nothing solved or cached in the run folder."""
    run_dir = tmp_path / "connect4"
    path = make_model(run_dir / "models" / "latest.onnx", "connect4", step=4)
    settings = ev.EvaluationSettings(simulations=4, games_per_opponent=0, mcts_budgets=())
    entries = ev.evaluate_file("connect4", run_dir, path, settings)
    shipped = connect4_positions()
    assert [(e["opponent"], e["simulations"]) for e in entries] == [("solver", 0), ("solver", 4)]
    for entry in entries:
        assert entry["positions"] == len(shipped) and entry["trivial_share"] == 0.0
        assert entry["optimal_move_rate"] == entry["optimal_moves"] / len(shipped)
        assert "all_positions" not in entry  # every position is decisive: one figure
        counts = [entry["phases"][phase] for phase in PHASES]
        assert sum(c["positions"] for c in counts) == len(shipped)
        assert sum(c["optimal_moves"] for c in counts) == entry["optimal_moves"]
        assert all(0 < c["optimal_moves"] < c["positions"] for c in counts)  # untrained
    assert not (run_dir / "evaluation").exists()  # no solving, no cache in the run folder
    line = ev.summary(entries)
    assert f"of {len(shipped):,} positions where a move can be wrong (opening " in line
    assert "all positions" not in line
    part = connect4_positions(100)
    assert len(part) == 100 and np.array_equal(part.states[0], shipped.states[0])


def test_only_decisive_positions_count_and_all_positions_are_kept_apart():
    positions = tictactoe_positions()
    values = np.nan_to_num(positions.action_values, nan=9.0)
    worst = values.argmin(axis=1)  # wrong wherever a move can be wrong
    judged = positions.judge(worst)
    decisive = positions.decisive_mask
    assert judged["positions"] == int(decisive.sum()) and judged["optimal_moves"] == 0
    assert judged["optimal_move_rate"] == 0.0
    assert judged["all_positions"] == {"positions": 4520, "optimal_moves": int((~decisive).sum())}
    opening = judged["phases"]["opening"]  # up to 2 stones: 69 of 82 positions are decisive
    assert opening == {"positions": 69, "optimal_moves": 0}
    assert not decisive[0]  # the empty board: every first move draws
    best = np.nan_to_num(positions.action_values, nan=-9.0).argmax(axis=1)
    assert positions.judge(best)["optimal_move_rate"] == 1.0


def test_pons_sets_are_read_in_place_and_judged(tmp_path):
    positions = pons_positions("Test_L3_R1", tmp_path, limit=12)
    assert len(positions) == 12 and positions.skipped == 0
    assert (tmp_path / "evaluation" / "pons-Test_L3_R1-n12.npz").exists()
    assert not list(tmp_path.rglob("Test_L3_R1"))  # never copied
    best = np.nan_to_num(positions.action_values, nan=-9).argmax(axis=1)
    assert positions.optimal_rate(best) == 1.0
    model = load_model(make_model(tmp_path / "c4.onnx", "connect4", 1), CONNECT4)
    rates = ev.pons_error_rates(model, 0, run_dir=tmp_path, sets=("Test_L3_R1",), limit=12)
    assert rates["Test_L3_R1"]["positions"] == 12 and 0 <= rates["Test_L3_R1"]["error_rate"] <= 1
    with pytest.raises(ValueError):
        pons_positions("Test_L9", tmp_path)


def test_position_set_refuses_mismatched_actions():
    positions = PositionSet("tictactoe", "x", np.zeros((2, 4), np.int64), np.zeros((2, 9)))
    with pytest.raises(ValueError):
        positions.optimal_rate(np.zeros(3, np.int64))


def test_score_interval_is_wilsons_and_never_a_point():
    low, high = arena.score_interval(1.0, 200)  # all won: still some doubt
    assert 0.975 < low < 0.985 and high == 1.0
    assert arena.score_interval(0.0, 200) == pytest.approx((0.0, 1 - low))  # symmetric
    low, high = arena.score_interval(0.5, 200)  # the middle: close to the normal approximation
    assert low == pytest.approx(0.5 - 1.96 * (0.25 / 200) ** 0.5, abs=0.002)
    assert high == pytest.approx(1 - low)
    assert arena.score_interval(0.6, 2000)[1] - arena.score_interval(0.6, 2000)[0] < 0.05


def test_the_log_line_counts_moves_where_a_percentage_would_round_to_100():
    """99.956% is logged as the counts, not as 100.0% (perfect play would seem to come and go
    as later models score 4,518 or 4,520 of 4,520), and each score's interval."""
    judged = {"opponent": "solver", "simulations": 64, "positions": 4520}
    near = {**judged, "optimal_move_rate": 4518 / 4520, "optimal_moves": 4518}
    match = {"opponent": "mcts-64", "simulations": 64, "win_rate": 0.5, "draw_rate": 0.5,
             "loss_rate": 0.0, "score_low": 0.53, "score_high": 0.89}  # fmt: skip
    line = ev.summary([match, near, {**judged, "optimal_move_rate": 1.0, "optimal_moves": 4520}])
    assert line == (  # entries without phases are over all positions, and say so
        "vs mcts-64 0.50/0.50/0.00 (score 95% 0.53-0.89), optimal@64 4,518/4,520 of 4,520 "
        "positions (all positions), optimal@64 100.0% of 4,520 positions (all positions)"
    )
    phased = {
        **judged, "positions": 3191, "optimal_moves": 3189, "optimal_move_rate": 3189 / 3191,
        "phases": {"opening": {"positions": 69, "optimal_moves": 67},
                   "middle": {"positions": 1594, "optimal_moves": 1594},
                   "end": {"positions": 1528, "optimal_moves": 1528}},
        "all_positions": {"positions": 4520, "optimal_moves": 4518},
    }  # fmt: skip
    assert ev.summary([phased]) == (
        "optimal@64 99.9% of 3,191 positions where a move can be wrong (opening 97.1% of "
        "69, middle 100.0% of 1,594, end 100.0% of 1,528); all positions 4,518/4,520"
    )
    assert ev.optimal_text({**judged, "optimal_move_rate": 0.973}) == "97.3%"
    assert "4,518/4,520" in ev.format_table([near])


def test_two_models_play_a_match_from_the_command_line(tmp_path, capsys):
    first = make_model(tmp_path / "a.onnx", step=1, bias=4)
    second = make_model(tmp_path / "b.onnx", step=2)
    args = ["--game", "tictactoe", str(first), str(second), "--games", "6", "--simulations", "4"]
    assert arena.main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["wins"] + result["draws"] + result["losses"] == 6
    assert lines[0].startswith("a.onnx vs b.onnx: ") and "score" in lines[0]
    assert arena.main([*args[:3], str(first), "--games", "2", "--simulations", "4"]) == 0
    assert "a.onnx (2)" in capsys.readouterr().out  # a model against itself
    assert arena.main([*args, "--games", "5"]) == 2  # odd: colours could not swap per pair
    other = make_model(tmp_path / "c4.onnx", "connect4", step=1)
    assert arena.main(["--game", "tictactoe", str(first), str(other)]) == 2
    assert arena.main(["--game", "tictactoe", str(first), str(tmp_path / "none.onnx")]) == 2
    err = capsys.readouterr().err
    assert "not 'tictactoe'" in err and "does not exist" in err


def test_position_generator_resumes_where_it_stopped_and_writes_a_readable_set(tmp_path):
    """Stopped after 1 kept position and restarted for 2, the generator's records are those of
    one uninterrupted run for 2 (each candidate comes from its own seed), and `write` makes a
    file the evaluation reads."""
    script = [sys.executable, str(REPO / "scripts" / "make_connect4_positions.py")]

    def solve(folder: Path, count: int) -> None:
        args = ["solve", "--kind", "play", "--count", str(count), "--partial-dir", str(folder)]
        subprocess.run([*script, *args], check=True, capture_output=True, timeout=600)

    solve(tmp_path / "resumed", 1)
    with open(tmp_path / "resumed" / "play-seed0.txt", "a") as partial:
        partial.write("9 kept 44")  # killed while writing a line: dropped on restart
    solve(tmp_path / "resumed", 2)
    solve(tmp_path / "once", 2)
    resumed = (tmp_path / "resumed" / "play-seed0.txt").read_text()
    assert resumed == (tmp_path / "once" / "play-seed0.txt").read_text()
    records = [line.split() for line in resumed.splitlines()[1:]]
    assert [int(r[0]) for r in records] == list(range(len(records)))
    assert sum(r[1] == "kept" for r in records) == 2
    out = tmp_path / "set.txt"
    args = ["write", "--partial-dir", str(tmp_path / "resumed"), "--out", str(out)]
    subprocess.run([*script, *args], check=True, capture_output=True, timeout=600)
    written = read_connect4_positions(out)
    assert len(written) == 2 and written.trivial_share == 0.0
    assert "# play seed 0: " in out.read_text()
