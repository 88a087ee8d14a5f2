"""The generic tree code, written once, compiled per game (and per selection rule).

These are plain Python functions over the arrays of `actor.mcts.Forest`. They call the game's
rules through module-level names that are placeholders here: `actor.mcts.build_kernels` copies
each function with a namespace that binds those names to one game's jitted functions and `uct`
to the selection rule, gives the copy a per-game name, and jits it with `cache=True`. A copy's
name carries a hash of the sources, so Numba's disk cache is reused across processes and never
serves code compiled against older rules.

Speed rules (measured with `benchmarks/selfplay.py --profile` and perf): a jitted function
that takes arrays and calls another function that takes arrays pays an atomic reference-count
increment and decrement per array at its entry and exit (Numba's pruning only removes them
from functions that call nothing). A 14-array tuple handed to every helper would make that most
of the time per leaf. So: the entry points take `tree = (links, edges, states, counts)` and
unpack it once; the per-leaf helpers (`select_child`, `add_virtual_loss`, `expand`, `backup`)
call nothing; the game's rules are called from the entry points on views made inside the call
expression. Node fields are packed per node (`links[t, n, :]`, `edges[t, n, :]`), so a child
scan reads one 16-byte record per child and a path walk one 32-byte record per node.

Compile time (a first start compiles this before the first self-play game): arrays are copied
with loops, never by slice assignment (`a[:] = b`): for its shape-mismatch message Numba
compiles string formatting code, a third of a self-play worker's compile time.
"""

import math

import numpy as np

from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON
from engine.playouts import random_legal_action

UNSEEN, LEAF, PENDING, EXPANDED, TERMINAL, EVALUATED = 0, 1, 2, 3, 4, 5
VIRTUAL_LOSS = 1.0
# links int32 [T, N, LINK_FIELDS]
FIRST, COUNT, PARENT, ACTION, ROW, KIND, MOVER = 0, 1, 2, 3, 4, 5, 6
LINK_FIELDS = 8
# edges float32 [T, N, EDGE_FIELDS]: what a child scan reads, side by side
VISITS, VALUE_SUM, PRIOR, NODE_VALUE = 0, 1, 2, 3
EDGE_FIELDS = 4
# counts int32 [T, 2]
NODES, ROWS = 0, 1
# evaluation cache: the network's answers by position, (keys int64 [C] (0: empty), states
# int64 [C, state_size], logits float32 [C, A], values float32 [C]); C a power of two
FNV_OFFSET, FNV_PRIME = 14695981039346656037, 1099511628211
# per-game slots of batched self-play, int64 [G, GAME_FIELDS]
TARGET, PLY, TEMPERATURE_MOVES, FINISHED, OUTCOME, NOISE, ACTIVE, OPENING = range(8)
GAME_FIELDS = 8

# Bound per game by actor.mcts.build_kernels (placeholders so the module reads and lints).
legal_mask = apply_action = status = to_play = encode = None
num_actions = 0
uct = False  # True: UCT selection with random tie-breaks among unvisited (classic MCTS)


TEMPLATES = (
    "terminal_value", "cache_slot", "init_tree", "select_child", "materialise", "add_virtual_loss",
    "backup", "add_root_noise", "expand", "select_leaves", "expand_backup", "root_stats",
    "reroot", "rollout", "classic_search", "pick", "new_game", "play_moves",
    "check_evaluations", "advance",
)  # fmt: skip
def terminal_value(state):
    """Exact value of a finished game for the side that would move next."""
    result = status(state)
    if result == DRAW:
        return 0.0
    winner = 0 if result == FIRST_PLAYER_WON else 1
    return 1.0 if winner == to_play(state) else -1.0


