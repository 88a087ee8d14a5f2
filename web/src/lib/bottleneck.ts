/**
 * What limits a running run, from numbers the API measures: the share of the last minute the
 * learner waited for self-play data (stats.json), self-play's rates (/api/health) and how long
 * the newest evaluation took (its entries' seconds). Pure, so that it is unit-tested.
 */
import type { Evaluation, Health, Stats } from './api';
import { elapsedAtStep } from './charts';
import { compact, percent, trainingTime } from './format';

/** Self-play is the bottleneck where the learner waited at least this share of a minute. */
export const WAITING_LIMIT = 0.5;
/** Evaluation is the bottleneck where one took at least this long (s): its charts then get a
 * point every two minutes at most. One costs about 0.2 CPU-s (Tic-tac-toe) to 2-4 CPU-s
 * (Connect 4; actor/config.py), and a first one compiles its searches for about a minute:
 * two minutes means it got little CPU. */
export const SLOW_EVALUATION_S = 120;

/** Evaluation is overdue where the newest evaluated step is this much training time behind
 * (s): the longest default interval between two (300 s) and a slow evaluation. */
export const OVERDUE_EVALUATION_S = 300 + SLOW_EVALUATION_S;

export interface Bottleneck {
  kind: 'selfplay' | 'evaluation';
  /** What is measured. */
  finding: string;
  /** What would help. */
  help: string;
}

/** What the dashboard knows of the actor's self-play for this run. */
export interface Selfplay {
  /** Whether the actor self-plays this game. */
  running: boolean;
  workers: number;
  rates: Health['rates'];
}

/** The newest evaluation's step and its seconds (its parts together); null: none measured. */
export function lastEvaluation(evals: Evaluation[]): { step: number; seconds: number } | null {
  if (evals.length === 0) return null;
  const step = evals[evals.length - 1].step;
  const parts = evals.filter((e) => e.step === step && e.seconds != null);
  if (parts.length === 0) return null;
  return { step, seconds: parts.reduce((sum, e) => sum + (e.seconds ?? 0), 0) };
}

/** What would help an evaluation that gets too little CPU. */
const EVALUATION_HELP =
  'It runs at the lowest priority, after self-play and training: fewer other jobs on this ' +
  'machine help, or fewer self-play workers (--workers N); from 8 CPUs on (--cpus N) the ' +
  'launcher keeps one CPU for it.';

/**
 * What holds the run back now, each with what would help; empty while nothing does, and for a
 * run that is not running (`stale`: its numbers are old). `trained`: the run's training time
 * now (null: not known).
 */
export function bottlenecks(
  stats: Pick<
    Stats,
    'game' | 'waitingShare' | 'gamesPerS' | 'positionsPerS' | 'evaluations' | 'history'
  >,
  selfplay: Selfplay,
  stale: boolean,
  trained: number | null = null,
): Bottleneck[] {
  if (stale) return [];
  const found: Bottleneck[] = [];
  const waiting = stats.waitingShare;
  if (waiting !== null && waiting >= WAITING_LIMIT) {
    const share = percent(Math.min(1, waiting));
    if (!selfplay.running) {
      found.push({
        kind: 'selfplay',
        finding: `The learner waited ${share} of the last minute for games, and this actor plays none for this run.`,
        help: `Start self-play with the learner: ./start_training.sh ${stats.game}.`,
      });
    } else {
      const games = selfplay.rates?.gamesPerS ?? stats.gamesPerS;
      const positions = selfplay.rates?.positionsPerS ?? stats.positionsPerS;
      const workers = `${selfplay.workers} worker${selfplay.workers === 1 ? '' : 's'}`;
      found.push({
        kind: 'selfplay',
        finding:
          `Self-play is the bottleneck: the learner waited ${share} of the last minute for new ` +
          `games (${compact(games)} games/s, ${compact(positions)} positions/s from ${workers}).`,
        help:
          'What helps: fewer other jobs on this machine; more self-play workers where CPUs are ' +
          'idle (--workers N, or --cpus N to plan for the CPUs the run may use).',
      });
    }
  }
  const evaluation = lastEvaluation(stats.evaluations);
  const newest = stats.evaluations.at(-1)?.step;
  const evaluatedAt = newest === undefined ? 0 : elapsedAtStep(stats.history, newest);
  const behind = trained === null || evaluatedAt === null ? null : trained - evaluatedAt;
  if (evaluation !== null && evaluation.seconds >= SLOW_EVALUATION_S) {
    found.push({
      kind: 'evaluation',
      finding:
        `Evaluation is slow: the last one (step ${evaluation.step}) took ` +
        `${trainingTime(evaluation.seconds)}, so the evaluation charts get a point every ` +
        `${trainingTime(evaluation.seconds)} at most.`,
      help: EVALUATION_HELP,
    });
  } else if (behind !== null && behind >= OVERDUE_EVALUATION_S) {
    found.push({
      kind: 'evaluation',
      finding:
        newest === undefined
          ? `No evaluation yet after ${trainingTime(behind)} of training: it gets too little ` +
            'CPU, or is off (--no-evaluation).'
          : `Evaluation lags: the newest one is of step ${newest}, ${trainingTime(behind)} of ` +
            'training ago: it gets too little CPU, or is off (--no-evaluation).',
      help: EVALUATION_HELP,
    });
  }
  return found;
}
