/** Hash routes: #/play/connect4, #/dashboard/othello, #/replays/tictactoe (/12: game 12). */

export type View = 'play' | 'dashboard' | 'replays';
export interface Route {
  view: View;
  game: string;
  /** The replay shown (#/replays/connect4/123); absent: the newest. Replays only. */
  replay?: number;
}

/** A route read from an address, with what it named that the page does not have. */
export interface Parsed {
  route: Route;
  /** The view part when it names no view ("garbage" in #garbage), else null. */
  unknownView: string | null;
  /** The game part when it names no game ("chess" in #/play/chess), else null. */
  unknownGame: string | null;
}

const VIEWS: View[] = ['play', 'dashboard', 'replays'];
/** Shown in a note, so that a long made-up address does not fill the page. */
const NOTE_CHARS = 30;

/**
 * The hash's parts, as written (any may be empty or unknown): the view, the game and what
 * follows the game (a replay's id). A query after any ("#/play/othello?x=1") is no part of it.
 */
function hashParts(hash: string): [string, string, string] {
  const [view = '', game = '', rest = ''] = hash
    .replace(/^#\/?/, '')
    .split('?')[0]
    .split('/');
  return [view, game, rest];
}

/** A replay's id as the address writes it (a row id of replay.db: 1, 2, ...), or null. */
function replayId(part: string): number | null {
  const id = /^[0-9]+$/.test(part) ? Number(part) : NaN;
  return Number.isSafeInteger(id) && id >= 1 ? id : null;
}

/** `name` among `known`, ignoring case ("Connect4" is connect4), or null. */
function match<T extends string>(name: string, known: readonly T[]): T | null {
  const lower = name.toLowerCase();
  return known.find((k) => k.toLowerCase() === lower) ?? null;
}

/** Whether the hash names one of `games`: if not, the page waits for /api/health to pick one. */
export function namesGame(hash: string, games: string[]): boolean {
  return match(hashParts(hash)[1], games) !== null;
}

/**
 * The route a hash shows: an unknown or missing view is Play, an unknown or missing game is
 * `fallbackGame`. The fallback must not depend on where the page was before, so that the same
 * address always shows the same page. A replay's id counts only after a known game (else it
 * would be another game's id); anything else after the game is ignored.
 */
export function readRoute(hash: string, games: string[], fallbackGame: string): Parsed {
  const [view, game, rest] = hashParts(hash);
  const knownView = match(view, VIEWS);
  const knownGame = match(game, games);
  const replay = knownView === 'replays' && knownGame ? replayId(rest) : null;
  return {
    route: {
      view: knownView ?? 'play',
      game: knownGame ?? fallbackGame,
      ...(replay === null ? {} : { replay }),
    },
    unknownView: view && !knownView ? view : null,
    unknownGame: game && !knownGame ? game : null,
  };
}

/**
 * Where the page opens: the hash's route, except that a hash naming no game shows the game
 * being trained (`trainingGame`, from /api/health), and an empty hash its training dashboard.
 */
export function startRoute(
  hash: string,
  games: string[],
  fallbackGame: string,
  trainingGame: string | null,
): Parsed {
  const parsed = readRoute(hash, games, fallbackGame);
  if (trainingGame === null || !games.includes(trainingGame) || namesGame(hash, games)) {
    return parsed;
  }
  const view = hashParts(hash)[0] ? parsed.route.view : 'dashboard';
  return { ...parsed, route: { view, game: trainingGame } };
}

/**
 * A short note for an address that named a view or game the page does not have, saying what
 * is shown instead (null when it named none): "no game 'chess': showing Tic-tac-toe".
 */
export function routeNote(
  parsed: Parsed,
  titles: Record<string, string>,
  viewTitles: Record<View, string>,
): string | null {
  const quote = (name: string) =>
    `'${name.length > NOTE_CHARS ? `${name.slice(0, NOTE_CHARS)}…` : name}'`;
  const missing: string[] = [];
  const shown: string[] = [];
  if (parsed.unknownView !== null) {
    missing.push(`no page ${quote(parsed.unknownView)}`);
    shown.push(viewTitles[parsed.route.view]);
  }
  if (parsed.unknownGame !== null) {
    missing.push(`no game ${quote(parsed.unknownGame)}`);
    shown.push(titles[parsed.route.game] ?? parsed.route.game);
  }
  return missing.length ? `${missing.join(' and ')}: showing ${shown.join(', ')}` : null;
}

export function routeHash(route: Route): string {
  const replay = route.view === 'replays' && route.replay !== undefined ? `/${route.replay}` : '';
  return `#/${route.view}/${route.game}${replay}`;
}
