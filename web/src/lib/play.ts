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
  /** Why the move is not the player's own kind (see MoveAnswer). */
  note: string | null;
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
      out.push({
        key: 'alphazero',
        label:
          step === null || step === undefined
            ? 'AlphaZero'
            : `AlphaZero${both ? ', run' : ''} (step ${step})`,
        player,
        checkpoint: null,
        pretrained: false,
        searches: true,
      });
      if (both) {
        out.push({
          key: 'pretrained',
          label: `AlphaZero, shipped (step ${shipped})`,
          player,
          checkpoint: null,
          pretrained: true,
          searches: true,
        });
      }
      for (const checkpoint of [...checkpoints].sort((a, b) => b.step - a.step)) {
        if (checkpoint.step === step) continue;
        out.push({
          key: `checkpoint:${checkpoint.step}`,
          label: `AlphaZero, older: step ${checkpoint.step}`,
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
