import { describe, expect, it } from 'vitest';
import { connect4 } from '../games/connect4';
import { othello } from '../games/othello';
import { tictactoe } from '../games/tictactoe';
import { replay } from '../games/types';
import {
  boardGrid,
  columnLabel,
  nearestPlayable,
  replayLabel,
  replayStep,
  stepCell,
  tabStop,
} from './board';

describe('board focus', () => {
  it('walks Connect 4 by column and the others by cell, stopping at the edges', () => {
    expect(boardGrid(connect4)).toEqual({ rows: 1, cols: 7 });
    expect(boardGrid(othello)).toEqual({ rows: 8, cols: 8 });
    const ttt = boardGrid(tictactoe);
    expect(stepCell(4, 0, 1, ttt)).toBe(5);
    expect(stepCell(4, -1, 0, ttt)).toBe(1);
    expect(stepCell(5, 0, 1, ttt)).toBe(5); // the right edge: no wrap to the next row
    expect(stepCell(0, -1, -1, ttt)).toBe(0);
    expect(stepCell(3, 1, 0, boardGrid(connect4))).toBe(3); // one row of columns
    expect(stepCell(6, 0, 1, boardGrid(connect4))).toBe(6);
  });

  it('finds the playable cell nearest to the focus', () => {
    const ttt = boardGrid(tictactoe);
    const free = [true, false, false, false, false, true, false, false, true];
    expect(nearestPlayable(4, free, ttt)).toBe(5);
    expect(nearestPlayable(2, free, ttt)).toBe(5);
    expect(nearestPlayable(7, free, ttt)).toBe(8);
    expect(nearestPlayable(4, Array(9).fill(false), ttt)).toBeNull();
    // a tie goes to the lower index: 1 and 3 are both next to 0
    expect(nearestPlayable(0, [false, true, false, true, false, false, false, false, false], ttt)).toBe(1);
  });

  it('puts the tab stop on the last focused cell, else on a move near the middle', () => {
    const grid = boardGrid(othello);
    const legal = othello.legal(othello.initial()).slice(0, 64); // d3, c4, f5, e6
    expect(tabStop(null, legal, grid)).toBe(37); // f5, next to the middle (e5)
    expect(tabStop(12, legal, grid)).toBe(12);
    expect(tabStop(99, legal, grid)).toBe(37); // no such cell
    expect(tabStop(null, Array(64).fill(false), grid)).toBe(36); // the bot's turn: the middle
    expect(tabStop(null, Array(7).fill(true), boardGrid(connect4))).toBe(3);
  });
});

describe('Connect 4 column names', () => {
  const size = { rows: 6, cols: 7 };

  it('says the pieces from the bottom up, the room left and whether it plays', () => {
    const board = replay(connect4, [2, 2, 3]).board; // red, yellow in column 3; red in 4
    expect(columnLabel(board, 2, size, true)).toBe('column 3: red, yellow, 4 empty; play here');
    expect(columnLabel(board, 3, size, false)).toBe('column 4: red, 5 empty');
    expect(columnLabel(board, 0, size, true)).toBe('column 1: empty; play here');
  });

  it('says when a column is full', () => {
    const board = replay(connect4, [0, 0, 0, 0, 0, 0]).board;
    expect(columnLabel(board, 0, size, false)).toBe(
      'column 1: red, yellow, red, yellow, red, yellow, full',
    );
  });
});

describe('replay steps', () => {
  it('steps one move with the arrows and to either end with Home and End, stopping there', () => {
    expect(replayStep('ArrowRight', 3, 9)).toBe(4);
    expect(replayStep('ArrowLeft', 3, 9)).toBe(2);
    expect(replayStep('Home', 3, 9)).toBe(0);
    expect(replayStep('End', 3, 9)).toBe(9);
    expect(replayStep('ArrowRight', 9, 9)).toBe(9);
    expect(replayStep('ArrowLeft', 0, 9)).toBe(0);
    expect(replayStep('ArrowUp', 3, 9)).toBeNull();
    expect(replayStep('Enter', 3, 9)).toBeNull();
  });

  it("says the move just played, in each game's names", () => {
    expect(replayLabel(othello, [19, 18, 17], 2)).toBe('move 2 of 3: c3');
    expect(replayLabel(othello, [19, 64], 2)).toBe('move 2 of 2: pass');
    expect(replayLabel(connect4, [3, 3], 1)).toBe('move 1 of 2: column 4');
    expect(replayLabel(tictactoe, [4], 0)).toBe('move 0 of 1: the start');
  });
});
