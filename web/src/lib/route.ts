/** Hash routes: #/play/connect4, #/dashboard/othello, #/replays/tictactoe. */

export type View = 'play' | 'dashboard' | 'replays';
export interface Route {
  view: View;
  game: string;
}

const VIEWS: View[] = ['play', 'dashboard', 'replays'];

/** The hash's two parts, as written (either may be empty or unknown). */
function hashParts(hash: string): [string, string] {
  const [view = '', game = ''] = hash.replace(/^#\/?/, '').split('/');
  return [view, game];
}

/** Whether the hash names one of `games`: if not, the page waits for /api/health to pick one. */
export function namesGame(hash: string, games: string[]): boolean {
  return games.includes(hashParts(hash)[1]);
}

export function parseRoute(hash: string, games: string[], fallbackGame: string): Route {
  const [view, game] = hashParts(hash);
  return {
    view: VIEWS.includes(view as View) ? (view as View) : 'play',
    game: games.includes(game) ? game : fallbackGame,
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
): Route {
  const route = parseRoute(hash, games, fallbackGame);
  if (trainingGame === null || !games.includes(trainingGame) || namesGame(hash, games)) {
    return route;
  }
  return { view: hashParts(hash)[0] ? route.view : 'dashboard', game: trainingGame };
}

export function routeHash(route: Route): string {
  return `#/${route.view}/${route.game}`;
}