def cache_slot(cache, state):
    """(slot, key, found) of `state` in the evaluation cache: where it is, or where it goes
    (one slot per key, the newest answer wins). The key is FNV-1a over the state's words,
    mixed so that the slot bits depend on every bit; a hit also compares the whole state."""
    keys, states = cache[0], cache[1]
    h = np.uint64(FNV_OFFSET)
    for i in range(state.shape[0]):
        h = (h ^ np.uint64(state[i])) * np.uint64(FNV_PRIME)
        h ^= h >> np.uint64(29)
    key = np.int64(h | np.uint64(1))  # never 0, the empty mark
    slot = np.int64(h >> np.uint64(17)) & (keys.shape[0] - 1)
    if keys[slot] != key:
        return slot, key, False
    for i in range(state.shape[0]):
        if states[slot, i] != state[i]:
            return slot, key, False
    return slot, key, True


def init_tree(tree, t, state):
    links, edges, states, counts = tree
    for i in range(states.shape[2]):
        states[t, 0, i] = state[i]
    counts[t, NODES] = 1
    counts[t, ROWS] = 1
    edges[t, 0, VISITS] = 0.0
    edges[t, 0, VALUE_SUM] = 0.0
    edges[t, 0, PRIOR] = 1.0
    links[t, 0, FIRST] = -1
    links[t, 0, COUNT] = 0
    links[t, 0, PARENT] = -1
    links[t, 0, ACTION] = -1
    links[t, 0, MOVER] = to_play(state)
    links[t, 0, ROW] = 0
    if status(state) != ONGOING:
        links[t, 0, KIND] = TERMINAL
        edges[t, 0, NODE_VALUE] = terminal_value(state)
    else:
        links[t, 0, KIND] = LEAF
        edges[t, 0, NODE_VALUE] = 0.0


def select_child(links, edges, t, node, c):
    first = links[t, node, FIRST]
    count = links[t, node, COUNT]
    parent_visits = max(edges[t, node, VISITS], 1.0)
    if uct:
        unvisited = 0
        for child in range(first, first + count):
            if edges[t, child, VISITS] == 0:
                unvisited += 1
        if unvisited > 0:  # OpenSpiel shuffles children; try unvisited ones in random order
            pick = np.random.randint(unvisited)
            for child in range(first, first + count):
                if edges[t, child, VISITS] == 0:
                    if pick == 0:
                        return child
                    pick -= 1
        log_n = math.log(parent_visits)
        best, best_score = first, -np.inf
        for child in range(first, first + count):
            n = np.float64(edges[t, child, VISITS])
            score = edges[t, child, VALUE_SUM] / n + c * math.sqrt(log_n / n)
            if score > best_score:
                best, best_score = child, score
        return best
    scale = c * math.sqrt(parent_visits)
    best, best_score = first, -np.inf
    for child in range(first, first + count):
        n = np.float64(edges[t, child, VISITS])  # float64 arithmetic, as with integer visits
        q = edges[t, child, VALUE_SUM] / max(n, 1.0)  # branch-free: no visits, no value
        score = q + scale * edges[t, child, PRIOR] / (1.0 + n)
        if score > best_score:
            best, best_score = child, score
    return best


def materialise(links, edges, states, counts, t, node):
    """Give `node` a state row (parent's state + its move); False when rows are full."""
    row = counts[t, ROWS]
    if row >= states.shape[1]:
        return False
    counts[t, ROWS] = row + 1
    parent_row = links[t, links[t, node, PARENT], ROW]
    for i in range(states.shape[2]):
        states[t, row, i] = states[t, parent_row, i]
    state = states[t, row]
    apply_action(state, links[t, node, ACTION])
    links[t, node, ROW] = row
    if status(state) != ONGOING:
        links[t, node, KIND] = TERMINAL
        edges[t, node, NODE_VALUE] = terminal_value(state)
    else:
        links[t, node, KIND] = LEAF
    return True


def add_virtual_loss(links, edges, t, leaf):
    node = leaf
    while node >= 0:
        edges[t, node, VISITS] += 1.0
        edges[t, node, VALUE_SUM] -= VIRTUAL_LOSS
        node = links[t, node, PARENT]


