import { describe, expect, it } from 'vitest';
import { namesGame, readRoute, routeHash, routeNote, startRoute } from './route';

const GAMES = ['tictactoe', 'connect4', 'othello'];
const TITLES = { tictactoe: 'Tic-tac-toe', connect4: 'Connect 4', othello: 'Othello' };
const VIEWS = { play: 'Play', dashboard: 'Training', replays: 'Replays' } as const;

describe('routes from the address', () => {
  it('matches views and games whatever their case', () => {
    expect(readRoute('#/PLAY/Connect4', GAMES, 'tictactoe')).toEqual({
      route: { view: 'play', game: 'connect4' },
      unknownView: null,
      unknownGame: null,
    });
    expect(namesGame('#/Replays/OTHELLO', GAMES)).toBe(true);
  });

  it('ignores a query and what follows the game', () => {
    expect(readRoute('#/play/othello?x=1', GAMES, 'tictactoe').route).toEqual({
      view: 'play',
      game: 'othello',
    });
    expect(readRoute('#/play/connect4/123', GAMES, 'tictactoe').route).toEqual({
      view: 'play',
      game: 'connect4',
    });
    expect(routeHash(readRoute('#/dashboard/othello/?a=b', GAMES, 'x').route)).toBe(
      '#/dashboard/othello',
    );
    expect(routeHash(readRoute('#/dashboard/othello/7', GAMES, 'x').route)).toBe(
      '#/dashboard/othello',
    );
  });

  it("reads a replay's id after the game, and writes it back", () => {
    const parsed = readRoute('#/replays/Connect4/123?x=1', GAMES, 'tictactoe');
    expect(parsed).toEqual({
      route: { view: 'replays', game: 'connect4', replay: 123 },
      unknownView: null,
      unknownGame: null,
    });
    expect(routeHash(parsed.route)).toBe('#/replays/connect4/123');
    expect(routeNote(parsed, TITLES, VIEWS)).toBeNull();
    // Not an id: the newest, and the address says so once corrected.
    const padded = readRoute('#/replays/othello/007', GAMES, 'x').route;
    expect(routeHash(padded)).toBe('#/replays/othello/7');
    for (const rest of ['0', '-4', '12x', '1.5', ' 5', '', '99999999999999999999']) {
      const route = readRoute(`#/replays/othello/${rest}`, GAMES, 'tictactoe').route;
      expect(route, rest).toEqual({ view: 'replays', game: 'othello' });
      expect(routeHash(route)).toBe('#/replays/othello');
    }
    // Another game's id is no id of the game shown instead.
    expect(readRoute('#/replays/chess/5', GAMES, 'tictactoe').route).toEqual({
      view: 'replays',
      game: 'tictactoe',
    });
    expect(routeHash({ view: 'play', game: 'othello', replay: 5 })).toBe('#/play/othello');
    expect(startRoute('#/replays/othello/5', GAMES, 'tictactoe', 'connect4').route).toEqual({
      view: 'replays',
      game: 'othello',
      replay: 5,
    });
    expect(startRoute('#/replays', GAMES, 'tictactoe', 'connect4').route).toEqual({
      view: 'replays',
      game: 'connect4',
    });
  });

  it('falls back to the same game for an unknown one, and says what was unknown', () => {
    // The fallback is the caller's fixed default, never the game shown before.
    const chess = readRoute('#/play/chess', GAMES, 'tictactoe');
    expect(chess).toEqual({
      route: { view: 'play', game: 'tictactoe' },
      unknownView: null,
      unknownGame: 'chess',
    });
    expect(routeNote(chess, TITLES, VIEWS)).toBe("no game 'chess': showing Tic-tac-toe");
    const garbage = readRoute('#garbage', GAMES, 'tictactoe');
    expect(garbage.unknownView).toBe('garbage');
    expect(garbage.unknownGame).toBeNull();
    expect(routeNote(garbage, TITLES, VIEWS)).toBe("no page 'garbage': showing Play");
    const both = readRoute('#/games/go', GAMES, 'othello');
    expect(routeNote(both, TITLES, VIEWS)).toBe(
      "no page 'games' and no game 'go': showing Play, Othello",
    );
    const long = readRoute(`#/play/${'x'.repeat(80)}`, GAMES, 'tictactoe');
    expect(routeNote(long, TITLES, VIEWS)).toBe(`no game '${'x'.repeat(30)}…': showing Tic-tac-toe`);
  });

  it('has nothing to say about an address that leaves a part out', () => {
    for (const hash of ['', '#', '#/', '#/dashboard', '#/play/', '#/replays/connect4']) {
      expect(routeNote(readRoute(hash, GAMES, 'tictactoe'), TITLES, VIEWS)).toBeNull();
    }
  });

  it('opens on the game being trained unless the hash names one', () => {
    const games = ['tictactoe', 'connect4'];
    expect(startRoute('', games, 'tictactoe', 'connect4').route).toEqual({
      view: 'dashboard',
      game: 'connect4',
    });
    expect(startRoute('#/play', games, 'tictactoe', 'connect4').route).toEqual({
      view: 'play',
      game: 'connect4',
    });
    expect(startRoute('#/replays/tictactoe', games, 'tictactoe', 'connect4').route).toEqual({
      view: 'replays',
      game: 'tictactoe',
    });
    expect(startRoute('', games, 'tictactoe', null).route).toEqual({ view: 'play', game: 'tictactoe' });
    expect(startRoute('', games, 'tictactoe', 'chess').route).toEqual({ view: 'play', game: 'tictactoe' });
    expect(namesGame('#/replays/connect4', games)).toBe(true);
    expect(namesGame('#/play', games)).toBe(false);
    expect(namesGame('#/play/chess', games)).toBe(false);
  });

  it('opens an unknown game on the game being trained, and still says so', () => {
    const start = startRoute('#/play/chess', GAMES, 'tictactoe', 'connect4');
    expect(start.route).toEqual({ view: 'play', game: 'connect4' });
    expect(routeNote(start, TITLES, VIEWS)).toBe("no game 'chess': showing Connect 4");
    expect(startRoute('#/Dashboard/OTHELLO', GAMES, 'tictactoe', 'connect4').route).toEqual({
      view: 'dashboard',
      game: 'othello',
    });
  });
});
