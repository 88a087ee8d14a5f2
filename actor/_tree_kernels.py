"""The generic tree code, written once, compiled per game (and per selection rule).

These are plain Python functions over the flat arrays of `actor.mcts.Forest` (passed as one
tuple, `tree`). They call the game's rules through module-level names that are placeholders
here: `actor.mcts.build_kernels` copies each function with a namespace that binds those names to
one game's jitted functions and `uct` to the selection rule, gives the copy a per-game name,
and jits it with `cache=True`. A copy's name carries a hash of the game's source, so Numba's disk
cache is reused across processes and never serves code compiled against older rules.
"""

import math

import numpy as np

from engine.game import DRAW, FIRST_PLAYER_WON, ONGOING, SECOND_PLAYER_WON
from engine.playouts import random_legal_action

UNSEEN, LEAF, PENDING, EXPANDED, TERMINAL, EVALUATED = 0, 1, 2, 3, 4, 5
VIRTUAL_LOSS = 1.0

# Bound per game by actor.mcts.build_kernels (placeholders so the module reads and lints).
legal_mask = apply_action = status = to_play = encode = None
num_actions = 0
uct = False  # True: UCT selection with random tie-breaks among unvisited (classic MCTS)

TEMPLATES = (
    "terminal_value", "init_tree", "select_child", "materialise", "descend", "add_virtual_loss",
    "backup", "add_root_noise", "expand", "select_leaves", "expand_backup", "root_stats",
    "reroot", "rollout", "classic_search", "pick", "play_moves",
)  # fmt: skip


def terminal_value(state):
    """Exact value of a finished game for the side that would move next."""
    result = status(state)
    if result == DRAW:
        return 0.0
    winner = 0 if result == FIRST_PLAYER_WON else 1
    return 1.0 if winner == to_play(state) else -1.0


def init_tree(tree, t, state):
    (visits, value_sum, prior, node_value, first_child, num_children, parent, action,
     mover, kind, state_row, states, node_count, row_count) = tree  # fmt: skip
    states[t, 0, :] = state
    node_count[t] = 1
    row_count[t] = 1
    visits[t, 0] = 0
    value_sum[t, 0] = 0.0
    prior[t, 0] = 1.0
    first_child[t, 0] = -1
    num_children[t, 0] = 0
    parent[t, 0] = -1
    action[t, 0] = -1
    mover[t, 0] = to_play(state)
    state_row[t, 0] = 0
    if status(state) != ONGOING:
        kind[t, 0] = TERMINAL
        node_value[t, 0] = terminal_value(state)
    else:
        kind[t, 0] = LEAF
        node_value[t, 0] = 0.0


def select_child(tree, t, node, c):
    visits, value_sum, prior = tree[0], tree[1], tree[2]
    first = tree[4][t, node]
    count = tree[5][t, node]
    parent_visits = max(visits[t, node], 1)
    if uct:
        unvisited = 0
        for child in range(first, first + count):
            if visits[t, child] == 0:
                unvisited += 1
        if unvisited > 0:  # OpenSpiel shuffles children; try unvisited ones in random order
            pick = np.random.randint(unvisited)
            for child in range(first, first + count):
                if visits[t, child] == 0:
                    if pick == 0:
                        return child
                    pick -= 1
        log_n = math.log(parent_visits)
        best, best_score = first, -np.inf
        for child in range(first, first + count):
            n = visits[t, child]
            score = value_sum[t, child] / n + c * math.sqrt(log_n / n)
            if score > best_score:
                best, best_score = child, score
        return best
    scale = c * math.sqrt(parent_visits)
    best, best_score = first, -np.inf
    for child in range(first, first + count):
        n = visits[t, child]
        q = value_sum[t, child] / n if n > 0 else 0.0
        score = q + scale * prior[t, child] / (1.0 + n)
        if score > best_score:
            best, best_score = child, score
    return best


def materialise(tree, t, node):
    """Give `node` a state row (parent's state + its move); False when rows are full."""
    kind, state_row, states, row_count = tree[9], tree[10], tree[11], tree[13]
    row = row_count[t]
    if row >= states.shape[1]:
        return False
    row_count[t] = row + 1
    states[t, row, :] = states[t, state_row[t, tree[6][t, node]], :]
    state = states[t, row]
    apply_action(state, tree[7][t, node])
    state_row[t, node] = row
    if status(state) != ONGOING:
        kind[t, node] = TERMINAL
        tree[3][t, node] = terminal_value(state)
    else:
        kind[t, node] = LEAF
    return True