def backup(links, edges, t, leaf, player, value, virtual):
    """Add `value` (for `player`, the side to move at `leaf`) to the path; undo virtual loss if
    any."""
    node = leaf
    while node >= 0:
        signed = value if links[t, node, MOVER] == player else -value
        if virtual:
            edges[t, node, VALUE_SUM] += signed + VIRTUAL_LOSS
        else:
            edges[t, node, VISITS] += 1.0
            edges[t, node, VALUE_SUM] += signed
        node = links[t, node, PARENT]


def add_root_noise(tree, t, alpha, fraction):
    links, edges = tree[0], tree[1]
    first = links[t, 0, FIRST]
    count = links[t, 0, COUNT]
    noise = np.empty(count)
    for k in range(count):
        noise[k] = np.random.gamma(alpha, 1.0)
    total = noise.sum()
    if total <= 0.0:
        return
    for k in range(count):
        child = first + k
        mixed = (1.0 - fraction) * edges[t, child, PRIOR] + fraction * noise[k] / total
        edges[t, child, PRIOR] = mixed


def expand(links, edges, counts, t, node, logits, mask, player, weights):
    """Create `node`'s children with softmax priors over the legal moves `mask` (`player`: the
    side to move there; `weights`: a scratch buffer of num_actions entries). Numba does not
    prune this one's reference counting, so the batched path (`expand_backup`) has it inline,
    with the same float32 arithmetic: a cached answer gives the priors the network's did."""
    count = 0
    top = np.float32(-np.inf)
    for a in range(num_actions):
        if mask[a]:
            count += 1
            top = max(top, logits[a])
    first = counts[t, NODES]
    if first + count > links.shape[1]:
        links[t, node, KIND] = EVALUATED  # pool full: keep the value, never expand
    else:
        counts[t, NODES] = first + count
        total = np.float32(0.0)
        for a in range(num_actions):
            if mask[a]:
                weights[a] = math.exp(logits[a] - top)
                total += weights[a]
        scale = 1.0 / total
        child = first
        for a in range(num_actions):
            if mask[a]:
                edges[t, child, VISITS] = 0.0
                edges[t, child, VALUE_SUM] = 0.0
                edges[t, child, PRIOR] = weights[a] * scale
                edges[t, child, NODE_VALUE] = 0.0
                links[t, child, FIRST] = -1
                links[t, child, COUNT] = 0
                links[t, child, PARENT] = node
                links[t, child, ACTION] = a
                links[t, child, ROW] = -1
                links[t, child, KIND] = UNSEEN
                links[t, child, MOVER] = player
                child += 1
        links[t, node, FIRST] = first
        links[t, node, COUNT] = count
        links[t, node, KIND] = EXPANDED


