"""Monte Carlo tree search in Numba: AlphaZero's PUCT search and classic UCT with rollouts.

Trees live in preallocated flat arrays (a `Forest`: one row of node arrays per tree), and the
tree code is compiled once per game by a cached factory that closes over the game's jitted
rules, as `engine/playouts.py` does. Python runs once per batch, never per node:

    select_leaves (jitted, all trees; writes the leaves' planes)  ->  evaluator(planes)
        ->  expand_backup (jitted, all leaves)

The evaluator is the only seam between search and evaluation (as in OpenSpiel): a network
batch, uniform priors with value 0 (`evaluator=None`), or random rollouts (`classic_mcts_search`,
fully jitted). Values are always for the side to move at the node evaluated; each node's
`value_sum` is from the view of the player who moved into it (`mover`), so a child's mean value is
what its parent's side to move expects, and the root's is the root player's own.

Node life: UNSEEN (an edge only) -> LEAF (state materialised) -> PENDING (in a batch) -> EXPANDED,
or TERMINAL (exact value) / EVALUATED (value known, but the node pool was full).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from actor import _tree_kernels
from actor._tree_kernels import EVALUATED, EXPANDED, LEAF, PENDING, TERMINAL, UNSEEN
from engine.game import ONGOING, Game
from engine.playouts import random_legal_action

Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

__all__ = ["EVALUATED", "EXPANDED", "LEAF", "PENDING", "TERMINAL", "UNSEEN"]  # node kinds
DEFAULT_C_PUCT = 1.5
DEFAULT_UCT_C = 2.0  # OpenSpiel's MCTSBot default for random-rollout MCTS
DEFAULT_LEAVES_PER_BATCH = 8  # one search (API): leaves per network call, with virtual loss
BRANCHING_CAP = 32  # node pool: children allocated per expansion, on average, at most


@dataclass(frozen=True, slots=True)
class SearchResult:
    action: int  # the move chosen (most visits)
    visits: np.ndarray  # float32 [num_actions], visit distribution at the root (sums to 1)
    value: float  # root value for the side to move, -1..1
    prior: np.ndarray  # float32 [num_actions], prior at the root (softmax over legal moves)


@dataclass
class Forest:
    """Node arrays of `num_trees` trees; tree t's root is node 0 of row t.

    Fields are packed per node (see `actor._tree_kernels`): `links[t, n]` holds the int32
    fields and `edges[t, n]` the float32 statistics a child scan reads. The named per-field
    arrays (`visits`, `kind`, ...) are views into them, for reading a tree from Python.
    """

    links: np.ndarray  # int32 [T, N, 8]: first_child, num_children, parent, action, state_row,
    #                    kind, mover (player who moved into the node; the root: its side to move)
    edges: np.ndarray  # float32 [T, N, 4]: visits (virtual ones included while a leaf is in a
    #                    batch), value_sum (from the view of `mover`), prior, node_value
    states: np.ndarray  # int64 [T, R, state_size], states of materialised nodes only
    counts: np.ndarray  # int32 [T, 2]: nodes used, state rows used

    @classmethod
    def allocate(cls, game: Game, num_trees: int, max_nodes: int, max_rows: int) -> Forest:
        shape = (num_trees, max_nodes)  # np.empty: the kernels initialise what they use
        return cls(
            np.empty((*shape, _tree_kernels.LINK_FIELDS), np.int32),
            np.empty((*shape, _tree_kernels.EDGE_FIELDS), np.float32),
            np.empty((num_trees, max_rows, game.state_size), np.int64),
            np.zeros((num_trees, 2), np.int32),
        )

    @staticmethod
    def bytes_needed(game: Game, num_trees: int, max_nodes: int, max_rows: int) -> int:
        """What `allocate` takes, before taking it."""
        node = (_tree_kernels.LINK_FIELDS + _tree_kernels.EDGE_FIELDS) * 4
        return num_trees * (max_nodes * node + max_rows * game.state_size * 8 + 8)

    def arrays(self) -> tuple:
        """The arrays as one tuple, the form the jitted kernels take."""
        return (self.links, self.edges, self.states, self.counts)

    visits = property(lambda self: self.edges[:, :, _tree_kernels.VISITS])
    value_sum = property(lambda self: self.edges[:, :, _tree_kernels.VALUE_SUM])
    prior = property(lambda self: self.edges[:, :, _tree_kernels.PRIOR])
    node_value = property(lambda self: self.edges[:, :, _tree_kernels.NODE_VALUE])
    first_child = property(lambda self: self.links[:, :, _tree_kernels.FIRST])
    num_children = property(lambda self: self.links[:, :, _tree_kernels.COUNT])
    parent = property(lambda self: self.links[:, :, _tree_kernels.PARENT])
    action = property(lambda self: self.links[:, :, _tree_kernels.ACTION])
    state_row = property(lambda self: self.links[:, :, _tree_kernels.ROW])
    kind = property(lambda self: self.links[:, :, _tree_kernels.KIND])
    mover = property(lambda self: self.links[:, :, _tree_kernels.MOVER])
    node_count = property(lambda self: self.counts[:, _tree_kernels.NODES])
    row_count = property(lambda self: self.counts[:, _tree_kernels.ROWS])

    @staticmethod
    def bytes_per_tree(game: Game, max_nodes: int, max_rows: int) -> int:
        """Memory of one tree, for sizing a forest to a budget."""
        fields = _tree_kernels.LINK_FIELDS + _tree_kernels.EDGE_FIELDS
        return max_nodes * fields * 4 + max_rows * game.state_size * 8 + 8

    def children(self, tree: int, node: int) -> np.ndarray:
        """Node indices of the children of `node` (empty unless expanded)."""
        first = self.first_child[tree, node]
        return np.arange(first, first + self.num_children[tree, node]) if first >= 0 else []


def pool_sizes(game: Game, simulations: int) -> tuple[int, int]:
    """(max_nodes, max_rows) per tree: room for a reused subtree plus `simulations` new ones."""
    rows = 2 * (simulations + 2)
    return rows * min(game.num_actions, BRANCHING_CAP), rows


class Kernels(NamedTuple):
    init_tree: Callable
    select_leaves: Callable
    expand_backup: Callable
    reroot: Callable
    root_stats: Callable
    add_root_noise: Callable
    classic_search: Callable
    play_moves: Callable
    new_game: Callable
    advance: Callable


def _rules_digest(game: Game) -> str:
    """A short hash of the source files the game's rules come from (cache invalidation)."""
    files = {__file__, inspect.getfile(_tree_kernels), inspect.getfile(random_legal_action.py_func)}
    for function in (game.legal_mask, game.apply_action, game.status, game.to_play, game.encode):
        files.add(inspect.getfile(getattr(function, "py_func", function)))
    digest = hashlib.sha1()
    for path in sorted(files):
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()[:12]