def descend(tree, t, c):
    """Walk from the root to a node that is not expanded; -1 when no row is left for it."""
    kind = tree[9]
    node = 0
    while kind[t, node] == EXPANDED:
        node = select_child(tree, t, node, c)
        if kind[t, node] == UNSEEN and not materialise(tree, t, node):
            return -1
    return node


def add_virtual_loss(tree, t, leaf):
    visits, value_sum, parent = tree[0], tree[1], tree[6]
    node = leaf
    while node >= 0:
        visits[t, node] += 1
        value_sum[t, node] -= VIRTUAL_LOSS
        node = parent[t, node]


def backup(tree, t, leaf, value, virtual):
    """Add `value` (for the side to move at `leaf`) to the path; undo virtual loss if any."""
    visits, value_sum, parent, mover = tree[0], tree[1], tree[6], tree[8]
    player = to_play(tree[11][t, tree[10][t, leaf]])
    node = leaf
    while node >= 0:
        signed = value if mover[t, node] == player else -value
        if virtual:
            value_sum[t, node] += signed + VIRTUAL_LOSS
        else:
            visits[t, node] += 1
            value_sum[t, node] += signed
        node = parent[t, node]


def add_root_noise(tree, t, alpha, fraction):
    prior = tree[2]
    first = tree[4][t, 0]
    count = tree[5][t, 0]
    noise = np.empty(count)
    for k in range(count):
        noise[k] = np.random.gamma(alpha, 1.0)
    total = noise.sum()
    if total <= 0.0:
        return
    for k in range(count):
        child = first + k
        prior[t, child] = (1.0 - fraction) * prior[t, child] + fraction * noise[k] / total


def expand(tree, t, node, logits):
    """Create `node`'s children with softmax priors over the legal moves."""
    (visits, value_sum, prior, node_value, first_child, num_children, parent, action,
     mover, kind, state_row, states, node_count, row_count) = tree  # fmt: skip
    state = states[t, state_row[t, node]]
    mask = legal_mask(state)
    count = 0
    top = -np.inf
    for a in range(num_actions):
        if mask[a]:
            count += 1
            top = max(top, logits[a])
    first = node_count[t]
    if first + count > visits.shape[1]:
        kind[t, node] = EVALUATED  # pool full: keep the value, never expand
        return
    node_count[t] = first + count
    total = 0.0
    for a in range(num_actions):
        if mask[a]:
            total += math.exp(logits[a] - top)
    player = to_play(state)
    child = first
    for a in range(num_actions):
        if mask[a]:
            visits[t, child] = 0
            value_sum[t, child] = 0.0
            prior[t, child] = math.exp(logits[a] - top) / total
            node_value[t, child] = 0.0
            first_child[t, child] = -1
            num_children[t, child] = 0
            parent[t, child] = node
            action[t, child] = a
            mover[t, child] = player
            kind[t, child] = UNSEEN
            state_row[t, child] = -1
            child += 1
    first_child[t, node] = first
    num_children[t, node] = count
    kind[t, node] = EXPANDED


def select_leaves(tree, active, targets, leaves_per_tree, c, planes, leaf_tree, leaf_node):
    """Pick up to `leaves_per_tree` leaves in each active tree (virtual loss between them),
    write their planes, and return how many. Terminal leaves are backed up on the spot.
    A tree stops at `targets[t]` simulations (root visits minus its own evaluation)."""
    visits, kind, state_row, states = tree[0], tree[9], tree[10], tree[11]
    count = 0
    for t in range(active.shape[0]):
        if not active[t]:
            continue
        picked = 0
        while picked < leaves_per_tree and count < planes.shape[0]:
            if kind[t, 0] == LEAF:  # the root itself is not evaluated yet
                leaf = 0
            elif kind[t, 0] != EXPANDED or visits[t, 0] - 1 >= targets[t]:
                break
            else:
                leaf = descend(tree, t, c)
                if leaf < 0:  # no room left: stop this search where it is
                    targets[t] = visits[t, 0] - 1
                    break
            if kind[t, leaf] == TERMINAL or kind[t, leaf] == EVALUATED:
                backup(tree, t, leaf, tree[3][t, leaf], False)
                continue
            if kind[t, leaf] == PENDING:  # already in this batch: try again next batch
                break
            kind[t, leaf] = PENDING
            add_virtual_loss(tree, t, leaf)
            encode(states[t, state_row[t, leaf]], planes[count])
            leaf_tree[count] = t
            leaf_node[count] = leaf
            count += 1
            picked += 1
            if leaf == 0:
                break
    return count


