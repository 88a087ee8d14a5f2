/**
 * Tic-tac-toe. Cells and actions row-major from the top-left:
 *   0 | 1 | 2
 *   3 | 4 | 5
 *   6 | 7 | 8
 * X (first player) moves first.
 */
import { checkAction, placedPosition, type Cell, type Position, type Rules } from './types';

const LINES = [
  [0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6],
];

const NAMES = [
  'top left', 'top', 'top right', 'left', 'centre', 'right', 'bottom left', 'bottom', 'bottom right',
];

export const tictactoe: Rules = {
  name: 'tictactoe',
  title: 'Tic-tac-toe',
  rows: 3,
  cols: 3,
  numActions: 9,
  passAction: null,
  sides: ['X', 'O'],
  initial: () => ({
    board: Array<Cell>(9).fill(0),
    toPlay: 0,
    status: 'ongoing',
    lastMove: null,
    winLine: [],
    flipped: [],
  }),
  legal(position: Position): boolean[] {
    const open = position.status === 'ongoing';
    return position.board.map((cell) => open && cell === 0);
  },
  apply(position: Position, action: number): Position {
    checkAction(tictactoe, position, action);
    const piece = (position.toPlay + 1) as Cell;
    const board = position.board.slice();
    board[action] = piece;
    const winLine = LINES.find((line) => line.every((cell) => board[cell] === piece)) ?? [];
    return placedPosition(position, board, action, winLine);
  },
  actionCell: (_position: Position, action: number) => action,
  actionName: (action: number) => NAMES[action] ?? `cell ${action}`,
};
