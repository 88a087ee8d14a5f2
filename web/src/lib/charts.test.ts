import { describe, expect, it } from 'vitest';
import { parseStats, type Evaluation } from './api';
import {
  buildCharts,
  LOSS_NOTE,
  nextLrChange,
  optimalMoves,
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

  it('is when each kind of judgement first reached 100%, and since when it holds', () => {
    const kinds = (list: Evaluation[]) =>
      perfectPlay(list).map(({ simulations, first, since }) => ({ simulations, first, since }));
    expect(kinds(evals)).toEqual([
      { simulations: 0, first: 200, since: 400 },
      { simulations: 64, first: 200, since: 200 },
    ]);
    expect(kinds(evals.slice(0, 6))).toEqual([
      { simulations: 0, first: 200, since: null }, // reached, but the newest falls short
      { simulations: 64, first: 200, since: 200 },
    ]);
    expect(perfectPlay(evals.slice(0, 2))).toEqual([]);
    // matches against baselines judge only the moves of their games: no claim
    const game = { ...solver(400, 64, 1), opponent: 'random', win_rate: 1 };
    expect(perfectPlay([game])).toEqual([]);
  });

  it('says what was judged: every Tic-tac-toe position, a Connect 4 test set', () => {
    const text = perfectPlayText('tictactoe', perfectPlay(evals), (step) => step / 10);
    expect(text).toMatchObject({
      headline: 'Perfect play',
      holds: true,
      detail:
        'a best move in all 4,520 reachable positions ' +
        '(network alone since step 400; 64 sims since step 200)',
      reached: 'first reached at step 200, after 20 s of training',
    });
    expect(text!.stop).toMatch(/^You can stop the run .*cannot make it stronger\.$/);
    const c4 = [solver(10, 200, 0.9, 500), solver(61000, 200, 1, 500)];
    expect(perfectPlayText('connect4', perfectPlay(c4))).toEqual({
      headline: 'Perfect play on the test set',
      holds: true,
      detail: 'a best move in all 500 test positions (200 sims since step 61,000)',
      reached: 'first reached at step 61,000',
      stop: null, // a test set is not every position
    });
    const unknown = [{ ...solver(10, 200, 1), positions: null }];
    expect(perfectPlayText('connect4', perfectPlay(unknown))!.detail).toBe(
      'a best move in every test position (200 sims since step 10)',
    );
    expect(perfectPlayText('tictactoe', [])).toBeNull();
  });

  it('does not come and go on a 100.0%: a model that falls short says its counts', () => {
    // 4,518 of 4,520 would read as "100.0%", and the badge come and go with later models
    const slipped = [
      ...evals,
      { ...solver(500, 0, 4518 / 4520), optimal_moves: 4518 },
      solver(500, 64, 1),
    ];
    const text = perfectPlayText('tictactoe', perfectPlay(slipped))!;
    expect(text.holds).toBe(true); // 64 sims still does
    expect(text.detail).toBe(
      'a best move in all 4,520 reachable positions ' +
        '(64 sims since step 200; network alone: 4,518 / 4,520 at step 500, no longer all)',
    );
    expect(text.stop).toMatch(/only the network alone a little surer\.$/);
    const both = [
      ...slipped,
      { ...solver(500, 64, 4519 / 4520), optimal_moves: 4519, positions: 4520 },
    ];
    const lost = perfectPlayText('tictactoe', perfectPlay(both))!;
    expect(lost.headline).toBe('Perfect play reached, not held');
    expect(lost.holds).toBe(false);
    expect(lost.stop).toBeNull();
    expect(lost.reached).toBe('first reached at step 200');
    expect(optimalMoves({ ...solver(1, 0, 0.97) })).toBe('97.0%');
    expect(optimalMoves({ ...solver(1, 0, 4518 / 4520) })).toBe('4,518 / 4,520');
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
