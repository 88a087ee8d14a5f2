/** Pure helpers of the boards' keyboard focus (a roving tabindex) and their spoken labels. */
import type { Cell, Rules } from '../games/types';

/** The board's cells as the keyboard walks them, row-major. */
export interface Grid {
  rows: number;
  cols: number;
}

/** Connect 4 is played by column: its cells for the keyboard are its 7 columns, in one row. */
export function boardGrid(rules: Pick<Rules, 'name' | 'rows' | 'cols'>): Grid {
  return rules.name === 'connect4'
    ? { rows: 1, cols: rules.cols }
    : { rows: rules.rows, cols: rules.cols };
}

/** The cell `dr` rows and `dc` columns from `index`, stopping at the board's edge. */
export function stepCell(index: number, dr: number, dc: number, grid: Grid): number {
  const row = Math.min(grid.rows - 1, Math.max(0, Math.floor(index / grid.cols) + dr));
  const col = Math.min(grid.cols - 1, Math.max(0, (index % grid.cols) + dc));
  return row * grid.cols + col;
}

/** The middle cell (the lower-right one of the middle four on an even board). */
export function centreCell(grid: Grid): number {
  return Math.floor(grid.rows / 2) * grid.cols + Math.floor(grid.cols / 2);
}

/** The playable cell nearest to `from` (straight-line distance; the lower index on a tie). */
export function nearestPlayable(
  from: number,
  playable: readonly boolean[],
  grid: Grid,
): number | null {
  const [r0, c0] = [Math.floor(from / grid.cols), from % grid.cols];
  let best: number | null = null;
  let bestDistance = Infinity;
  for (let i = 0; i < grid.rows * grid.cols; i++) {
    if (!playable[i]) continue;
    const distance = (Math.floor(i / grid.cols) - r0) ** 2 + ((i % grid.cols) - c0) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  }
  return best;
}

/**
 * The board's one cell in the Tab order (its roving tab stop): the last one focused, else the
 * playable cell nearest the middle, so that the first arrow key or Tab lands on a move.
 */
export function tabStop(cursor: number | null, playable: readonly boolean[], grid: Grid): number {
  const cells = grid.rows * grid.cols;
  if (cursor !== null && Number.isInteger(cursor) && cursor >= 0 && cursor < cells) return cursor;
  const centre = centreCell(grid);
  return nearestPlayable(centre, playable, grid) ?? centre;
}

const PIECE_NAMES = ['', 'red', 'yellow'];

/**
 * A Connect 4 column as a screen reader says it, its pieces from the bottom up:
 * "column 3: red, yellow, 4 empty; play here", "column 5: empty", "column 1: red, …, full".
 */
export function columnLabel(
  board: readonly Cell[],
  column: number,
  size: { rows: number; cols: number },
  playable: boolean,
): string {
  const pieces: string[] = [];
  for (let row = size.rows - 1; row >= 0; row--) {
    const piece = board[row * size.cols + column];
    if (piece !== 0) pieces.push(PIECE_NAMES[piece]);
  }
  const empty = size.rows - pieces.length;
  const rest = empty === size.rows ? 'empty' : empty > 0 ? `${empty} empty` : 'full';
  return `column ${column + 1}: ${[...pieces, rest].join(', ')}${playable ? '; play here' : ''}`;
}

/**
 * Where a key steps a replay of `moves` moves from `ply` (the moves played so far), or null
 * for a key that does not step: arrows one move back or on, Home and End the start and the
 * end, stopping at either.
 */
export function replayStep(key: string, ply: number, moves: number): number | null {
  const to: Record<string, number> = {
    ArrowLeft: ply - 1,
    ArrowRight: ply + 1,
    Home: 0,
    End: moves,
  };
  return key in to ? Math.max(0, Math.min(moves, to[key])) : null;
}

/**
 * A replay's place as a screen reader says it, after each step: "move 12 of 41: e3" names the
 * move just played; "move 0 of 41: the start".
 */
export function replayLabel(
  rules: Pick<Rules, 'actionName'>,
  moves: readonly number[],
  ply: number,
): string {
  const last = ply > 0 && ply <= moves.length ? rules.actionName(moves[ply - 1]) : 'the start';
  return `move ${ply} of ${moves.length}: ${last}`;
}
