/** Hash routes: #/play/connect4, #/dashboard/othello, #/replays/tictactoe. */

export type View = 'play' | 'dashboard' | 'replays';
export interface Route {
  view: View;
  game: string;
}

const VIEWS: View[] = ['play', 'dashboard', 'replays'];

export function parseRoute(hash: string, games: string[], fallbackGame: string): Route {
  const [view, game] = hash.replace(/^#\/?/, '').split('/');
  return {
    view: VIEWS.includes(view as View) ? (view as View) : 'play',
    game: games.includes(game) ? game : fallbackGame,
  };
}

export function routeHash(route: Route): string {
  return `#/${route.view}/${route.game}`;
}
