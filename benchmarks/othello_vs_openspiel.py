"""Playing strength against a peer people know: our model with PUCT search against OpenSpiel's
UCT MCTS with random rollouts, colours alternating.

Ours: `alphazero_search` with the ONNX model as evaluator, no noise, most-visited move. The
opponent: OpenSpiel's MCTSBot (uct_c=2, `--opponent-simulations`, one random rollout per leaf),
by default the C++ bot (`--opponent-impl python` for the pure-Python one, same algorithm, far
slower). Both sides' positions are stepped with the same action numbers (OpenSpiel's numbering is
ours; Othello's pass is 64), and the two rule sets must agree on every side to move and on the
final result, so a win is never an artefact of a rules mismatch.

    .venv/bin/python benchmarks/othello_vs_openspiel.py [--game othello|connect4] [--games 20]
        [--model data/pretrained/othello.onnx] [--simulations 200] [--opponent-simulations 1000]

Prints one line per game, a summary (score = (wins + draws/2) / games, seconds per move of each
side), and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyspiel
from open_spiel.python.algorithms import mcts as spiel_mcts

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from actor.arena import AlphaZeroAgent  # noqa: E402
from actor.model import load_model  # noqa: E402
from engine.context import EngineContext  # noqa: E402

SPIEL_NAMES = {"othello": "othello", "connect4": "connect_four"}
UCT_C = 2.0


def opponent_bot(spiel_game, impl: str, simulations: int, seed: int):
    """OpenSpiel's UCT MCTS with one random rollout per leaf (solver on, as by default)."""
    if impl == "python":
        evaluator = spiel_mcts.RandomRolloutEvaluator(
            n_rollouts=1, random_state=np.random.RandomState(seed)
        )
        return spiel_mcts.MCTSBot(
            spiel_game, uct_c=UCT_C, max_simulations=simulations, evaluator=evaluator
        )
    evaluator = pyspiel.RandomRolloutEvaluator(1, seed)
    return pyspiel.MCTSBot(spiel_game, evaluator, UCT_C, simulations, 1000, True, seed, False)


def play_one(ctx, spiel_game, agent, bot, ours_first: bool, seed: int) -> tuple[int, list, list]:
    """One game; returns (our outcome 1/0/-1, our move seconds, the opponent's move seconds)."""
    step = ctx.reset()
    spiel_state = spiel_game.new_initial_state()
    times: tuple[list, list] = ([], [])  # ours, theirs
    ply = 0
    while not step.terminal:
        assert spiel_state.current_player() == step.to_play, f"side to move differs at {ply}"
        ours = (step.to_play == 0) == ours_first
        start = time.perf_counter()
        if ours:
            action = agent.act(ctx.game, step.state, seed * 1009 + ply)
        else:
            action = int(bot.step(spiel_state))
        times[0 if ours else 1].append(time.perf_counter() - start)
        step = ctx.step(step.state, action)  # raises on a move our rules call illegal
        spiel_state.apply_action(action)
        ply += 1
    assert spiel_state.is_terminal(), "our engine ended the game, OpenSpiel did not"
    returns = spiel_state.returns()
    assert int(np.sign(returns[0])) == step.winner, f"results differ: {returns} vs {step.winner}"
    return (step.winner if ours_first else -step.winner), times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", choices=sorted(SPIEL_NAMES), default="othello")
    parser.add_argument("--games", type=int, default=20)
    parser.add_argument("--model", type=Path, help="default: data/pretrained/<game>.onnx")
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--opponent-simulations", type=int, default=1000)
    parser.add_argument("--opponent-impl", choices=["cpp", "python"], default="cpp")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model_path = args.model or Path(f"data/pretrained/{args.game}.onnx")

    ctx = EngineContext(args.game)
    evaluator = load_model(model_path, ctx.game, threads=1)
    agent = AlphaZeroAgent(evaluator, args.simulations, name=f"model-{args.simulations}")
    spiel_game = pyspiel.load_game(SPIEL_NAMES[args.game])
    first = ctx.reset()  # compile/load the search and the step kernel before any timing
    ctx.step(first.state, agent.act(ctx.game, first.state, 0))
    print(
        f"{args.game}: {model_path} (step {evaluator.step}) with {args.simulations} simulations vs "
        f"OpenSpiel MCTS ({args.opponent_impl}, {args.opponent_simulations} simulations)"
    )
    outcomes, ours_all, theirs_all = [], [], []
    for index in range(args.games):
        ours_first = index % 2 == 0
        seed = args.seed * 100_003 + index
        bot = opponent_bot(spiel_game, args.opponent_impl, args.opponent_simulations, seed)
        start = time.perf_counter()
        outcome, ours, theirs = play_one(ctx, spiel_game, agent, bot, ours_first, seed)
        outcomes.append(outcome)
        ours_all += ours
        theirs_all += theirs
        print(
            f"game {index + 1}/{args.games}: ours {'first' if ours_first else 'second'}, "
            f"{('loss', 'draw', 'win')[outcome + 1]}, {len(ours) + len(theirs)} moves, "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
    wins, draws = outcomes.count(1), outcomes.count(0)
    losses = outcomes.count(-1)
    score = (wins + draws / 2) / max(len(outcomes), 1)
    ours_spm = float(np.mean(ours_all)) if ours_all else 0.0
    theirs_spm = float(np.mean(theirs_all)) if theirs_all else 0.0
    print(
        f"wins {wins}, draws {draws}, losses {losses}: score {score:.3f}; seconds per move: "
        f"ours {ours_spm:.3f}, OpenSpiel {theirs_spm:.3f}"
    )
    summary = {
        "game": args.game,
        "model": str(model_path),
        "model_step": evaluator.step,
        "simulations": args.simulations,
        "opponent": f"openspiel-mcts-{args.opponent_impl}",
        "opponent_simulations": args.opponent_simulations,
        "games": len(outcomes),
        "wins": wins,
        "draws": draws,
        "losses": losses,
        "score": round(score, 4),
        "ours_s_per_move": round(ours_spm, 4),
        "opponent_s_per_move": round(theirs_spm, 4),
        "seed": args.seed,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
