import { vi } from 'vitest';

const json = (value: unknown) => new Response(JSON.stringify(value), { status: 200 });

/** Stubs `fetch` as an actor that self-plays tictactoe with one worker, has no checkpoints and
 *  answers every game's stats with `stats`: what the Dashboard's tests render against. */
export function stubActor(stats: unknown): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url.endsWith('/stats')) return json(stats);
      if (url.endsWith('/checkpoints')) return json({ checkpoints: [] });
      return json({
        training_game: 'tictactoe',
        workers: [{}],
        selfplay_rates: { games_per_s: 2, positions_per_s: 64, nn_evals_per_s: 900 },
        models: { tictactoe: { step: 500, source: 'run', last_refusal: null } },
      });
    }),
  );
}
