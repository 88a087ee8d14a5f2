/** Pure helpers of the play view: opponents, strength presets, undo. */
import type { Checkpoint, GameInfo } from './api';

/** The bot's answer for one of its moves, kept to draw its thinking. */
export interface Thinking {
  action: number;
  value: number;
  visits: number[];
  prior: number[];
  modelStep: number | null;
  simulations: number;
  /** The opponent's kind ("alphazero", "mcts", "perfect", "random"): what the numbers mean. */
  player: string;
  /** Why the move is not the player's own kind (see MoveAnswer). */
  note: string | null;
}

/**
 * What a bot answer can show: a search's visits and estimate, the solver's exact verdict
 * (visits spread evenly over its best moves), or nothing at all for random moves. A solver that
 * timed out leaves the move to AlphaZero (`note`), whose search is then shown as usual.
 */
export type ThinkingKind = 'search' | 'verdict' | 'random';

export function thinkingKind(thinking: Pick<Thinking, 'player' | 'note'>): ThinkingKind {
  if (thinking.player === 'random') return 'random';
  if (thinking.player === 'perfect' && thinking.note === null) return 'verdict';
  return 'search';
}

/**
 * Whether a network answered (AlphaZero, or standing in for the solver), so that the prior is
 * its policy: classic MCTS has none, and answers a uniform prior.
 */
export function fromNetwork(thinking: Pick<Thinking, 'modelStep'>): boolean {
  return thinking.modelStep !== null;
}

/**
 * Who answered: the model's own step, since the opponent list names the model it last heard
 * of, and a Tic-tac-toe run publishes a new one about every second.
 */
export function answeredBy(thinking: Pick<Thinking, 'modelStep'>, listed: string): string {
  return fromNetwork(thinking) ? `AlphaZero, step ${thinking.modelStep}` : listed;
}

/** The solver's best moves: those its visits are spread over. */
export function bestMoves(thinking: Pick<Thinking, 'visits'>): number[] {
  return thinking.visits.flatMap((share, action) => (share > 0 ? [action] : []));
}

/** The solver's value for the side to move, in a word: 1 win, 0 draw, -1 loss. */
export function verdict(value: number): 'win' | 'draw' | 'loss' {
  return value > 0.5 ? 'win' : value < -0.5 ? 'loss' : 'draw';
}

export interface Opponent {
  /** Select value: "alphazero", "pretrained", "checkpoint:1200", "mcts", "perfect", "random". */
  key: string;
  label: string;
  player: string;
  checkpoint: number | null;
  /** The shipped model, while the run has models of its own. */
  pretrained: boolean;
  /** Whether the simulation count matters. */
  searches: boolean;
}

const LABELS: Record<string, string> = {
  mcts: 'Classic MCTS (random rollouts)',
  perfect: 'Perfect play (solver)',
  random: 'Random moves',
};

export function opponents(info: GameInfo | null, checkpoints: Checkpoint[]): Opponent[] {
  const players = info?.players.length ? info.players : ['alphazero', 'mcts', 'random'];
  const out: Opponent[] = [];
  for (const player of players) {
    if (player === 'alphazero') {
      const step = info?.modelStep;
      const shipped = info?.pretrainedStep ?? null;
      const both = info?.modelSource === 'run' && shipped !== null;
      // The step comes before the kind, so that a narrow closed select still shows it. Before
      // the run's first model the shipped one answers: a bare step would read as the run's own.
      const kind = both ? ' (run)' : info?.modelSource === 'pretrained' ? ' (shipped)' : '';
      out.push({
        key: 'alphazero',
        label: step === null || step === undefined ? 'AlphaZero' : `AlphaZero, step ${step}${kind}`,
        player,
        checkpoint: null,
        pretrained: false,
        searches: true,
      });
      if (both) {
        out.push({
          key: 'pretrained',
          label: `AlphaZero, step ${shipped} (shipped)`,
          player,
          checkpoint: null,
          pretrained: true,
          searches: true,
        });
      }
      for (const checkpoint of [...checkpoints].sort((a, b) => b.step - a.step)) {
        // Older ones only: the learner writes a model file before the actor serves it.
        if (step !== null && step !== undefined && checkpoint.step >= step) continue;
        out.push({
          key: `checkpoint:${checkpoint.step}`,
          label: `AlphaZero, step ${checkpoint.step} (older)`,
          player,
          checkpoint: checkpoint.step,
          pretrained: false,
          searches: true,
        });
      }
    } else {
      out.push({
        key: player,
        label: LABELS[player] ?? player,
        player,
        checkpoint: null,
        pretrained: false,
        searches: player === 'mcts',
      });
    }
  }
  return out;
}

/** Simulation budgets offered on the strength slider, up to the server's maximum. */
export function simulationPresets(maxSimulations: number, allowZero: boolean): number[] {
  const presets = [0, 1, 4, 16, 32, 64, 128, 200, 400, 800, 1600, 3200, 6400];
  const out = presets.filter((n) => n <= maxSimulations && (allowZero || n > 0));
  if (!out.includes(maxSimulations) && maxSimulations > (out.at(-1) ?? 0)) out.push(maxSimulations);
  return out;
}

/**
 * The opponent to play instead of `key` when it is no longer offered: a checkpoint the run has
 * deleted gives way to the oldest kept one after it (the nearest in strength), else the newest
 * model; anything else to the first opponent.
 */
export function fallbackOpponent(list: Opponent[], key: string): Opponent | null {
  const gone = key.startsWith('checkpoint:') ? Number(key.slice('checkpoint:'.length)) : null;
  if (gone !== null) {
    const newer = list
      .filter((o) => o.checkpoint !== null && o.checkpoint > gone)
      .sort((a, b) => a.checkpoint! - b.checkpoint!);
    return newer[0] ?? list.find((o) => o.key === 'alphazero') ?? list[0] ?? null;
  }
  return list[0] ?? null;
}

/** Whether a failed move means the chosen checkpoint was deleted by the learner meanwhile. */
export function checkpointGone(status: number, message: string): boolean {
  return status === 404 && message.includes('is not kept');
}

/**
 * The index in `presets` of the count nearest to `wanted` (the lower one on a tie), so that a
 * strength chosen for one opponent means about as many simulations for the next.
 */
export function nearestPreset(presets: readonly number[], wanted: number): number {
  let best = 0;
  presets.forEach((n, i) => {
    if (Math.abs(n - wanted) < Math.abs(presets[best] - wanted)) best = i;
  });
  return best;
}

/** The moves after taking back the human's last move and the bot's replies to it. */
export function undoMoves(moves: readonly number[], humanSide: 0 | 1): number[] {
  const out = moves.slice();
  // Every ply alternates sides (a pass is a move too), so ply i was played by side i % 2.
  while (out.length > 0 && (out.length - 1) % 2 !== humanSide) out.pop();
  out.pop();
  return out;
}

/** Whether the human has a move of theirs to take back. */
export function canUndo(moves: readonly number[], humanSide: 0 | 1): boolean {
  return moves.length > humanSide;
}
