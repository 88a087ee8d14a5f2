import { describe, expect, it } from 'vitest';
import { parseStats } from './api';
import {
  bottlenecks,
  lastEvaluation,
  OVERDUE_EVALUATION_S,
  SLOW_EVALUATION_S,
  WAITING_LIMIT,
} from './bottleneck';

/** A Connect 4 run beside other load: 2 games/s, and a first evaluation of 261 s. */
function starved(waiting: number | null, seconds: number[]) {
  return parseStats({
    game: 'connect4',
    waiting_share: waiting,
    games_per_s: 1.8,
    positions_per_s: 60,
    evaluations: seconds.map((s, i) => ({
      step: 600,
      opponent: ['random', 'mcts-200', 'solver'][i],
      simulations: 200,
      seconds: s,
    })),
  });
}

const SELFPLAY = { running: true, workers: 1, rates: { gamesPerS: 2, positionsPerS: 64 } };

describe('what holds a run back', () => {
  it('names self-play where the learner waited at least half of the last minute', () => {
    const [found] = bottlenecks(starved(0.8, []), SELFPLAY, false);
    expect(found.kind).toBe('selfplay');
    expect(found.finding).toBe(
      'Self-play is the bottleneck: the learner waited 80% of the last minute for new games ' +
        '(2 games/s, 64 positions/s from 1 worker).',
    );
    expect(found.help).toContain('fewer other jobs on this machine');
    expect(found.help).toContain('--workers N');
    expect(found.help).toContain('--cpus N');
    // just under the threshold, or not measured yet: nothing said
    expect(bottlenecks(starved(WAITING_LIMIT - 0.01, []), SELFPLAY, false)).toEqual([]);
    expect(bottlenecks(starved(null, []), SELFPLAY, false)).toEqual([]);
    // the learner's own rates where the actor's are not in yet
    const early = bottlenecks(starved(1, []), { ...SELFPLAY, rates: null, workers: 2 }, false);
    expect(early[0].finding).toContain('100% of the last minute');
    expect(early[0].finding).toContain('(1.80 games/s, 60 positions/s from 2 workers)');
  });

  it('says so where the learner waits and this actor plays no games for the run', () => {
    const [found] = bottlenecks(starved(0.9, []), { running: false, workers: 0, rates: null }, false);
    expect(found.finding).toContain('this actor plays none for this run');
    expect(found.help).toBe('Start self-play with the learner: ./start_training.sh connect4.');
  });

  it('names evaluation where the newest one took two minutes or more', () => {
    expect(lastEvaluation(starved(0, [200, 40, 21]).evaluations)).toEqual({
      step: 600,
      seconds: 261,
    });
    const found = bottlenecks(starved(0.1, [200, 40, 21]), SELFPLAY, false);
    expect(found.map((f) => f.kind)).toEqual(['evaluation']);
    expect(found[0].finding).toBe(
      'Evaluation is slow: the last one (step 600) took 4 min, so the evaluation charts get a ' +
        'point every 4 min at most.',
    );
    expect(found[0].help).toContain('--cpus N');
    expect(bottlenecks(starved(0.1, [SLOW_EVALUATION_S - 1]), SELFPLAY, false)).toEqual([]);
    // entries written before their seconds were read: nothing measured, nothing said
    expect(lastEvaluation(parseStats({ evaluations: [{ step: 1, opponent: 'random' }] }).evaluations)).toBeNull();
  });

  it('names evaluation where the newest evaluated step is 7 minutes of training behind', () => {
    // an evaluation starved of CPU writes nothing until it ends: the gap is what is measured
    const stats = parseStats({
      game: 'connect4',
      history: [100, 600, 5000].map((step) => ({ step, elapsed_s: step / 10 })),
      evaluations: [{ step: 600, opponent: 'random', seconds: 30 }],
    });
    const at = (trained: number) => bottlenecks(stats, SELFPLAY, false, trained);
    expect(at(60 + OVERDUE_EVALUATION_S - 1)).toEqual([]);
    const [late] = at(60 + OVERDUE_EVALUATION_S);
    expect(late.finding).toBe(
      'Evaluation lags: the newest one is of step 600, 7 min of training ago: it gets too ' +
        'little CPU, or is off (--no-evaluation).',
    );
    const none = bottlenecks({ ...stats, evaluations: [] }, SELFPLAY, false, 500);
    expect(none[0].finding).toMatch(/^No evaluation yet after 8 min of training/);
    expect(bottlenecks({ ...stats, evaluations: [] }, SELFPLAY, false, 400)).toEqual([]);
    expect(bottlenecks({ ...stats, evaluations: [] }, SELFPLAY, false, null)).toEqual([]);
  });

  it('says both where both hold the run back, and nothing for a run that has stopped', () => {
    const stats = starved(0.95, [300]);
    expect(bottlenecks(stats, SELFPLAY, false).map((f) => f.kind)).toEqual([
      'selfplay',
      'evaluation',
    ]);
    expect(bottlenecks(stats, SELFPLAY, true)).toEqual([]);
  });
});