def expand_backup(tree, count, leaf_tree, leaf_node, logits, values, noise, alpha, fraction):
    """Expand each evaluated leaf and back its value up (noise at a root, if asked)."""
    for b in range(count):
        t = leaf_tree[b]
        node = leaf_node[b]
        value = values[b]
        tree[3][t, node] = value
        expand(tree, t, node, logits[b])
        if node == 0 and noise[t] and tree[9][t, 0] == EXPANDED:
            add_root_noise(tree, t, alpha, fraction)
        backup(tree, t, node, value, True)


def root_stats(tree, t, visit_dist):
    """Fill the root's visit distribution; return (root value, most-visited action)."""
    visits, value_sum, action = tree[0], tree[1], tree[7]
    first = tree[4][t, 0]
    count = tree[5][t, 0]
    visit_dist[:] = 0.0
    total = 0
    best, best_visits = -1, -1
    for child in range(first, first + count):
        total += visits[t, child]
        if visits[t, child] > best_visits:
            best, best_visits = action[t, child], visits[t, child]
    for child in range(first, first + count):
        visit_dist[action[t, child]] = visits[t, child] / max(total, 1)
    root_value = value_sum[t, 0] / visits[t, 0] if visits[t, 0] > 0 else 0.0
    return root_value, best


def reroot(tree, t, new_root, scratch, order):
    """Make `new_root`'s subtree the whole tree t (breadth-first copy through `scratch`,
    a one-tree Forest), keeping its statistics; the root's value turns to its own view."""
    (visits, value_sum, prior, node_value, first_child, num_children, parent, action,
     mover, kind, state_row, states, node_count, row_count) = tree  # fmt: skip
    (s_visits, s_value_sum, s_prior, s_node_value, s_first_child, s_num_children, s_parent,
     s_action, s_mover, s_kind, s_state_row, s_states, _, _) = scratch  # fmt: skip
    if kind[t, new_root] == UNSEEN:
        materialise(tree, t, new_root)
    order[0] = new_root
    s_parent[0, 0] = -1
    head, tail, rows = 0, 1, 0
    while head < tail:
        old = order[head]
        s_visits[0, head] = visits[t, old]
        s_value_sum[0, head] = value_sum[t, old]
        s_prior[0, head] = prior[t, old]
        s_node_value[0, head] = node_value[t, old]
        s_action[0, head] = action[t, old]
        s_mover[0, head] = mover[t, old]
        s_kind[0, head] = kind[t, old]
        s_state_row[0, head] = -1
        if state_row[t, old] >= 0:
            s_state_row[0, head] = rows
            s_states[0, rows, :] = states[t, state_row[t, old], :]
            rows += 1
        s_first_child[0, head] = -1
        s_num_children[0, head] = 0
        if kind[t, old] == EXPANDED:
            s_first_child[0, head] = tail
            s_num_children[0, head] = num_children[t, old]
            for k in range(num_children[t, old]):
                order[tail] = first_child[t, old] + k
                s_parent[0, tail] = head
                tail += 1
        head += 1
    visits[t, :tail] = s_visits[0, :tail]
    value_sum[t, :tail] = s_value_sum[0, :tail]
    prior[t, :tail] = s_prior[0, :tail]
    node_value[t, :tail] = s_node_value[0, :tail]
    first_child[t, :tail] = s_first_child[0, :tail]
    num_children[t, :tail] = s_num_children[0, :tail]
    parent[t, :tail] = s_parent[0, :tail]
    action[t, :tail] = s_action[0, :tail]
    mover[t, :tail] = s_mover[0, :tail]
    kind[t, :tail] = s_kind[0, :tail]
    state_row[t, :tail] = s_state_row[0, :tail]
    states[t, :rows, :] = s_states[0, :rows, :]
    node_count[t] = tail
    row_count[t] = rows
    player = to_play(states[t, 0])
    if mover[t, 0] != player:
        value_sum[t, 0] = -value_sum[t, 0]
        mover[t, 0] = player
    parent[t, 0] = -1
    action[t, 0] = -1
    prior[t, 0] = 1.0
    if kind[t, 0] == EVALUATED:  # evaluated but never expanded: start it afresh
        kind[t, 0] = LEAF
        visits[t, 0] = 0
        value_sum[t, 0] = 0.0


