import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Dashboard from './Dashboard.svelte';
import { stubActor } from './fake-actor';

/** A fake actor that self-plays tictactoe with one worker and answers `stats`. */
function actor(stats: unknown) {
  stubActor(stats);
}

/** Solver judgements of steps 200 to 500: perfect from 200, 4,518 of 4,520 at 500. */
function judged(step: number, simulations: number, moves: number) {
  return {
    step, opponent: 'solver', simulations, optimal_move_rate: moves / 4520,
    optimal_moves: moves, positions: 4520, random_optimal_rate: 0.58, seconds: 3,
  };
}

function stats(updatedAt: number, waiting: number) {
  return {
    game: 'tictactoe',
    step: 500,
    updated_at: updatedAt,
    elapsed_s: 4300,
    waiting_share: waiting,
    history: [100, 200, 300, 400, 500].map((step, i) => ({
      step, time: updatedAt - 50 + 10 * i, elapsed_s: 4260 + 10 * i, loss_total: 1,
    })),
    evaluations: [
      judged(100, 64, 4400),
      judged(200, 64, 4520),
      judged(500, 64, 4518),
      { step: 500, opponent: 'mcts-64', simulations: 64, win_rate: 0.5, draw_rate: 0.5,
        loss_rate: 0, games: 20, score_low: 0.53, score_high: 0.89, seconds: 5 },
    ],
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('the training dashboard', () => {
  it('says how long the run trained, and when it reached perfect play', async () => {
    actor(stats(Date.now() / 1000, 0));
    render(Dashboard, { game: 'tictactoe' });
    const time = await screen.findByTestId('training-time');
    expect(time.textContent).toMatch(/^1 h 1[12] min$/);
    const perfect = await screen.findByTestId('perfect-play');
    expect(perfect.textContent).toContain('Perfect play reached, not held');
    expect(perfect.textContent).toContain('64 sims: 4,518 / 4,520 at step 500, no longer all');
    expect(screen.getByTestId('perfect-reached').textContent).toBe(
      'first reached at step 200, after 1 h 11 min of training',
    );
    expect(screen.queryByTestId('can-stop')).toBeNull();
    const card = screen.getByTestId('card-evaluation').textContent!;
    expect(card).toContain('4,518 / 4,520');
    expect(card).not.toContain('100.0%');
    expect(screen.getByTestId('score-interval').textContent).toBe(
      'score 75%, 95% interval 53%–89% (20 games)',
    );
    expect(screen.queryByTestId('bottlenecks')).toBeNull(); // the learner did not wait
  });

  it('says what holds the run back, and switches the charts to training time', async () => {
    actor(stats(Date.now() / 1000, 0.75));
    render(Dashboard, { game: 'tictactoe' });
    const selfplay = await screen.findByTestId('bottleneck-selfplay');
    await waitFor(() => expect(selfplay.textContent).toContain('from 1 worker'));
    expect(selfplay.textContent).toContain('the learner waited 75% of the last minute');
    const loss = await screen.findByTestId('chart-loss');
    expect(loss.getAttribute('data-points')).toBe('5');
    await fireEvent.click(screen.getByTestId('axis-time'));
    expect(screen.getByTestId('axis-time').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('axis-step').getAttribute('aria-pressed')).toBe('false');
  });

  it('stops the clock and the diagnosis for a run that is not updating', async () => {
    actor(stats(Date.now() / 1000 - 3600, 0.9));
    render(Dashboard, { game: 'tictactoe' });
    const time = await screen.findByTestId('training-time');
    expect(time.textContent).toBe('1 h 11 min');
    expect(screen.getByTestId('card-time').textContent).toContain('stopped');
    expect(screen.queryByTestId('bottlenecks')).toBeNull();
  });
});
