/**
 * Small client-side rules, so the page knows legal moves and the result without asking the
 * server. Action numbering is the engine's (and OpenSpiel's); see docs/architecture.md.
 */

/** 0 empty, 1 first player's piece, 2 second player's piece. */
export type Cell = 0 | 1 | 2;

export type Status = 'ongoing' | 'first' | 'second' | 'draw';

export interface Position {
  /** Row-major cells from the top-left, rows * cols of them. */
  board: Cell[];
  /** 0 first player, 1 second player. */
  toPlay: 0 | 1;
  status: Status;
  /** The action that led here, or null at the start. */
  lastMove: number | null;
  /** Cells of the winning line (tictactoe, connect4), empty otherwise. */
  winLine: number[];
  /** Cells whose disc changed colour in the last move (othello). */
  flipped: number[];
}

export interface Rules {
  name: string;
  title: string;
  rows: number;
  cols: number;
  numActions: number;
  /** The pass action (othello's 64), or null when the game has none. */
  passAction: number | null;
  /** Names of the two sides, first player first. */
  sides: [string, string];
  initial(): Position;
  /** Mask over all actions; all false when the game is over. */
  legal(position: Position): boolean[];
  /** A new position; throws IllegalMove when the action is not legal. */
  apply(position: Position, action: number): Position;
  /** The cell an action changes (connect4: the landing cell), null for a pass. */
  actionCell(position: Position, action: number): number | null;
  /** Human-readable name of an action ("c4", "column 3", "pass"). */
  actionName(action: number): string;
}

export class IllegalMove extends Error {}

export function legalActions(rules: Rules, position: Position): number[] {
  const mask = rules.legal(position);
  const actions: number[] = [];
  mask.forEach((ok, action) => {
    if (ok) actions.push(action);
  });
  return actions;
}

/** The position after playing `moves` from the start; throws IllegalMove on a bad list. */
export function replay(rules: Rules, moves: readonly number[]): Position {
  let position = rules.initial();
  for (const action of moves) position = rules.apply(position, action);
  return position;
}

export function checkAction(rules: Rules, position: Position, action: number): void {
  if (!Number.isInteger(action) || action < 0 || action >= rules.numActions) {
    throw new IllegalMove(`${rules.name}: action ${action} is out of range`);
  }
  if (position.status !== 'ongoing') throw new IllegalMove(`${rules.name}: the game is over`);
  if (!rules.legal(position)[action]) {
    throw new IllegalMove(`${rules.name}: ${rules.actionName(action)} is not legal here`);
  }
}

/** +1 first player won, -1 second player won, 0 draw or ongoing. */
export function winnerSign(status: Status): number {
  return status === 'first' ? 1 : status === 'second' ? -1 : 0;
}

/** The position after the side to move placed `piece` at `action`, with no flips (Tic-tac-toe,
 * Connect 4): won when `winLine` is set, drawn when the board is full. */
export function placedPosition(
  position: Position,
  board: Cell[],
  action: number,
  winLine: number[],
): Position {
  const status: Status =
    winLine.length > 0
      ? position.toPlay === 0
        ? 'first'
        : 'second'
      : board.every((cell) => cell !== 0)
        ? 'draw'
        : 'ongoing';
  return {
    board,
    toPlay: position.toPlay === 0 ? 1 : 0,
    status,
    lastMove: action,
    winLine,
    flipped: [],
  };
}
