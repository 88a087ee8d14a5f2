"""Players and matches: agents, games with colours alternating, and searches over many positions.

An `Agent` picks a move in a position; `play_match` plays two of them against each other with
colours alternating; `search_actions` finds the move `alphazero_search` would pick in each of
many positions at once (the trees searched side by side, one evaluator call per round), which is
what judging a model on thousands of solved positions needs.

Two models against each other, from paired random openings (colours swapped per pair)::

    python -m actor.arena --game othello NEW.onnx OLD.onnx [--games 200] [--simulations 200]
        [--opening-moves 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from actor import mcts
from actor.evaluation_positions import PositionSet
from actor.players import perfect_choice
from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING, Game

SEARCH_MEMORY_BYTES = 48 << 20  # node pools of the trees searched at once


# ---------------------------------------------------------------- players


class Agent(Protocol):
    """A player in a match: picks a move in an ongoing `state`; `seed` varies per move."""

    name: str

    def act(self, game: Game, state: np.ndarray, seed: int) -> int: ...


class RandomAgent:
    """Uniformly random legal moves."""

    name = "random"

    def act(self, game: Game, state: np.ndarray, seed: int) -> int:
        legal = np.flatnonzero(game.legal_mask(state))
        return int(np.random.default_rng(seed).choice(legal))


class _ForestCache:
    """One preallocated tree per game, reused by every search of an agent (no allocation)."""

    def __init__(self, simulations: int) -> None:
        self.simulations = simulations
        self._forests: dict[str, mcts.Forest] = {}

    def get(self, game: Game) -> mcts.Forest:
        if game.name not in self._forests:
            sizes = mcts.pool_sizes(game, max(self.simulations, 1))
            self._forests[game.name] = mcts.Forest.allocate(game, 1, *sizes)
        return self._forests[game.name]


class ClassicMctsAgent:
    """UCT with random rollouts (the baseline people know), `simulations` per move."""

    def __init__(self, simulations: int) -> None:
        if simulations < 1:
            raise ValueError(f"classic MCTS needs at least 1 simulation, got {simulations}")
        self.simulations = simulations
        self.name = f"mcts-{simulations}"
        self._forests = _ForestCache(simulations)

    def act(self, game: Game, state: np.ndarray, seed: int) -> int:
        forest = self._forests.get(game)
        return mcts.classic_mcts_search(
            game, state, self.simulations, seed=seed, forest=forest
        ).action


class AlphaZeroAgent:
    """The network with PUCT search (`simulations == 0`: the policy's best move alone)."""

    def __init__(
        self,
        evaluator: mcts.Evaluator | None,
        simulations: int,
        name: str = "alphazero",
        c_puct: float = mcts.DEFAULT_C_PUCT,
    ) -> None:
        self.evaluator = evaluator
        self.simulations = simulations
        self.name = name
        self.c_puct = c_puct
        self._forests = _ForestCache(simulations)

    def act(self, game: Game, state: np.ndarray, seed: int) -> int:
        result = mcts.alphazero_search(
            game, state, self.simulations, self.evaluator, c_puct=self.c_puct, seed=seed,
            forest=self._forests.get(game),
        )  # fmt: skip
        return result.action


class PerfectAgent:
    """A best move by the solver, ties broken by classic MCTS (Tic-tac-toe and Connect 4)."""

    name = "perfect"

    def act(self, game: Game, state: np.ndarray, seed: int) -> int:
        from engine.solvers import solve_action_values

        return perfect_choice(game, state, solve_action_values(game.name, state), seed)[0]


# ---------------------------------------------------------------- matches


@dataclass
class MatchResult:
    """Results of `agent` against `opponent`, from `agent`'s side."""

    agent: str
    opponent: str
    wins: int = 0
    draws: int = 0
    losses: int = 0
    agent_first: list[bool] = field(default_factory=list)  # per game: did `agent` move first?
    outcomes: list[int] = field(default_factory=list)  # per game: 1 win, 0 draw, -1 loss

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    def rates(self) -> tuple[float, float, float]:
        total = max(self.games, 1)
        return self.wins / total, self.draws / total, self.losses / total

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / max(self.games, 1)


def pair_openings(game: Game, moves: int, pairs: int, seed: int) -> list[np.ndarray]:
    """One opening per pair of games, each a different position while there are enough (drawn
    independently, a fifth of Tic-tac-toe's pairs repeated one of its 9 one-move openings, and
    two deterministic players then replayed the same two games); cycled when there are not."""
    found: dict[bytes, np.ndarray] = {}
    rng = np.random.default_rng(seed)
    for _ in range(50 * pairs):
        if len(found) == pairs:
            break
        state = _opening(game, moves, rng)
        found.setdefault(state.tobytes(), state)
    distinct = list(found.values())
    return [distinct[index % len(distinct)] for index in range(pairs)]


def _opening(game: Game, moves: int, rng: np.random.Generator) -> np.ndarray:
    """The position after `moves` uniformly random moves (fewer if the game ended)."""
    state = game.initial_state()
    for _ in range(moves):
        legal = np.flatnonzero(game.legal_mask(state))
        candidate = state.copy()
        game.apply_action(candidate, int(rng.choice(legal)))
        if game.status(candidate) != ONGOING:
            break
        state = candidate
    return state


def play_game(
    game: Game, first: Agent, second: Agent, seed: int = 0, start: np.ndarray | None = None
) -> int:
    """Plays one game from `start` (default: the initial position); returns 1 when the player
    who moved first from the initial position won, -1 when the other won, 0 for a draw."""
    state = game.initial_state() if start is None else start.copy()
    agents = (first, second)
    ply = 0
    while game.status(state) == ONGOING:
        agent = agents[game.to_play(state)]
        action = int(agent.act(game, state, seed * 1009 + ply))
        if not (0 <= action < game.num_actions and game.legal_mask(state)[action]):
            raise ValueError(f"{agent.name} played illegal move {action} in {game.name}")
        game.apply_action(state, action)
        ply += 1
    result = game.status(state)
    if result == DRAW:
        return 0
    return 1 if result == FIRST_PLAYER_WON else -1


def play_match(
    game: Game,
    agent: Agent,
    opponent: Agent,
    games: int,
    *,
    seed: int = 0,
    opening_moves: int = 0,
    on_game: Callable[[], None] | None = None,
) -> MatchResult:
    """`games` games, colours alternating (`agent` first in even games). With
    `opening_moves`, each pair of games starts from the same random opening, colours swapped,
    so that two deterministic players do not replay one game."""
    result = MatchResult(agent.name, opponent.name)
    starts = pair_openings(game, opening_moves, (games + 1) // 2, seed * 7919)
    for index in range(games):
        agent_first = index % 2 == 0
        start = starts[index // 2] if opening_moves else None
        players = (agent, opponent) if agent_first else (opponent, agent)
        outcome = play_game(game, *players, seed=seed * 104729 + index, start=start)
        mine = outcome if agent_first else -outcome
        result.agent_first.append(agent_first)
        result.outcomes.append(mine)
        if mine > 0:
            result.wins += 1
        elif mine < 0:
            result.losses += 1
        else:
            result.draws += 1
        if on_game is not None:
            on_game()
    return result


# ---------------------------------------------------------------- moves against perfect play


def encode_states(game: Game, states: np.ndarray) -> np.ndarray:
    planes = np.zeros((len(states), *game.plane_shape), dtype=np.float32)
    for index, state in enumerate(states):
        game.encode(state, planes[index])
    return planes


def search_actions(
    game: Game,
    states: np.ndarray,
    simulations: int,
    evaluator: mcts.Evaluator | None,
    *,
    c_puct: float = mcts.DEFAULT_C_PUCT,
    leaves_per_tree: int = mcts.DEFAULT_LEAVES_PER_BATCH,
    memory_bytes: int = SEARCH_MEMORY_BYTES,
) -> np.ndarray:
    """The move `alphazero_search` picks in each of `states` (int64 [P, state_size]), with the
    trees searched side by side: one evaluator call per round for a whole chunk of positions.
    `simulations == 0`: the policy's best legal move, one evaluator call per 4,096 positions."""
    states = np.ascontiguousarray(states, dtype=np.int64)
    count = len(states)
    actions = np.zeros(count, dtype=np.int64)
    if count == 0:
        return actions
    if simulations == 0:
        legal = np.stack([game.legal_mask(state) for state in states])
        for begin in range(0, count, 4096):
            planes = encode_states(game, states[begin : begin + 4096])
            logits, _ = mcts.evaluate(evaluator, planes, game.num_actions)
            masked = np.where(legal[begin : begin + 4096], logits, -np.inf)
            actions[begin : begin + 4096] = masked.argmax(axis=1)
        return actions
    kernels = mcts.build_kernels(game, False)
    max_nodes, max_rows = mcts.pool_sizes(game, simulations)
    per_tree = mcts.Forest.bytes_per_tree(game, max_nodes, max_rows)
    chunk = max(1, min(count, memory_bytes // per_tree))
    forest = mcts.Forest.allocate(game, chunk, max_nodes, max_rows)
    tree = forest.arrays()
    batch = chunk * leaves_per_tree
    planes = np.zeros((batch, *game.plane_shape), dtype=np.float32)
    leaf_tree = np.zeros(batch, dtype=np.int64)
    leaf_node = np.zeros(batch, dtype=np.int64)
    noise = np.zeros(chunk, dtype=np.bool_)
    cache = mcts.no_cache(game)
    visit_dist = np.zeros(game.num_actions, dtype=np.float32)
    for begin in range(0, count, chunk):
        part = states[begin : begin + chunk]
        for t, state in enumerate(part):
            kernels.init_tree(tree, t, state)
        active = np.zeros(chunk, dtype=np.bool_)
        active[: len(part)] = True
        targets = np.full(chunk, simulations, dtype=np.int64)
        while True:
            leaves = kernels.select_leaves(
                tree, active, targets, leaves_per_tree, c_puct, planes, leaf_tree, leaf_node,
                cache, False, noise, 1.0, 0.0,
            )  # fmt: skip
            if leaves == 0:
                break
            logits, values = mcts.evaluate(evaluator, planes[:leaves], game.num_actions)
            kernels.expand_backup(
                tree, leaves, leaf_tree, leaf_node, logits, values, noise, 1.0, 0.0, cache, False
            )
        for t in range(len(part)):
            _, action = kernels.root_stats(tree, t, visit_dist)
            actions[begin + t] = action
    return actions


def optimal_move_rate(
    game: Game,
    positions: PositionSet,
    evaluator: mcts.Evaluator | None,
    simulations: int,
    *,
    c_puct: float = mcts.DEFAULT_C_PUCT,
) -> float:
    """The share of `positions` where the searched move (or the policy's, at 0) is optimal."""
    actions = search_actions(game, positions.states, simulations, evaluator, c_puct=c_puct)
    return positions.optimal_rate(actions)


# ---------------------------------------------------------------- two models, command line


def score_interval(score: float, games: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval of a score (draws count half) over `games` games: unlike the
    normal approximation it does not shrink to a point at 0 or 1 (200 wins of 200 gives
    0.981-1.000, not 1.000-1.000)."""
    spread = z * z / games
    center = (score + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(score * (1 - score) / games + spread / (4 * games))
    return max(center - half, 0.0), min(center + half, 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actor.arena",
        description="Two models against each other with PUCT search, from paired random "
        "openings, colours swapped per pair; prints the first model's score.",
    )
    parser.add_argument("--game", required=True)
    parser.add_argument("model", type=Path, help="ONNX file of the first player")
    parser.add_argument("opponent", type=Path, help="ONNX file of the second player")
    parser.add_argument("--games", type=int, default=200, help="an even number")
    parser.add_argument("--simulations", type=int, default=200, help="MCTS budget of both")
    parser.add_argument("--opening-moves", type=int, default=2, help="random moves per pair")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from actor.model import ModelError, load_model
    from engine import get_game

    try:
        game = get_game(args.game)
        if args.games < 2 or args.games % 2 or args.simulations < 0 or args.opening_moves < 0:
            raise ValueError("--games must be even and >= 2; budgets and openings >= 0")
        players = []
        for path in (args.model, args.opponent):
            if not path.is_file():
                raise ValueError(f"{path} does not exist")
            model = load_model(path, game)
            players.append(AlphaZeroAgent(model, args.simulations, name=f"{path.name}"))
    except (ValueError, ModelError) as error:
        print(f"python -m actor.arena: {error}", file=sys.stderr)
        return 2
    if players[0].name == players[1].name:
        players[1].name += " (2)"
    result = play_match(
        game, players[0], players[1], args.games, seed=args.seed,
        opening_moves=args.opening_moves,
    )  # fmt: skip
    score = result.score
    low, high = score_interval(score, result.games)
    print(
        f"{players[0].name} vs {players[1].name}: {result.wins} wins, {result.draws} draws, "
        f"{result.losses} losses; score {score:.3f} (95% interval {low:.3f}-{high:.3f})"
    )
    print(json.dumps({"wins": result.wins, "draws": result.draws, "losses": result.losses,
                      "score": round(score, 4)}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