@functools.cache
def build_kernels(game: Game, uct: bool) -> Kernels:
    """The tree code of `actor._tree_kernels` compiled for `game`; `uct` picks UCT selection
    (classic MCTS) over PUCT. Compiled code is cached on disk per game and rule."""
    namespace = dict(vars(_tree_kernels))
    namespace.update(
        legal_mask=game.legal_mask,
        apply_action=game.apply_action,
        status=game.status,
        to_play=game.to_play,
        encode=game.encode,
        num_actions=game.num_actions,
        uct=bool(uct),
    )
    suffix = f"{game.name}_{'uct' if uct else 'puct'}_{_rules_digest(game)}"
    for name in _tree_kernels.TEMPLATES:
        template = getattr(_tree_kernels, name)
        copy = types.FunctionType(template.__code__, namespace, name)
        copy.__qualname__ = f"{name}__{suffix}"
        copy.__module__ = _tree_kernels.__name__
        copy.__doc__ = template.__doc__
        # nogil: the API's event loop keeps answering while a search runs in a thread
        namespace[name] = numba.njit(cache=True, nogil=True)(copy)
    return Kernels(*(namespace[name] for name in Kernels._fields))


@numba.njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed Numba's own generator (separate from NumPy's), used by noise and sampling."""
    np.random.seed(seed)


def no_cache(game: Game) -> tuple:
    """An empty evaluation cache, for the searches that keep none (`use_cache` False)."""
    return (
        np.zeros(1, np.int64),
        np.zeros((1, game.state_size), np.int64),
        np.zeros((1, game.num_actions), np.float32),
        np.zeros(1, np.float32),
    )


def softmax_legal(logits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """The policy over the legal moves (`legal`: a boolean mask) from the network's logits."""
    masked = np.where(legal, logits.astype(np.float64), -np.inf)
    exp = np.exp(masked - masked.max())
    return (exp / exp.sum()).astype(np.float32)


def evaluate(evaluator: Evaluator | None, planes: np.ndarray, num_actions: int):
    """(logits float32 [B, A], values float32 [B]) for `planes`; checked, never trusted."""
    count = planes.shape[0]
    if evaluator is None:
        return np.zeros((count, num_actions), np.float32), np.zeros(count, np.float32)
    logits, values = evaluator(planes)
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    values = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if logits.shape != (count, num_actions) or values.shape != (count,):
        raise ValueError(
            f"evaluator returned policy {logits.shape} and value {values.shape} for a batch of "
            f"{count}; expected ({count}, {num_actions}) and ({count},)"
        )
    if not (np.isfinite(logits).all() and np.isfinite(values).all()):
        raise ValueError("evaluator returned non-finite numbers")
    return logits, np.clip(values, -1.0, 1.0)