def select_leaves(tree, active, targets, leaves_per_tree, c, planes, leaf_tree, leaf_node,
                  cache, use_cache, noise, alpha, fraction):  # fmt: skip
    """Pick up to `leaves_per_tree` leaves in each active tree (virtual loss between them),
    write their planes, and return how many. Terminal leaves are backed up on the spot, and
    so, when `use_cache`, are leaves whose position is in the evaluation cache (expanded with
    the cached answer, Dirichlet noise at a root where `noise[t]`). A tree stops at
    `targets[t]` simulations (root visits minus its own evaluation)."""
    links, edges, states, counts = tree
    mask = np.empty(num_actions, np.bool_)
    weights = np.empty(num_actions, np.float32)
    count = 0
    for t in range(active.shape[0]):
        if not active[t]:
            continue
        picked = 0
        while picked < leaves_per_tree and count < planes.shape[0]:
            root_kind = links[t, 0, KIND]
            if root_kind == LEAF:  # the root itself is not evaluated yet
                leaf = 0
            elif root_kind != EXPANDED or edges[t, 0, VISITS] - 1 >= targets[t]:
                break
            else:  # descend (materialise inlined: see the module's speed rules)
                leaf = 0
                while links[t, leaf, KIND] == EXPANDED:
                    leaf = select_child(links, edges, t, leaf, c)
                    if links[t, leaf, KIND] != UNSEEN:
                        continue
                    row = counts[t, ROWS]
                    if row >= states.shape[1]:
                        leaf = -1
                        break
                    counts[t, ROWS] = row + 1
                    parent_row = links[t, links[t, leaf, PARENT], ROW]
                    for i in range(states.shape[2]):
                        states[t, row, i] = states[t, parent_row, i]
                    apply_action(states[t, row], links[t, leaf, ACTION])
                    links[t, leaf, ROW] = row
                    links[t, leaf, KIND] = LEAF
                    if status(states[t, row]) != ONGOING:
                        links[t, leaf, KIND] = TERMINAL
                        edges[t, leaf, NODE_VALUE] = terminal_value(states[t, row])
                if leaf < 0:  # no room left: stop this search where it is
                    targets[t] = np.int64(edges[t, 0, VISITS]) - 1
                    break
            kind = links[t, leaf, KIND]
            if kind == TERMINAL or kind == EVALUATED:
                player = to_play(states[t, links[t, leaf, ROW]])
                backup(links, edges, t, leaf, player, edges[t, leaf, NODE_VALUE], False)
                continue
            if kind == PENDING:  # already in this batch: try again next batch
                break
            if use_cache:
                slot, _, found = cache_slot(cache, states[t, links[t, leaf, ROW]])
                if found:  # the network's answer is known: no batch slot
                    state = states[t, links[t, leaf, ROW]]
                    player = to_play(state)
                    value = np.float64(cache[3][slot])
                    edges[t, leaf, NODE_VALUE] = value
                    expand(links, edges, counts, t, leaf, cache[2][slot], legal_mask(state, mask),
                           player, weights)  # fmt: skip
                    if leaf == 0 and noise[t]:
                        add_root_noise(tree, t, alpha, fraction)
                    backup(links, edges, t, leaf, player, value, False)
                    continue
            links[t, leaf, KIND] = PENDING
            add_virtual_loss(links, edges, t, leaf)
            encode(states[t, links[t, leaf, ROW]], planes[count])
            leaf_tree[count] = t
            leaf_node[count] = leaf
            count += 1
            picked += 1
            if leaf == 0:
                break
    return count


def expand_backup(tree, count, leaf_tree, leaf_node, logits, values, noise, alpha, fraction,
                  cache, use_cache):  # fmt: skip
    """Expand each evaluated leaf (softmax priors over its legal moves) and back its value
    (clipped to -1..1) up, adding Dirichlet noise at a root where `noise[t]`; when `use_cache`,
    keep the answer in the evaluation cache. This is `expand` and `backup` inline: a per-leaf
    call to a function taking arrays costs atomic reference counting (see the module's speed
    rules)."""
    links, edges, states, counts = tree
    mask = np.empty(num_actions, np.bool_)
    weights = np.empty(num_actions, np.float32)
    max_nodes = links.shape[1]
    for b in range(count):
        t = leaf_tree[b]
        node = leaf_node[b]
        value = min(max(np.float64(values[b]), -1.0), 1.0)
        edges[t, node, NODE_VALUE] = value
        row = links[t, node, ROW]
        legal_mask(states[t, row], mask)
        player = to_play(states[t, row])
        if use_cache:
            slot, key, _ = cache_slot(cache, states[t, row])
            cache[0][slot] = key
            for i in range(states.shape[2]):
                cache[1][slot, i] = states[t, row, i]
            for a in range(num_actions):
                cache[2][slot, a] = logits[b, a]
            cache[3][slot] = value
        legal = 0
        top = np.float32(-np.inf)
        for a in range(num_actions):
            if mask[a]:
                legal += 1
                top = max(top, logits[b, a])
        first = counts[t, NODES]
        if first + legal > max_nodes:
            links[t, node, KIND] = EVALUATED  # pool full: keep the value, never expand
        else:
            counts[t, NODES] = first + legal
            total = np.float32(0.0)
            for a in range(num_actions):
                if mask[a]:
                    weights[a] = math.exp(logits[b, a] - top)
                    total += weights[a]
            scale = 1.0 / total
            child = first
            for a in range(num_actions):
                if mask[a]:
                    edges[t, child, VISITS] = 0.0
                    edges[t, child, VALUE_SUM] = 0.0
                    edges[t, child, PRIOR] = weights[a] * scale
                    edges[t, child, NODE_VALUE] = 0.0
                    links[t, child, FIRST] = -1
                    links[t, child, COUNT] = 0
                    links[t, child, PARENT] = node
                    links[t, child, ACTION] = a
                    links[t, child, ROW] = -1
                    links[t, child, KIND] = UNSEEN
                    links[t, child, MOVER] = player
                    child += 1
            links[t, node, FIRST] = first
            links[t, node, COUNT] = legal
            links[t, node, KIND] = EXPANDED
            if node == 0 and noise[t]:
                add_root_noise(tree, t, alpha, fraction)
        backup(links, edges, t, node, player, value, True)


