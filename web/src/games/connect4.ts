/**
 * Connect 4: 7 columns x 6 rows. The board is stored row-major from the TOP-left (row 0 is the
 * top row, as drawn); action = column 0..6 from the left, the piece lands on the lowest empty
 * cell of that column. Red (first player) moves first.
 */
import { checkAction, placedPosition, type Cell, type Position, type Rules } from './types';

const ROWS = 6;
const COLS = 7;
const DIRECTIONS = [
  [0, 1],
  [1, 0],
  [1, 1],
  [1, -1],
];

function landingRow(board: Cell[], column: number): number {
  for (let row = ROWS - 1; row >= 0; row--) if (board[row * COLS + column] === 0) return row;
  return -1;
}

function lineThrough(board: Cell[], row: number, col: number): number[] {
  const piece = board[row * COLS + col];
  for (const [dr, dc] of DIRECTIONS) {
    const line = [row * COLS + col];
    for (const sign of [1, -1]) {
      let r = row + sign * dr;
      let c = col + sign * dc;
      while (r >= 0 && r < ROWS && c >= 0 && c < COLS && board[r * COLS + c] === piece) {
        line.push(r * COLS + c);
        r += sign * dr;
        c += sign * dc;
      }
    }
    if (line.length >= 4) return line.sort((a, b) => a - b);
  }
  return [];
}

export const connect4: Rules = {
  name: 'connect4',
  title: 'Connect 4',
  rows: ROWS,
  cols: COLS,
  numActions: COLS,
  passAction: null,
  sides: ['Red', 'Yellow'],
  initial: () => ({
    board: Array<Cell>(ROWS * COLS).fill(0),
    toPlay: 0,
    status: 'ongoing',
    lastMove: null,
    winLine: [],
    flipped: [],
  }),
  legal(position: Position): boolean[] {
    const open = position.status === 'ongoing';
    return Array.from({ length: COLS }, (_, column) => open && position.board[column] === 0);
  },
  apply(position: Position, action: number): Position {
    checkAction(connect4, position, action);
    const piece = (position.toPlay + 1) as Cell;
    const board = position.board.slice();
    const row = landingRow(board, action);
    board[row * COLS + action] = piece;
    const winLine = lineThrough(board, row, action);
    return placedPosition(position, board, action, winLine);
  },
  actionCell(position: Position, action: number): number | null {
    const row = landingRow(position.board, action);
    return row < 0 ? null : row * COLS + action;
  },
  actionName: (action: number) => `column ${action + 1}`,
};