def rollout(state, work):
    """Random playout from `state` (in `work`); the result for the side to move in `state`."""
    player = to_play(state)
    work[:] = state
    while status(work) == ONGOING:
        apply_action(work, random_legal_action(legal_mask(work)))
    value = terminal_value(work)
    return value if to_play(work) == player else -value


def classic_search(tree, state, simulations, c, seed):
    """UCT with one random rollout per leaf, the whole search in one call (tree 0).

    As in OpenSpiel's MCTSBot, a leaf's first visit is a rollout only; it is expanded when
    a simulation comes back to it, so leaves seen once cost no child nodes."""
    np.random.seed(seed)
    init_tree(tree, 0, state)
    visits, kind, state_row, states = tree[0], tree[9], tree[10], tree[11]
    uniform = np.zeros(num_actions, np.float32)
    work = state.copy()
    for _ in range(simulations + 1):  # the first one evaluates the root
        node = 0
        while True:
            if kind[0, node] == EXPANDED:
                node = select_child(tree, 0, node, c)
                if kind[0, node] == UNSEEN and not materialise(tree, 0, node):
                    return
            elif kind[0, node] == TERMINAL:
                backup(tree, 0, node, tree[3][0, node], False)
                break
            elif visits[0, node] > 0 and kind[0, node] == LEAF:
                expand(tree, 0, node, uniform)  # EVALUATED when the pool is full
            else:
                value = rollout(states[0, state_row[0, node]], work)
                backup(tree, 0, node, value, False)
                break


def pick(visit_dist, sample):
    """Sample an action by visit share, or the most visited (ties at random)."""
    if sample:
        r = np.random.random()
        acc = 0.0
        last = -1
        for a in range(num_actions):
            if visit_dist[a] > 0.0:
                last = a
                acc += visit_dist[a]
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


def play_moves(tree, scratch, order, targets, plies, temperature_moves, rec_moves,
               rec_visits, rec_values, finished, outcomes, noise, alpha, fraction,
               simulations, min_new, reuse):  # fmt: skip
    visits, first_child, action, kind, state_row, states = (
        tree[0], tree[4], tree[7], tree[9], tree[10], tree[11]
    )  # fmt: skip
    moves_played = 0
    visit_dist = np.zeros(num_actions, np.float32)
    for t in range(targets.shape[0]):
        if finished[t] or kind[t, 0] != EXPANDED or visits[t, 0] - 1 < targets[t]:
            continue
        ply = plies[t]
        root_value, _ = root_stats(tree, t, visit_dist)
        chosen = pick(visit_dist, ply < temperature_moves[t])
        rec_moves[t, ply] = chosen
        rec_visits[t, ply, :] = visit_dist
        rec_values[t, ply] = root_value
        plies[t] = ply + 1
        moves_played += 1
        child = first_child[t, 0] + 0
        while action[t, child] != chosen:
            child += 1
        if reuse:
            reroot(tree, t, child, scratch, order)
        else:
            reroot(tree, t, child, scratch, order)  # materialises the child's state
            init_tree(tree, t, states[t, 0].copy())
        if kind[t, 0] == TERMINAL:
            result = status(states[t, state_row[t, 0]])
            finished[t] = True
            outcomes[t] = (
                1 if result == FIRST_PLAYER_WON else (-1 if result == SECOND_PLAYER_WON else 0)
            )
            continue
        targets[t] = max(simulations, visits[t, 0] - 1 + min_new)
        if noise[t] and kind[t, 0] == EXPANDED:
            add_root_noise(tree, t, alpha, fraction)
    return moves_played