def root_stats(tree, t, visit_dist):
    """Fill the root's visit distribution; return (root value, most-visited action)."""
    links, edges = tree[0], tree[1]
    first = links[t, 0, FIRST]
    count = links[t, 0, COUNT]
    visit_dist[:] = 0.0
    total = 0.0
    best, best_visits = -1, -1.0
    for child in range(first, first + count):
        visits = edges[t, child, VISITS]
        total += visits
        if visits > best_visits:
            best, best_visits = links[t, child, ACTION], visits
    for child in range(first, first + count):
        visit_dist[links[t, child, ACTION]] = edges[t, child, VISITS] / max(total, 1.0)
    root_visits = edges[t, 0, VISITS]
    root_value = edges[t, 0, VALUE_SUM] / root_visits if root_visits > 0 else 0.0
    return root_value, best


def reroot(tree, t, new_root, scratch, order):
    """Make `new_root`'s subtree the whole tree t (breadth-first copy through `scratch`,
    a one-tree Forest), keeping its statistics; the root's value turns to its own view."""
    links, edges, states, counts = tree
    s_links, s_edges, s_states = scratch[0], scratch[1], scratch[2]
    if links[t, new_root, KIND] == UNSEEN:
        materialise(links, edges, states, counts, t, new_root)
    order[0] = new_root
    head, tail, rows = 0, 1, 0
    while head < tail:
        old = order[head]
        for f in range(EDGE_FIELDS):
            s_edges[0, head, f] = edges[t, old, f]
        for f in range(LINK_FIELDS):
            s_links[0, head, f] = links[t, old, f]
        old_row = links[t, old, ROW]
        if old_row >= 0:
            s_links[0, head, ROW] = rows
            for i in range(states.shape[2]):
                s_states[0, rows, i] = states[t, old_row, i]
            rows += 1
        if links[t, old, KIND] == EXPANDED:
            first = links[t, old, FIRST]
            s_links[0, head, FIRST] = tail
            for k in range(links[t, old, COUNT]):
                order[tail] = first + k
                tail += 1
        else:
            s_links[0, head, FIRST] = -1
            s_links[0, head, COUNT] = 0
        head += 1
    for node in range(tail):  # children's parents, in the new numbering
        first = s_links[0, node, FIRST]
        for k in range(s_links[0, node, COUNT]):
            s_links[0, first + k, PARENT] = node
    for node in range(tail):
        for f in range(LINK_FIELDS):
            links[t, node, f] = s_links[0, node, f]
        for f in range(EDGE_FIELDS):
            edges[t, node, f] = s_edges[0, node, f]
    for row in range(rows):
        for i in range(states.shape[2]):
            states[t, row, i] = s_states[0, row, i]
    counts[t, NODES] = tail
    counts[t, ROWS] = rows
    player = to_play(states[t, 0])
    if links[t, 0, MOVER] != player:
        edges[t, 0, VALUE_SUM] = -edges[t, 0, VALUE_SUM]
        links[t, 0, MOVER] = player
    links[t, 0, PARENT] = -1
    links[t, 0, ACTION] = -1
    edges[t, 0, PRIOR] = 1.0
    if links[t, 0, KIND] == EVALUATED:  # evaluated but never expanded: start it afresh
        links[t, 0, KIND] = LEAF
        edges[t, 0, VISITS] = 0.0
        edges[t, 0, VALUE_SUM] = 0.0


