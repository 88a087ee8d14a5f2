/** Pure helpers of the Replays view: what its empty list says, and scrolling its list. */
import type { Health } from './api';

/**
 * Whether self-play of a game runs, from /api/health: the evidence behind what a view without
 * any of its games yet says.
 * - 'running': the actor's workers play it (their rates over the last few seconds are not 0)
 * - 'starting': its workers are there but have played nothing yet (a first run compiles the
 *   search for about a minute)
 * - 'off': the actor does not self-play it (it only serves, or plays another game, or has no
 *   workers)
 */
export type Selfplay = 'running' | 'starting' | 'off';

export function selfplayOf(health: Health, game: string): Selfplay {
  // training_game alone is what the command line asked for, not that workers play.
  if (health.trainingGame !== game || health.workers === 0) return 'off';
  const rates = health.rates;
  return rates && (rates.gamesPerS > 0 || rates.positionsPerS > 0) ? 'running' : 'starting';
}

/**
 * The list's scrollTop that shows an entry whole, moving the list as little as possible
 * (what scrollIntoView's block "nearest" does, without scrolling the page too). `top` is the
 * entry's offset in the list's content; `bottomMargin` keeps it clear of the list's fade.
 */
export function scrollToShow(
  scrollTop: number,
  viewHeight: number,
  top: number,
  height: number,
  bottomMargin = 0,
): number {
  if (top < scrollTop) return top;
  const bottom = top + height + bottomMargin;
  if (bottom > scrollTop + viewHeight) return Math.min(top, bottom - viewHeight);
  return scrollTop;
}
