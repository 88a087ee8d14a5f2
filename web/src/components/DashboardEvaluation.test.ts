import { render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseStats } from '../lib/api';
import { buildCharts } from '../lib/charts';
import Dashboard from './Dashboard.svelte';
import { stubActor } from './fake-actor';

/** A fake actor that self-plays tictactoe and answers `stats` with these evaluations. */
function actor(evaluations: unknown[]) {
  const stats = {
    game: 'tictactoe',
    step: 500,
    updated_at: Date.now() / 1000,
    history: [{ step: 500, time: Date.now() / 1000, loss_total: 1 }],
    evaluations,
  };
  stubActor(stats);
  return stats;
}

/** A solver judgement as actor/evaluation.py writes it: positions where a move can be wrong. */
function judged(simulations: number, moves: number[]) {
  const [opening, middle, end] = moves;
  const optimal = opening + middle + end;
  return {
    step: 500, opponent: 'solver', simulations, optimal_move_rate: optimal / 3191,
    optimal_moves: optimal, positions: 3191, random_optimal_rate: 0.4, trivial_share: 0.294,
    phases: {
      opening: { positions: 69, optimal_moves: opening },
      middle: { positions: 1594, optimal_moves: middle },
      end: { positions: 1528, optimal_moves: end },
    },
    all_positions: { positions: 4520, optimal_moves: optimal + 1329 },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("the evaluation card's solver judgement", () => {
  it('counts positions where a move can be wrong, per phase, all positions apart', async () => {
    const stats = actor([judged(0, [60, 1500, 1400]), judged(64, [69, 1594, 1527])]);
    render(Dashboard, { game: 'tictactoe' });
    const alone = await screen.findByTestId('optimal-0');
    expect(alone.textContent).toContain('92.8% of 3,191 positions where a move can be wrong');
    expect(alone.textContent).toContain('opening 87.0% of 69 · middle 94.1% of 1,594');
    expect(alone.textContent).toContain('end 91.6% of 1,528');
    expect(alone.textContent).toContain('all positions: 94.9% of 4,520');
    expect(alone.textContent).toContain('random moves score 40%');
    // 3,190 of 3,191 would round to 100.0%: the counts instead
    const searched = screen.getByTestId('optimal-64').textContent!;
    expect(searched).toContain('3,190 / 3,191 positions where a move can be wrong');
    expect(searched).toContain('end 99.9% of 1,528');
    expect(searched).toContain('all positions: 4,519 / 4,520');
    const chart = buildCharts(parseStats(stats)).find((c) => c.testid === 'chart-optimal');
    expect(chart?.title).toBe(
      'Optimal-move rate on 3,191 positions where a move can be wrong (judged by the solver)',
    );
  });

  it('labels an older judgement over every position as such', async () => {
    const old = {
      step: 500, opponent: 'solver', simulations: 64, optimal_move_rate: 0.9,
      optimal_moves: 4068, positions: 4520, random_optimal_rate: 0.58,
    };
    const stats = actor([old]);
    render(Dashboard, { game: 'tictactoe' });
    const card = await screen.findByTestId('optimal-64');
    await waitFor(() => expect(card.textContent).toContain('90.0% of 4,520 (all positions)'));
    expect(card.textContent).not.toContain('can be wrong');
    const chart = buildCharts(parseStats(stats)).find((c) => c.testid === 'chart-optimal');
    expect(chart?.title).toBe('Optimal-move rate on all 4,520 positions (judged by the solver)');
  });
});
