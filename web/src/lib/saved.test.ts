import { describe, expect, it } from 'vitest';
import { connect4 } from '../games/connect4';
import { tictactoe } from '../games/tictactoe';
import type { Thinking } from './play';
import { decodePlay, encodePlay, readPlay, savedKey, writePlay, type SavedPlay } from './saved';

const THOUGHT: Thinking = {
  action: 0,
  value: 0.25,
  visits: [0.5, 0, 0, 0.5, 0, 0, 0, 0, 0],
  prior: [],
  modelStep: 1200,
  simulations: 16,
  player: 'alphazero',
  note: null,
};
const GAME: SavedPlay = {
  moves: [4, 0, 8],
  humanSide: 0,
  opponentKey: 'checkpoint:400',
  simulations: 16,
  heatMode: 'prior',
  thoughts: { 1: THOUGHT },
};

/** A Storage that keeps items in a Map, as sessionStorage does. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}

describe('the saved game of the play view', () => {
  it('reads back what was written, per game', () => {
    const storage = memoryStorage();
    writePlay('tictactoe', GAME, storage);
    expect(readPlay(tictactoe, storage)).toEqual(GAME);
    expect(readPlay(connect4, storage)).toBeNull();
    expect(storage.getItem(savedKey('tictactoe'))).toBe(encodePlay(GAME));
  });

  it('starts a fresh game from moves that are not a legal game, keeping the settings', () => {
    for (const moves of [[4, 4], [9], [0.5], 'e4', null, [0, 1, 3, 4, 6, 7]]) {
      const saved = decodePlay(JSON.stringify({ ...GAME, moves }), tictactoe);
      expect(saved).toEqual({ ...GAME, moves: [], thoughts: {} });
    }
    // a game that was already won: its moves cannot go on (the 7th comes after the win)
    expect(decodePlay(JSON.stringify({ ...GAME, moves: [0, 3, 1, 4, 2, 5, 6] }), tictactoe)?.moves).toEqual([]);
  });

  it('reads nothing from what is no saved game', () => {
    for (const raw of [null, '', 'not json', '[1, 2]', '42', 'null']) {
      expect(decodePlay(raw, tictactoe)).toBeNull();
    }
  });

  it('puts defaults in place of settings that do not fit', () => {
    const odd = { moves: [], humanSide: 7, opponentKey: 'x'.repeat(500), simulations: -3, heatMode: 'rainbow' };
    expect(decodePlay(JSON.stringify(odd), tictactoe)).toEqual({
      moves: [],
      humanSide: 0,
      opponentKey: 'alphazero',
      simulations: null,
      heatMode: 'visits',
      thoughts: {},
    });
  });

  it("keeps only the bot's answers that fit its own moves", () => {
    const thoughts = {
      0: { ...THOUGHT, action: 4 }, // the human's ply
      1: THOUGHT,
      2: { ...THOUGHT, action: 8 }, // the human's ply
      5: THOUGHT, // beyond the game
      x: THOUGHT,
    };
    expect(decodePlay(JSON.stringify({ ...GAME, thoughts }), tictactoe)?.thoughts).toEqual({ 1: THOUGHT });
    for (const bad of [
      { ...THOUGHT, action: 3 }, // not the move played
      { ...THOUGHT, visits: [1, 0] }, // not one share per action
      { ...THOUGHT, value: 'high' },
      { ...THOUGHT, modelStep: 'new' },
      { ...THOUGHT, player: null },
    ]) {
      expect(decodePlay(JSON.stringify({ ...GAME, thoughts: { 1: bad } }), tictactoe)?.thoughts).toEqual({});
    }
  });

  it('plays on where the browser refuses storage', () => {
    const refusing = {
      ...memoryStorage(),
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    } as Storage;
    expect(() => writePlay('tictactoe', GAME, refusing)).not.toThrow();
    expect(readPlay(tictactoe, refusing)).toBeNull();
  });
});
