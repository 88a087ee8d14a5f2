/**
 * The play view's game, kept per game in sessionStorage: leaving Play for Training or Replays
 * (which unmounts it) and a reload of the page both come back to the same game. What is read
 * back is checked: another version of the page, or rules that changed, may have written it.
 */
import { replay, type Rules } from '../games/types';
import { isFiniteNumber as finite, isObject } from './api';
import type { Thinking } from './play';

export type HeatMode = 'visits' | 'prior' | 'off';

export interface SavedPlay {
  moves: number[];
  humanSide: 0 | 1;
  /** The opponent's select value ("alphazero", "checkpoint:400", ...). */
  opponentKey: string;
  /** The simulation count chosen on the slider, or null for the game's default. */
  simulations: number | null;
  heatMode: HeatMode;
  /** The bot's answer for each ply it played (index = ply). */
  thoughts: Record<number, Thinking>;
}

const PREFIX = 'cartridge2.play.';
const HEAT_MODES: HeatMode[] = ['visits', 'prior', 'off'];
const MAX_KEY = 64; // "checkpoint:123456789" and the like, not a page of text

/**
 * What a game with nothing saved starts with: the first side, `opponentKey`, the game's own
 * strength and the visit heat. It depends on no other game, so a choice made in one game never
 * shows up in another.
 */
export function freshPlay(opponentKey: string): SavedPlay {
  return { moves: [], humanSide: 0, opponentKey, simulations: null, heatMode: 'visits', thoughts: {} };
}

export function savedKey(game: string): string {
  return PREFIX + game;
}

export function encodePlay(state: SavedPlay): string {
  return JSON.stringify(state);
}

/** The moves if they are a legal game of `rules` from the start, else null. */
function legalMoves(value: unknown, rules: Rules): number[] | null {
  if (!Array.isArray(value) || !value.every((m) => Number.isInteger(m))) return null;
  try {
    replay(rules, value);
  } catch {
    return null; // a move the rules refuse (or rules that changed since it was saved)
  }
  return value as number[];
}

/** One of the bot's answers, if it has the shape Play draws and belongs to `action`. */
function thinking(value: unknown, action: number, numActions: number): Thinking | null {
  if (!isObject(value) || value.action !== action || !finite(value.value)) return null;
  const shares = (v: unknown) =>
    Array.isArray(v) && (v.length === 0 || v.length === numActions) && v.every(finite);
  if (!shares(value.visits) || !shares(value.prior)) return null;
  if (!finite(value.simulations) || typeof value.player !== 'string') return null;
  if (value.modelStep !== null && !finite(value.modelStep)) return null;
  if (value.note !== null && typeof value.note !== 'string') return null;
  return {
    action,
    value: Math.max(-1, Math.min(1, value.value)),
    visits: value.visits as number[],
    prior: value.prior as number[],
    modelStep: value.modelStep as number | null,
    simulations: value.simulations,
    player: value.player,
    note: value.note as string | null,
  };
}

/**
 * The saved game read back, or null when there is none or it is no saved game at all. A part
 * that does not fit is left out: moves that are not a legal game start a fresh one (and their
 * thinking goes with them), the other settings are kept.
 */
export function decodePlay(raw: string | null, rules: Rules): SavedPlay | null {
  if (raw === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const humanSide = value.humanSide === 1 ? 1 : 0;
  const moves = legalMoves(value.moves, rules) ?? [];
  const thoughts: Record<number, Thinking> = {};
  if (isObject(value.thoughts)) {
    for (const [key, raw] of Object.entries(value.thoughts)) {
      const ply = Number(key);
      // The bot's plies only, in this game: ply i was played by side i % 2.
      const mine = Number.isInteger(ply) && ply >= 0 && ply < moves.length && ply % 2 !== humanSide;
      if (!mine) continue;
      const answer = thinking(raw, moves[ply], rules.numActions);
      if (answer) thoughts[ply] = answer;
    }
  }
  const key = value.opponentKey;
  const simulations = value.simulations;
  const heatMode = value.heatMode as HeatMode;
  return {
    moves,
    humanSide,
    opponentKey:
      typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY ? key : 'alphazero',
    simulations: finite(simulations) && simulations >= 0 ? simulations : null,
    heatMode: HEAT_MODES.includes(heatMode) ? heatMode : 'visits',
    thoughts,
  };
}

/** The saved game of `rules`, or null; a browser that refuses storage has none. */
export function readPlay(
  rules: Rules,
  storage: Storage | null = sessionStorageOrNull(),
): SavedPlay | null {
  try {
    return decodePlay(storage?.getItem(savedKey(rules.name)) ?? null, rules);
  } catch {
    return null;
  }
}

export function writePlay(
  game: string,
  state: SavedPlay,
  storage: Storage | null = sessionStorageOrNull(),
): void {
  try {
    storage?.setItem(savedKey(game), encodePlay(state));
  } catch {
    // full or refused: the game goes on, it is only not kept
  }
}

/** Reading `sessionStorage` itself throws where a browser blocks storage for the page. */
function sessionStorageOrNull(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}
