/**
 * Othello (8x8). Cells and actions row-major from the top-left, a1 = 0 ... h8 = 63 (files a-h
 * are columns, ranks 1-8 are rows from the top), 64 = pass, legal only when no other move is.
 * Black (first player) moves first; d4 and e5 start white, e4 and d5 black (OpenSpiel's layout).
 * The game ends when neither side can place a disc; the side with more discs wins.
 */
import { checkAction, type Cell, type Position, type Rules } from './types';

const SIZE = 8;
export const PASS = 64;
const DIRECTIONS = [
  [-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1],
];

/** The opponent's discs that placing `piece` on `cell` would flip. */
export function flipsFor(board: Cell[], cell: number, piece: Cell): number[] {
  if (board[cell] !== 0) return [];
  const other = piece === 1 ? 2 : 1;
  const row = Math.floor(cell / SIZE);
  const col = cell % SIZE;
  const flips: number[] = [];
  for (const [dr, dc] of DIRECTIONS) {
    const run: number[] = [];
    let r = row + dr;
    let c = col + dc;
    while (r >= 0 && r < SIZE && c >= 0 && c < SIZE && board[r * SIZE + c] === other) {
      run.push(r * SIZE + c);
      r += dr;
      c += dc;
    }
    if (run.length > 0 && r >= 0 && r < SIZE && c >= 0 && c < SIZE && board[r * SIZE + c] === piece) {
      flips.push(...run);
    }
  }
  return flips;
}

function hasPlacement(board: Cell[], piece: Cell): boolean {
  for (let cell = 0; cell < SIZE * SIZE; cell++) {
    if (flipsFor(board, cell, piece).length > 0) return true;
  }
  return false;
}

export function discCount(board: Cell[]): [number, number] {
  let black = 0;
  let white = 0;
  for (const cell of board) {
    if (cell === 1) black++;
    else if (cell === 2) white++;
  }
  return [black, white];
}

function initialBoard(): Cell[] {
  const board = Array<Cell>(SIZE * SIZE).fill(0);
  board[3 * SIZE + 3] = 2; // d4 white
  board[3 * SIZE + 4] = 1; // e4 black
  board[4 * SIZE + 3] = 1; // d5 black
  board[4 * SIZE + 4] = 2; // e5 white
  return board;
}

export const othello: Rules = {
  name: 'othello',
  title: 'Othello',
  rows: SIZE,
  cols: SIZE,
  numActions: SIZE * SIZE + 1,
  passAction: PASS,
  sides: ['Black', 'White'],
  initial: () => ({
    board: initialBoard(),
    toPlay: 0,
    status: 'ongoing',
    lastMove: null,
    winLine: [],
    flipped: [],
  }),
  legal(position: Position): boolean[] {
    const mask = Array<boolean>(SIZE * SIZE + 1).fill(false);
    if (position.status !== 'ongoing') return mask;
    const piece = (position.toPlay + 1) as Cell;
    let any = false;
    for (let cell = 0; cell < SIZE * SIZE; cell++) {
      if (flipsFor(position.board, cell, piece).length > 0) {
        mask[cell] = true;
        any = true;
      }
    }
    if (!any) mask[PASS] = true;
    return mask;
  },
  apply(position: Position, action: number): Position {
    checkAction(othello, position, action);
    const piece = (position.toPlay + 1) as Cell;
    const board = position.board.slice();
    let flipped: number[] = [];
    if (action !== PASS) {
      flipped = flipsFor(board, action, piece);
      board[action] = piece;
      for (const cell of flipped) board[cell] = piece;
    }
    let status: Position['status'] = 'ongoing';
    if (!hasPlacement(board, 1) && !hasPlacement(board, 2)) {
      const [black, white] = discCount(board);
      status = black > white ? 'first' : white > black ? 'second' : 'draw';
    }
    return {
      board,
      toPlay: position.toPlay === 0 ? 1 : 0,
      status,
      lastMove: action,
      winLine: [],
      flipped,
    };
  },
  actionCell: (_position: Position, action: number) => (action === PASS ? null : action),
  actionName: (action: number) =>
    action === PASS
      ? 'pass'
      : `${String.fromCharCode(97 + (action % SIZE))}${Math.floor(action / SIZE) + 1}`,
};
