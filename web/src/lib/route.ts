/** Hash routes: #/play/connect4, #/dashboard/othello, #/replays/tictactoe. */

export type View = 'play' | 'dashboard' | 'replays';
export interface Route {
  view: View;
  game: string;
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
 * The hash's two parts, as written (either may be empty or unknown); a query after either
 * ("#/play/othello?x=1") and parts after the game (a replay id) are no part of the route.
 */
function hashParts(hash: string): [string, string] {
  const [view = '', game = ''] = hash
    .replace(/^#\/?/, '')
    .split('?')[0]
    .split('/');
  return [view, game];
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
 * address always shows the same page.
 */
export function readRoute(hash: string, games: string[], fallbackGame: string): Parsed {
  const [view, game] = hashParts(hash);
  const knownView = match(view, VIEWS);
  const knownGame = match(game, games);
  return {
    route: { view: knownView ?? 'play', game: knownGame ?? fallbackGame },
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
  return `#/${route.view}/${route.game}`;
}
