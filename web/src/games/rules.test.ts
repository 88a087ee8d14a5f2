import { describe, expect, it } from 'vitest';
import fixtures from './fixtures/openspiel.json';
import { connect4 } from './connect4';
import { discCount, othello, PASS } from './othello';
import { tictactoe } from './tictactoe';
import { IllegalMove, legalActions, replay, RULES, winnerSign, type Cell, type Position } from './index';

interface FixtureGame {
  moves: number[];
  legal: number[][];
  returns: number[];
}

describe('rules agree with OpenSpiel on random games', () => {
  for (const [name, games] of Object.entries(fixtures as Record<string, FixtureGame[]>)) {
    it(`${name}: legal moves before every move and the final result`, () => {
      const rules = RULES[name];
      for (const game of games) {
        let position = rules.initial();
        game.moves.forEach((action, ply) => {
          expect(position.status).toBe('ongoing');
          expect(legalActions(rules, position)).toEqual(game.legal[ply]);
          position = rules.apply(position, action);
        });
        expect(position.status).not.toBe('ongoing');
        expect(winnerSign(position.status)).toBe(game.returns[0]);
        expect(rules.legal(position).some(Boolean)).toBe(false);
      }
    });
  }
});

describe('tictactoe', () => {
  it('finds the winning line and rejects moves after the end', () => {
    const position = replay(tictactoe, [0, 3, 1, 4, 2]);
    expect(position.status).toBe('first');
    expect(position.winLine).toEqual([0, 1, 2]);
    expect(() => tictactoe.apply(position, 5)).toThrow(IllegalMove);
  });
  it('rejects an occupied cell and an out-of-range action', () => {
    const position = replay(tictactoe, [4]);
    expect(() => tictactoe.apply(position, 4)).toThrow(/not legal/);
    expect(() => tictactoe.apply(position, 9)).toThrow(/out of range/);
  });
  it('knows a draw', () => {
    expect(replay(tictactoe, [0, 1, 2, 4, 3, 5, 7, 6, 8]).status).toBe('draw');
  });
});

describe('connect4', () => {
  it('stacks pieces from the bottom row up', () => {
    const position = replay(connect4, [3, 3]);
    expect(position.board[5 * 7 + 3]).toBe(1);
    expect(position.board[4 * 7 + 3]).toBe(2);
    expect(connect4.actionCell(position, 3)).toBe(3 * 7 + 3);
  });
  it('a full column is not legal', () => {
    const position = replay(connect4, [0, 0, 0, 0, 0, 0]);
    expect(connect4.legal(position)[0]).toBe(false);
    expect(connect4.actionCell(position, 0)).toBeNull();
  });
  it('wins on a diagonal and marks the four cells', () => {
    // red: 0, 1, 2, 3 climbing; yellow fills under them
    const position = replay(connect4, [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3]);
    expect(position.status).toBe('first');
    expect(position.winLine).toEqual([2 * 7 + 3, 3 * 7 + 2, 4 * 7 + 1, 5 * 7 + 0]);
  });
});

describe('othello', () => {
  it('starts with four discs and black to move', () => {
    const position = othello.initial();
    expect(discCount(position.board)).toEqual([2, 2]);
    expect(legalActions(othello, position)).toEqual([19, 26, 37, 44]);
    expect(othello.actionName(19)).toBe('d3');
  });
  it('flips the outflanked discs', () => {
    const position = othello.apply(othello.initial(), 19); // d3 flips d4
    expect(position.flipped).toEqual([27]);
    expect(position.board[27]).toBe(1);
    expect(discCount(position.board)).toEqual([4, 1]);
  });
  it('forces a pass when the side to move has no placement, and ends when neither has', () => {
    // Black: a1 and c1; white b1: black to move has no placement? Build by hand.
    const board = Array<Cell>(65).fill(0).slice(0, 64);
    board[0] = 2; // a1 white
    board[1] = 1; // b1 black
    // white to move: a1 can't outflank; white at c1 would flip b1.
    let position: Position = {
      board,
      toPlay: 0,
      status: 'ongoing',
      lastMove: null,
      winLine: [],
      flipped: [],
    };
    // Black to move: black at... no white disc can be outflanked (a1 is in the corner).
    expect(legalActions(othello, position)).toEqual([PASS]);
    position = othello.apply(position, PASS);
    expect(position.toPlay).toBe(1);
    expect(legalActions(othello, position)).toEqual([2]);
    position = othello.apply(position, 2); // white c1 flips b1
    expect(position.flipped).toEqual([1]);
    expect(position.status).toBe('second');
    expect(othello.legal(position).some(Boolean)).toBe(false);
  });
  it('rejects a pass while a placement exists', () => {
    expect(() => othello.apply(othello.initial(), PASS)).toThrow(IllegalMove);
  });
});
