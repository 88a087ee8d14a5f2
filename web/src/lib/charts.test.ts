import { describe, expect, it } from 'vitest';
import { parseStats, type Evaluation } from './api';
import {
  buildCharts,
  LOSS_NOTE,
  nextLrChange,
  perfectPlay,
  perfectPlayText,
  stepRange,
} from './charts';

/** A solver judgement of the network at `simulations` (0: the network alone). */
function solver(step: number, simulations: number, rate: number, positions = 4520): Evaluation {
  return {
    step,
    time: null,
    opponent: 'solver',
    simulations,
    win_rate: null,
    draw_rate: null,
    loss_rate: null,
    optimal_move_rate: rate,
    random_optimal_rate: 0.58,
    positions,
  };
}

describe('the loss chart', () => {
  it('says why the loss levels off above 0, and where strength is read', () => {
    const loss = buildCharts(parseStats({ history: [{ step: 1, loss_total: 1 }] }))[0];
    expect(loss.testid).toBe('chart-loss');
    expect(loss.note).toBe(LOSS_NOTE);
    expect(LOSS_NOTE).toMatch(/Neither loss reaches 0, even with perfect play/);
    expect(LOSS_NOTE).toMatch(/evaluation charts/);
  });

  it('draws the learning rate beside the loss where it changed, not as a chart of its own', () => {
    const charts = (rates: number[]) =>
      buildCharts(
        parseStats({ history: rates.map((rate, i) => ({ step: i * 10, learning_rate: rate })) }),
      );
    const flat = charts([0.02, 0.02, 0.02]);
    expect(flat.map((c) => c.testid)).not.toContain('chart-lr');
    expect(flat[0].series.map((s) => s.label)).toEqual(['total', 'policy', 'value']);
    const stepped = charts([0.02, 0.02, 0.002])[0];
    expect(stepped.title).toBe('Loss and learning rate');
    expect(stepped.series.at(-1)).toMatchObject({ label: 'learning rate', right: true });
    expect(stepped.ys.at(-1)).toEqual([0.02, 0.02, 0.002]);
    expect(stepped.rightLabel).toBe('learning rate');
    expect(stepped.rightLog).toBe(true);
  });
});

describe('the learning-rate schedule', () => {
  const config = {
    lr: 0.02,
    lr_schedule: 'milestones',
    lr_milestones: [26000, 80000],
    lr_gamma: 0.1,
    lr_step_every: 100000,
    lr_total_steps: 200000,
    lr_min_ratio: 0.01,
  };
  const next = (step: number, changes: object = {}) =>
    nextLrChange(parseStats({ config: { ...config, ...changes } }).lrSchedule, step);

  it('names the next step-down of a milestones schedule, none after the last', () => {
    expect(next(0)).toEqual({ lr: 0.002, step: 26000, gradual: false });
    expect(next(26000)!.step).toBe(80000); // the learner steps down at the milestone itself
    expect(next(26000)!.lr).toBeCloseTo(0.0002);
    expect(next(80000)).toBeNull();
  });

  it('reads the other schedules, and none from a config without one', () => {
    expect(next(150000, { lr_schedule: 'step' })).toMatchObject({ step: 200000 });
    expect(next(150000, { lr_schedule: 'step' })!.lr).toBeCloseTo(0.0002);
    expect(next(5000, { lr_schedule: 'cosine' })).toMatchObject({ step: 200000, gradual: true });
    expect(next(5000, { lr_schedule: 'cosine' })!.lr).toBeCloseTo(0.0002);
    expect(next(5000, { lr_schedule: 'constant' })).toBeNull();
    expect(nextLrChange(parseStats({ config: { learning_rate: 0.02 } }).lrSchedule, 0)).toBeNull();
  });
});

describe('perfect play', () => {
  it('is the newest solver judgements at 100%, each since its unbroken run began', () => {
    const evals = [
      solver(100, 0, 0.97),
      solver(100, 64, 0.99),
      solver(200, 0, 1),
      solver(200, 64, 1),
      solver(300, 0, 0.999), // the network alone slipped once
      solver(300, 64, 1),
      solver(400, 0, 1),
      solver(400, 64, 1),
    ];
    expect(perfectPlay(evals)).toEqual([
      { simulations: 0, since: 400, positions: 4520 },
      { simulations: 64, since: 200, positions: 4520 },
    ]);
    expect(perfectPlay(evals.slice(0, 6))).toEqual([
      { simulations: 64, since: 200, positions: 4520 },
    ]);
    expect(perfectPlay(evals.slice(0, 2))).toEqual([]);
    // matches against baselines judge only the moves of their games: no claim
    const game = { ...solver(400, 64, 1), opponent: 'random', win_rate: 1 };
    expect(perfectPlay([game])).toEqual([]);
  });

  it('says what was judged: every Tic-tac-toe position, a Connect 4 test set', () => {
    const perfect = [
      { simulations: 64, since: 8000, positions: 4520 },
      { simulations: 0, since: 12000, positions: 4520 },
    ];
    expect(perfectPlayText('tictactoe', perfect)).toEqual({
      headline: 'Perfect play',
      detail:
        'a best move in all 4,520 reachable positions ' +
        '(64 sims since step 8,000; network alone since step 12,000)',
    });
    const connect4 = (since: number, positions: number | null) =>
      perfectPlayText('connect4', [{ simulations: 200, since, positions }]);
    expect(connect4(61000, 500)).toEqual({
      headline: 'Perfect play on the test set',
      detail: 'a best move in all 500 test positions (200 sims since step 61,000)',
    });
    expect(connect4(10, null)).toEqual({
      headline: 'Perfect play on the test set',
      detail: 'a best move in every test position (200 sims since step 10)',
    });
    expect(perfectPlayText('tictactoe', [])).toBeNull();
  });
});

describe('the x axes', () => {
  it('span the same steps on every chart: evaluations lag the training step', () => {
    const stats = parseStats({
      history: [20, 3000, 5500].map((step) => ({ step, loss_total: 1, positions_per_s: 5 })),
      evaluations: [solver(20, 64, 0.8), solver(2250, 64, 0.9)],
      elo: [
        { player: 'step-20', step: 20, elo: 0 },
        { player: 'step-2250', step: 2250, elo: 300 },
        { player: 'random', step: null, elo: -200 },
      ],
    });
    expect(stepRange(stats)).toEqual([20, 5500]);
    const charts = buildCharts(stats);
    expect(charts.map((c) => c.testid)).toContain('chart-optimal');
    expect(charts.map((c) => c.testid)).toContain('chart-elo');
    for (const chart of charts) {
      expect([chart.testid, chart.xRange]).toEqual([chart.testid, [20, 5500]]);
    }
    // an evaluation newer than the history (evaluations.json merged before stats.json's next
    // write) widens the range rather than being cut off
    expect(stepRange({ ...stats, evaluations: [solver(6000, 64, 1)] })).toEqual([20, 6000]);
    expect(stepRange(parseStats({ history: [{ step: 7 }] }))).toBeUndefined();
    expect(buildCharts(parseStats({ history: [{ step: 7 }] }))[0].xRange).toBeUndefined();
  });
});