def rollout(state, work, mask):
    """Random playout from `state` (in `work`); the result for the side to move in `state`."""
    player = to_play(state)
    for i in range(work.shape[0]):
        work[i] = state[i]
    while status(work) == ONGOING:
        apply_action(work, random_legal_action(legal_mask(work, mask)))
    value = terminal_value(work)
    return value if to_play(work) == player else -value


def classic_search(tree, state, simulations, c, seed):
    """UCT with one random rollout per leaf, the whole search in one call (tree 0).

    As in OpenSpiel's MCTSBot, a leaf's first visit is a rollout only; it is expanded when
    a simulation comes back to it, so leaves seen once cost no child nodes."""
    np.random.seed(seed)
    init_tree(tree, 0, state)
    links, edges, states, counts = tree
    uniform = np.zeros(num_actions, np.float32)
    mask = np.empty(num_actions, np.bool_)
    weights = np.empty(num_actions, np.float32)
    work = state.copy()
    for _ in range(simulations + 1):  # the first one evaluates the root
        node = 0
        while True:
            kind = links[0, node, KIND]
            if kind == EXPANDED:
                node = select_child(links, edges, 0, node, c)
                if links[0, node, KIND] == UNSEEN and not materialise(
                    links, edges, states, counts, 0, node
                ):
                    return
            elif kind == TERMINAL:
                player = to_play(states[0, links[0, node, ROW]])
                backup(links, edges, 0, node, player, edges[0, node, NODE_VALUE], False)
                break
            elif edges[0, node, VISITS] > 0 and kind == LEAF:
                legal_mask(states[0, links[0, node, ROW]], mask)
                player = to_play(states[0, links[0, node, ROW]])
                expand(links, edges, counts, 0, node, uniform, mask, player, weights)
            else:  # first visit (or EVALUATED: pool full)
                player = to_play(states[0, links[0, node, ROW]])
                value = rollout(states[0, links[0, node, ROW]], work, mask)
                backup(links, edges, 0, node, player, value, False)
                break


def pick(visit_dist, temperature):
    """Sample an action with probability ~ visits ** (1 / temperature); the most visited (ties
    at random) at temperature 0."""
    if temperature > 0.0:
        weights = visit_dist / np.float64(visit_dist.max())  # the top move keeps weight 1:
        if temperature != 1.0:  # a low temperature cannot underflow every weight to 0
            weights = weights ** (1.0 / temperature)
        r = np.random.random() * weights.sum()
        acc = 0.0
        last = -1
        for a in range(num_actions):
            if weights[a] > 0.0:
                last = a
                acc += weights[a]
                if r < acc:
                    return a
        return last
    top = visit_dist.max()
    ties = 0
    for a in range(num_actions):
        if visit_dist[a] == top:
            ties += 1
    k = np.random.randint(ties)
    for a in range(num_actions):
        if visit_dist[a] == top:
            if k == 0:
                return a
            k -= 1
    return -1


def new_game(tree, t, games, openings, initial, opening_moves, work, mask, simulations):
    """Start slot t's next game: from `initial` after a uniformly random number (0 to
    `opening_moves`) of uniformly random moves, so self-play also meets positions strong play
    never reaches. The moves go to `openings[t]` and their count to OPENING: the slot's record
    rows may still hold the game that just ended, so Python moves them in when it collects
    that one (`SelfPlay._start_record`). A random move that would end the game ends the
    opening."""
    for i in range(work.shape[0]):
        work[i] = initial[i]
    plies = np.random.randint(opening_moves + 1) if opening_moves > 0 else 0
    ply = 0
    while ply < plies:
        action = random_legal_action(legal_mask(work, mask))
        state = work.copy()
        apply_action(state, action)
        if status(state) != ONGOING:
            break
        for i in range(work.shape[0]):
            work[i] = state[i]
        openings[t, ply] = action
        ply += 1
    games[t, OPENING] = ply
    games[t, TARGET] = simulations
    init_tree(tree, t, work)


