import { describe, expect, it } from 'vitest';
import { parseStats } from './api';
import {
  buildCharts,
  elapsedAtStep,
  hasTrainingTime,
  replayNote,
  trainingTimeNow,
} from './charts';
import { percentBelowAll, shareOf, timeTicks, trainingTime } from './format';

/** A run's history: a point every 100 steps, 10 s of training apart, from 30 s on. */
function run(points = 5) {
  return parseStats({
    game: 'tictactoe',
    step: 100 * points,
    updated_at: 1000,
    elapsed_s: 30 + 10 * (points - 1),
    replay_games: 600,
    replay_positions: 5000,
    replay_oldest_step: 100,
    history: Array.from({ length: points }, (_, i) => ({
      step: 100 * (i + 1),
      time: 900 + i,
      elapsed_s: 30 + 10 * i,
      loss_total: 1,
      replay_positions: 5000,
      replay_games: 500 + 25 * i,
      replay_oldest_step: i < 2 ? 0 : 100 * (i - 1),
    })),
    evaluations: [
      { step: 250, opponent: 'mcts-64', simulations: 64, win_rate: 0.5, draw_rate: 0.5,
        loss_rate: 0, games: 20, score_low: 0.53, score_high: 0.89 },
      { step: 450, opponent: 'mcts-64', simulations: 64, win_rate: 0.6, draw_rate: 0.4,
        loss_rate: 0, games: 20, score_low: 0.6, score_high: 0.93 },
    ],
  });
}

describe('training time', () => {
  it('is read at any step, between the points that have it', () => {
    const stats = run();
    expect(hasTrainingTime(stats)).toBe(true);
    expect(elapsedAtStep(stats.history, 100)).toBe(30);
    expect(elapsedAtStep(stats.history, 250)).toBe(45);
    expect(elapsedAtStep(stats.history, 50)).toBe(30); // before the first point: its time
    expect(elapsedAtStep(stats.history, 900)).toBe(70); // after the last: its time
    // stats.json from before the training time was kept: no time axis
    const old = parseStats({ history: [{ step: 1, time: 5, loss_total: 1 }] });
    expect(hasTrainingTime(old)).toBe(false);
    expect(elapsedAtStep(old.history, 1)).toBeNull();
  });

  it('ticks on while the learner runs, and stands still when it has stopped', () => {
    const stats = run();
    expect(trainingTimeNow(stats, 1012, true)).toBe(82);
    expect(trainingTimeNow(stats, 5000, false)).toBe(70);
    expect(trainingTimeNow(parseStats({}), 5000, true)).toBeNull();
  });

  it('reads as hours and minutes', () => {
    expect([42, 420, 4320, 3600 * 26].map(trainingTime)).toEqual([
      '42 s',
      '7 min',
      '1 h 12 min',
      '1 d 2 h',
    ]);
    expect(timeTicks([0, 30, 60, 90])).toEqual(['0', '30 s', '60 s', '90 s']);
    expect(timeTicks([0, 300, 600])).toEqual(['0', '5 min', '10 min']);
    expect(timeTicks([0, 5400, 10800])).toEqual(['0', '1.5 h', '3 h']);
  });

  it('is an x axis for every chart, evaluations placed at their steps training time', () => {
    const charts = buildCharts(run(), 'time');
    const byId = Object.fromEntries(charts.map((c) => [c.testid, c]));
    expect(byId['chart-loss'].x).toEqual([30, 40, 50, 60, 70]);
    expect(byId['chart-loss'].xTime).toBe(true);
    expect(byId['chart-winrate'].x).toEqual([45, 65]);
    for (const chart of charts) expect(chart.xRange).toEqual([30, 70]);
    // the step axis stays the default
    expect(buildCharts(run())[0].x).toEqual([100, 200, 300, 400, 500]);
    expect(buildCharts(run())[0].xTime).toBeUndefined();
  });
});

describe('the replay chart', () => {
  it('draws the games in the window and the age of its oldest position, not its size', () => {
    const replay = buildCharts(run()).find((c) => c.testid === 'chart-replay')!;
    expect(replay.series.map((s) => s.label)).toEqual([
      'games in the window',
      'age of the oldest position (steps)',
    ]);
    expect(replay.ys).toEqual([
      [500, 525, 550, 575, 600],
      [100, 200, 200, 200, 200],
    ]);
    expect(replayNote(run())).toBe(
      'The window holds the newest 5,000 positions, from 600 games; its oldest was played by ' +
        'the model of step 100, 400 steps (40 s of training) ago.',
    );
    // a history from before the window's games were kept: its positions, as before
    const old = parseStats({ history: [{ step: 1, replay_positions: 50 }] });
    const fallback = buildCharts(old).find((c) => c.testid === 'chart-replay')!;
    expect(fallback.ys).toEqual([[50]]);
  });
});

describe('evaluation scores', () => {
  it('are drawn with their 95% interval as a shade', () => {
    const score = buildCharts(run()).find((c) => c.testid === 'chart-winrate')!;
    expect(score.title).toContain('shaded: 95% interval');
    expect(score.series.map((s) => [s.label, !!s.bandEdge])).toEqual([
      ['mcts-64 · AlphaZero 64 sims', false],
      ['mcts-64 · AlphaZero 64 sims, 95% upper', true],
      ['mcts-64 · AlphaZero 64 sims, 95% lower', true],
    ]);
    expect(score.ys).toEqual([
      [0.75, 0.8],
      [0.89, 0.93],
      [0.53, 0.6],
    ]);
    expect(score.bands).toEqual([{ upper: 1, lower: 2, color: 'rgba(88, 166, 255, 0.18)' }]);
    expect(score.yMin).toBe(0.4); // the whole interval in view
  });
});

describe('shares near all', () => {
  it('never read as 100% unless they are', () => {
    expect(percentBelowAll(4518 / 4520)).toBe('99.96%');
    expect(percentBelowAll(1)).toBe('100.0%');
    expect(percentBelowAll(0.973)).toBe('97.3%');
    expect(shareOf(4518, 4520)).toBe('4,518 / 4,520');
    expect(shareOf(4520, 4520)).toBe('100.0%');
    expect(shareOf(4300, 4520)).toBe('95.1%');
  });
});