def _check_search_input(game: Game, state: np.ndarray, simulations: int) -> np.ndarray:
    state = np.asarray(state)
    if state.dtype != np.int64 or state.shape != (game.state_size,):
        raise ValueError(f"{game.name} state must be int64 of shape ({game.state_size},)")
    if isinstance(simulations, bool) or not isinstance(simulations, int | np.integer):
        raise ValueError(f"simulations must be an integer, got {simulations!r}")
    if simulations < 0:
        raise ValueError(f"simulations must be >= 0, got {simulations}")
    if game.status(state) != ONGOING:
        raise ValueError("the game is over: nothing to search")
    return state


def alphazero_search(
    game: Game,
    state: np.ndarray,
    simulations: int,
    evaluator: Evaluator | None,
    *,
    c_puct: float = DEFAULT_C_PUCT,
    seed: int = 0,
    add_noise: bool = False,
    dirichlet_alpha: float | None = None,
    dirichlet_fraction: float = 0.25,
    leaves_per_batch: int = DEFAULT_LEAVES_PER_BATCH,
    forest: Forest | None = None,
) -> SearchResult:
    """PUCT search from `state` with `simulations` evaluations after the root's, batching up to
    `leaves_per_batch` leaves per evaluator call. `simulations == 0`: the prior's best move.
    Pass `forest` (a one-tree Forest) to look at the tree afterwards."""
    state = _check_search_input(game, state, simulations)
    kernels = build_kernels(game, False)
    if forest is None:
        forest = Forest.allocate(game, 1, *pool_sizes(game, simulations))
    tree = forest.arrays()
    seed_numba(seed)
    kernels.init_tree(tree, 0, state)
    alpha = float(game.dirichlet_alpha if dirichlet_alpha is None else dirichlet_alpha)
    # The tree's settings as a row of self-play's per-game table, whose columns the kernels
    # take: arguments of self-play's types load the code a self-play worker compiled from
    # Numba's disk cache instead of compiling a second copy of the search. Row 1 is an inactive
    # tree, there so that the columns are strided views (of one row they would be contiguous).
    games = np.zeros((2, _tree_kernels.GAME_FIELDS), np.int64)
    games[0, _tree_kernels.ACTIVE] = 1
    games[0, _tree_kernels.NOISE] = add_noise
    games[0, _tree_kernels.TARGET] = simulations
    active = games[:, _tree_kernels.ACTIVE]
    noise = games[:, _tree_kernels.NOISE]
    targets = games[:, _tree_kernels.TARGET]
    c_puct, dirichlet_fraction = float(c_puct), float(dirichlet_fraction)
    batch = max(1, int(leaves_per_batch))
    planes = np.zeros((batch, *game.plane_shape), np.float32)
    leaf_tree = np.zeros(batch, np.int64)
    leaf_node = np.zeros(batch, np.int64)
    legal = game.legal_mask(state)
    cache = no_cache(game)
    prior = None
    root_value = 0.0
    while True:
        count = kernels.select_leaves(
            tree, active, targets, batch, c_puct, planes, leaf_tree, leaf_node, cache, False,
            noise, alpha, dirichlet_fraction,
        )  # fmt: skip
        if count == 0:
            break
        logits, values = evaluate(evaluator, planes[:count], game.num_actions)
        if prior is None:  # the first batch is the root alone
            prior = softmax_legal(logits[0], legal)
            root_value = float(values[0])
            if simulations == 0:
                action = int(np.argmax(prior))
                return SearchResult(action, prior.copy(), root_value, prior)
        kernels.expand_backup(
            tree, count, leaf_tree, leaf_node, logits, values, noise, alpha, dirichlet_fraction,
            cache, False,
        )  # fmt: skip
    visit_dist = np.zeros(game.num_actions, np.float32)
    value, action = kernels.root_stats(tree, 0, visit_dist)
    return SearchResult(int(action), visit_dist, float(value), prior)


def classic_mcts_search(
    game: Game,
    state: np.ndarray,
    simulations: int,
    *,
    seed: int = 0,
    uct_c: float = DEFAULT_UCT_C,
    forest: Forest | None = None,
) -> SearchResult:
    """UCT search with one uniformly random rollout per leaf, jitted end to end."""
    state = _check_search_input(game, state, simulations)
    kernels = build_kernels(game, True)
    if forest is None:
        forest = Forest.allocate(game, 1, *pool_sizes(game, simulations))
    kernels.classic_search(forest.arrays(), state, simulations, uct_c, seed)
    visit_dist = np.zeros(game.num_actions, np.float32)
    value, action = kernels.root_stats(forest.arrays(), 0, visit_dist)
    legal = game.legal_mask(state)
    prior = (legal / legal.sum()).astype(np.float32)
    if action < 0:  # no simulation reached a child (simulations == 0)
        action = int(np.argmax(prior))
        visit_dist = prior.copy()
    return SearchResult(int(action), visit_dist, float(value), prior)