def play_moves(tree, scratch, order, games, rec_moves, rec_visits, rec_values, openings,
               initial, alpha, fraction, simulations, min_new, reuse, final_temperature,
               opening_moves):  # fmt: skip
    """Every game whose search is done plays its move (sampled by visits for the first
    TEMPERATURE_MOVES plies, then at `final_temperature`; record row, tree reuse); a game that
    ends is marked FINISHED (its record stays until Python collects it) and its slot starts a
    new game at once. Returns (moves played, games finished)."""
    links, edges, states = tree[0], tree[1], tree[2]
    moves_played = 0
    finished_now = 0
    visit_dist = np.zeros(num_actions, np.float32)
    for t in range(games.shape[0]):
        if (
            links[t, 0, KIND] != EXPANDED
            or edges[t, 0, VISITS] - 1 < games[t, TARGET]
            or games[t, FINISHED]
        ):
            continue
        ply = games[t, PLY]
        root_value, _ = root_stats(tree, t, visit_dist)
        chosen = pick(visit_dist, 1.0 if ply < games[t, TEMPERATURE_MOVES] else final_temperature)
        rec_moves[t, ply] = chosen
        for a in range(num_actions):
            rec_visits[t, ply, a] = visit_dist[a]
        rec_values[t, ply] = root_value
        games[t, PLY] = ply + 1
        moves_played += 1
        child = links[t, 0, FIRST]
        while links[t, child, ACTION] != chosen:
            child += 1
        reroot(tree, t, child, scratch, order)  # materialises the child's state if needed
        if not reuse:
            init_tree(tree, t, states[t, 0].copy())
        if links[t, 0, KIND] == TERMINAL:
            result = status(states[t, links[t, 0, ROW]])
            games[t, FINISHED] = 1
            games[t, OUTCOME] = (
                1 if result == FIRST_PLAYER_WON else (-1 if result == SECOND_PLAYER_WON else 0)
            )
            finished_now += 1
            work, mask = initial.copy(), np.zeros(num_actions, np.bool_)  # per game, not step
            new_game(tree, t, games, openings, initial, opening_moves, work, mask, simulations)
            continue
        games[t, TARGET] = max(simulations, np.int64(edges[t, 0, VISITS]) - 1 + min_new)
        if games[t, NOISE] and links[t, 0, KIND] == EXPANDED:
            add_root_noise(tree, t, alpha, fraction)
    return moves_played, finished_now


def check_evaluations(count, logits, values):
    """False when a network answer holds a NaN or an infinity (checked before any use)."""
    for b in range(count):
        if not math.isfinite(values[b]):
            return False
        for a in range(num_actions):
            if not math.isfinite(logits[b, a]):
                return False
    return True


def advance(tree, scratch, order, games, rec_moves, rec_visits, rec_values, openings, initial,
            count, logits, values, planes, leaf_tree, leaf_node, leaves_per_tree, c, alpha,
            fraction, simulations, min_new, reuse, final_temperature, opening_moves, cache,
            use_cache):  # fmt: skip
    """One self-play round after the network answered for the `count` pending leaves: back
    them up, play the moves whose search is done, and select (and encode) the next batch.
    Returns (next batch size, moves played, games finished); (-1, 0, 0) on a non-finite
    answer, with nothing changed."""
    if not check_evaluations(count, logits, values):
        return -1, 0, 0
    noise = games[:, NOISE]
    expand_backup(tree, count, leaf_tree, leaf_node, logits, values, noise, alpha, fraction,
                  cache, use_cache)  # fmt: skip
    moves, finished = play_moves(
        tree, scratch, order, games, rec_moves, rec_visits, rec_values, openings, initial,
        alpha, fraction, simulations, min_new, reuse, final_temperature, opening_moves,
    )  # fmt: skip
    next_count = select_leaves(
        tree, games[:, ACTIVE], games[:, TARGET], leaves_per_tree, c, planes, leaf_tree,
        leaf_node, cache, use_cache, noise, alpha, fraction,
    )  # fmt: skip
    return next_count, moves, finished
