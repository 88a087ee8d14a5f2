/** Turns stats.json into the dashboard's chart specs (pure, so it is unit-tested). */
import type { Evaluation, HistoryPoint, LrSchedule, Stats } from './api';
import { shareOf, stepNumber, trainingTime } from './format';

/** What the charts' x axes count: training steps, or the run's training time (seconds). */
export type XAxis = 'step' | 'time';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Second y axis on the right. */
  right?: boolean;
  dash?: boolean;
  /** An edge of a shaded band (no line, no legend entry). */
  bandEdge?: boolean;
}

export interface ChartSpec {
  title: string;
  testid: string;
  x: number[];
  series: SeriesSpec[];
  ys: (number | null)[][];
  yLabel?: string;
  rightLabel?: string;
  percent?: boolean;
  /** Bottom of a percent chart's y axis (top: 100%). */
  yMin?: number;
  log?: boolean;
  /** Far-out peaks go above the y axes instead of setting their scale (`outlierFreeTop`). */
  ignoreOutliers?: boolean;
  /** Shaded areas between two series (indices into `series`: upper, lower). */
  bands?: { upper: number; lower: number; color: string }[];
  /** A line under the chart that explains what it shows. */
  note?: string;
  /** The steps the x axis spans where its data span less: the same on every chart of the
   * page (`stepRange`), so that charts one above another compare by eye. */
  xRange?: [number, number];
  /** The right axis on a log scale. */
  rightLog?: boolean;
  /** x is the run's training time in seconds, not the step. */
  xTime?: boolean;
}

const PALETTE = ['#58a6ff', '#f778ba', '#3fb950', '#d29922', '#a371f7', '#ff7b72', '#39c5cf'];
/** Reference lines that are no player of the run (what random moves score). */
const MUTED = '#8b96ab'; // app.css --muted

/**
 * Mean searched moves per self-play game over a history point's window: positions/s over
 * games/s.
 */
function gameLength(p: HistoryPoint): number | null {
  return p.positions_per_s !== null && p.games_per_s ? p.positions_per_s / p.games_per_s : null;
}

/**
 * Whether the history runs from before the run's first model to after it: self-play without a
 * network (a uniform prior) is many times faster than with one, and its rate falls there.
 */
export function spansFirstModel(stats: Pick<Stats, 'history' | 'publishEvery'>): boolean {
  const first = stats.publishEvery;
  const h = stats.history;
  return first !== null && h.length > 1 && h[0].step <= first && h[h.length - 1].step > first;
}

/** Rows grouped by a key into one series each, aligned on the union of their steps. */
function grouped<T extends { step: number | null }>(
  rows: T[],
  key: (row: T) => string,
  value: (row: T) => number | null,
): { x: number[]; names: string[]; ys: (number | null)[][] } {
  const steps = [...new Set(rows.filter((r) => r.step !== null).map((r) => r.step as number))].sort(
    (a, b) => a - b,
  );
  const index = new Map(steps.map((s, i) => [s, i]));
  const names = [...new Set(rows.map(key))];
  const ys = names.map(() => Array<number | null>(steps.length).fill(null));
  for (const row of rows) {
    if (row.step === null) continue;
    const v = value(row);
    if (v !== null) ys[names.indexOf(key(row))][index.get(row.step) as number] = v;
  }
  return { x: steps, names, ys };
}

/** Whether an evaluation entry is the solver's judgement of the moves on its solved
 * positions (no games played), rather than a match against a baseline. */
export function judgedBySolver(e: Evaluation): boolean {
  return e.win_rate === null && e.optimal_move_rate !== null;
}

/** What an evaluation entry played or judged, with how many simulations. */
export function evaluationKey(e: Evaluation): string {
  return `${e.opponent}@${e.simulations ?? ''}`;
}

/**
 * The newest step's entries, one per kind: the last, where the step was evaluated twice (by
 * hand with `python -m actor.evaluation`); two of a kind would break the card's keyed list.
 */
export function latestEvaluation(evals: Evaluation[]): Evaluation[] {
  if (evals.length === 0) return [];
  const last = evals.at(-1)!.step;
  const byKind = new Map<string, Evaluation>();
  for (const e of evals) if (e.step === last) byKind.set(evaluationKey(e), e);
  return [...byKind.values()];
}

/** A kind of solver judgement (a search budget, or the network alone) that reached 100%. */
export interface PerfectPlay {
  /** The evaluated network's simulations; null or 0: the network alone. */
  simulations: number | null;
  /** The first step judged at 100%. */
  first: number;
  /** The first step of the newest unbroken run at 100%; null: the newest judgement is not. */
  since: number | null;
  /** The newest judgement of this kind. */
  latest: Evaluation;
}

/** Whether a solver judgement found a best move in every position. */
function perfect(e: Evaluation): boolean {
  return (e.optimal_move_rate ?? 0) >= 1;
}

/**
 * Each kind of the newest step's solver judgements that was ever at 100%: when it first was,
 * and since when it has been without a break (null where the newest model fell short again).
 */
export function perfectPlay(evals: Evaluation[]): PerfectPlay[] {
  return latestEvaluation(evals)
    .filter(judgedBySolver)
    .flatMap((latest) => {
      // One entry per step (the last, where a step was evaluated twice), oldest first.
      const byStep = new Map<number, Evaluation>();
      for (const e of evals) if (evaluationKey(e) === evaluationKey(latest)) byStep.set(e.step, e);
      const kind = [...byStep.values()];
      const first = kind.find(perfect);
      if (first === undefined) return [];
      let since: number | null = null;
      for (const e of kind.reverse()) {
        if (!perfect(e)) break;
        since = e.step;
      }
      return [{ simulations: latest.simulations, first: first.step, since, latest }];
    });
}

/** A solver judgement's result: a percentage, or the counts where it would read as 100%. */
export function optimalMoves(e: Evaluation): string {
  const rate = e.optimal_move_rate;
  if (rate === null) return '–';
  const total = e.positions;
  if (total === null || total <= 0) return `${(rate * 100).toFixed(1)}%`;
  return shareOf(e.optimal_moves ?? Math.round(rate * total), total);
}

/** The evaluation card's lines about perfect play (`perfectPlayText`). */
export interface PerfectPlayText {
  headline: string;
  /** Whether the newest model still plays perfectly (in some kind of judgement). */
  holds: boolean;
  detail: string;
  /** When the run first reached it, in steps and training time. */
  reached: string;
  /** Tic-tac-toe at perfect play with its search: that the run can be stopped. */
  stop: string | null;
}

/**
 * The evaluation card's lines for perfect play, worded for what the solver judged: every
 * position a Tic-tac-toe game can reach, a test set of Connect 4 positions. They say when the
 * run first reached it and whether the newest model still does (a later one that scores
 * 4,518 of 4,520 is said so, with its counts). `elapsedAt` gives a step's training time.
 * null: never reached.
 */
export function perfectPlayText(
  game: string,
  perfect: PerfectPlay[],
  elapsedAt: (step: number) => number | null = () => null,
): PerfectPlayText | null {
  if (perfect.length === 0) return null;
  const all = game === 'tictactoe';
  const where = all ? 'reachable' : 'test';
  const count = perfect[0].latest.positions;
  const scope = perfect[0].latest.phases ? ' where a move can be wrong' : '';
  const positions =
    count === null
      ? `every ${where} position`
      : `all ${stepNumber(count)} ${where} positions${scope}`;
  const search = (p: PerfectPlay) => (p.simulations ? `${p.simulations} sims` : 'network alone');
  const held = perfect.filter((p) => p.since !== null);
  const lost = perfect.filter((p) => p.since === null);
  const kinds = [
    ...held.map((p) => `${search(p)} since step ${stepNumber(p.since as number)}`),
    ...lost.map(
      (p) =>
        `${search(p)}: ${optimalMoves(p.latest)} at step ${stepNumber(p.latest.step)}, ` +
        'no longer all',
    ),
  ].join('; ');
  const first = Math.min(...perfect.map((p) => p.first));
  const time = elapsedAt(first);
  const searched = held.some((p) => p.simulations);
  const networkShort = perfect.find((p) => !p.simulations && p.since === null);
  return {
    headline: `Perfect play${all ? '' : ' on the test set'}${held.length ? '' : ' reached, not held'}`,
    holds: held.length > 0,
    detail: `a best move in ${positions} (${kinds})`,
    reached:
      `first reached at step ${stepNumber(first)}` +
      (time === null ? '' : `, after ${trainingTime(time)} of training`),
    stop:
      all && searched
        ? 'You can stop the run (Ctrl-C where it was started): with its search it plays every ' +
          'position perfectly, so more training cannot make it stronger' +
          (networkShort ? ', only the network alone a little surer.' : '.')
        : null,
  };
}

/** The learning rate's next change, from the learner's schedule; null where none is ahead. */
export interface LrChange {
  lr: number;
  step: number;
  /** cosine: the rate falls gradually until `step`, not at once. */
  gradual: boolean;
}

/** As learner/train.py's lr_factor: the rate is lr * gamma^(milestones passed), etc. */
export function nextLrChange(schedule: LrSchedule | null, step: number): LrChange | null {
  if (schedule === null) return null;
  const { kind, lr, gamma } = schedule;
  if (kind === 'milestones') {
    const passed = schedule.milestones.filter((m) => m <= step).length;
    const at = schedule.milestones[passed];
    return at === undefined ? null : { lr: lr * gamma ** (passed + 1), step: at, gradual: false };
  }
  if (kind === 'step' && schedule.stepEvery) {
    const n = Math.floor(step / schedule.stepEvery) + 1;
    return { lr: lr * gamma ** n, step: n * schedule.stepEvery, gradual: false };
  }
  if (kind === 'cosine' && schedule.totalSteps && step < schedule.totalSteps) {
    return { lr: lr * (schedule.minRatio ?? 0), step: schedule.totalSteps, gradual: true };
  }
  return null;
}

/**
 * The steps every step-based chart spans: from the run's first step to its latest (history,
 * evaluations and rated checkpoints together: evaluations lag the training step). undefined
 * while there is no span to show.
 */
export function stepRange(
  stats: Pick<Stats, 'history' | 'evaluations' | 'elo'>,
): [number, number] | undefined {
  let low = Infinity;
  let high = -Infinity;
  const steps = [stats.history, stats.evaluations, stats.elo].flatMap((rows) =>
    rows.map((r) => r.step),
  );
  for (const step of steps) {
    if (step === null) continue;
    low = Math.min(low, step);
    high = Math.max(high, step);
  }
  return high > low ? [low, high] : undefined;
}

/** Whether the history has the run's training time, which a time axis needs. */
export function hasTrainingTime(stats: Pick<Stats, 'history'>): boolean {
  return stats.history.some((p) => p.elapsed_s !== null);
}

/**
 * The run's training time at `step` (s), interpolated between the history's points (which
 * ascend in both); a step outside them takes the nearest one's. null: no point has one.
 */
export function elapsedAtStep(history: HistoryPoint[], step: number): number | null {
  const points = history.filter((p) => p.elapsed_s !== null);
  if (points.length === 0) return null;
  const after = points.findIndex((p) => p.step >= step);
  if (after === 0) return points[0].elapsed_s;
  if (after === -1) return points[points.length - 1].elapsed_s;
  const [a, b] = [points[after - 1], points[after]];
  const share = (step - a.step) / (b.step - a.step);
  return (a.elapsed_s as number) + share * ((b.elapsed_s as number) - (a.elapsed_s as number));
}

/**
 * The run's training time now: the stats' own, plus the time since they were written while
 * the learner is running (`running`), so that a card ticks between writes.
 */
export function trainingTimeNow(
  stats: Pick<Stats, 'elapsedS' | 'updatedAt'>,
  now: number,
  running: boolean,
): number | null {
  if (stats.elapsedS === null) return null;
  const since = running && stats.updatedAt !== null ? Math.max(0, now - stats.updatedAt) : 0;
  return stats.elapsedS + since;
}

/** A colour of the palette, see-through: an interval's shade around its line. */
function shade(hex: string, alpha = 0.18): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/**
 * The replay chart: the games in the window and the age of its oldest position in steps (its
 * size is a flat line at capacity once it is full). A history without them (stats.json
 * written before they were kept) draws the positions held.
 */
function replayChart(stats: Stats): ChartSpec {
  const h = stats.history;
  const x = h.map((p) => p.step);
  if (!h.some((p) => p.replay_games !== null)) {
    return {
      title: 'Replay buffer',
      testid: 'chart-replay',
      x,
      series: [{ label: 'positions', color: PALETTE[4] }],
      ys: [h.map((p) => p.replay_positions)],
    };
  }
  const age = (p: HistoryPoint) =>
    p.replay_oldest_step === null ? null : Math.max(0, p.step - p.replay_oldest_step);
  return {
    title: 'Replay window: games in it, age of its oldest position',
    testid: 'chart-replay',
    x,
    series: [
      { label: 'games in the window', color: PALETTE[4] },
      { label: 'age of the oldest position (steps)', color: PALETTE[3], right: true },
    ],
    ys: [h.map((p) => p.replay_games), h.map(age)],
    yLabel: 'games',
    rightLabel: 'steps',
    note: replayNote(stats),
  };
}

/** What the window holds now, and how old its oldest position is (steps, training time). */
export function replayNote(stats: Stats): string | undefined {
  if (stats.replayPositions === null || stats.replayGames === null) return undefined;
  const held = `The window holds the newest ${stepNumber(stats.replayPositions)} positions, from ${stepNumber(stats.replayGames)} games`;
  if (stats.replayOldestStep === null) return `${held}.`;
  const steps = Math.max(0, stats.step - stats.replayOldestStep);
  const then = elapsedAtStep(stats.history, stats.replayOldestStep);
  const nowTime = elapsedAtStep(stats.history, stats.step);
  const time =
    then !== null && nowTime !== null ? ` (${trainingTime(nowTime - then)} of training)` : '';
  return `${held}; its oldest was played by the model of step ${stepNumber(stats.replayOldestStep)}, ${stepNumber(steps)} steps${time} ago.`;
}

/** The charts' x values as training time: each step's (`elapsedAtStep`), and their range. */
function onTimeAxis(charts: ChartSpec[], history: HistoryPoint[]): ChartSpec[] {
  const time = (step: number) => elapsedAtStep(history, step) ?? 0;
  const timed = charts.map((c) => ({ ...c, x: c.x.map(time), xTime: true }));
  const xs = timed.flatMap((c) => c.x);
  const low = Math.min(...xs);
  const high = Math.max(...xs);
  return high > low ? timed.map((c) => ({ ...c, xRange: [low, high] })) : timed;
}

/** Why the loss levels off above 0 (a newcomer read Tic-tac-toe's 0.95 as "not learning"). */
export const LOSS_NOTE =
  "Neither loss reaches 0, even with perfect play: the policy target (the search's visits) " +
  "stays spread over equally good moves, and the value target is the game's result. " +
  'Read the strength from the evaluation charts.';

/** The Elo chart's curve of the run's own checkpoints. */
export const RUN_ELO_LABEL = "this run's checkpoints";

/** A log axis tick label: "1e-5" below 0.001 (fits the axis), else the plain number. */
export function logTickLabel(value: number | null): string {
  if (value === null) return ''; // a tick uPlot leaves unlabelled
  if (value > 0 && value < 1e-3) return value.toExponential(0);
  return String(Number(value.toPrecision(2)));
}

/**
 * A percent chart's floor: 10 points below its lowest value, on a multiple of 10%, so that
 * 94% and 97% look different once an agent is good (0 when nothing is low-and-known).
 */
export function percentFloor(ys: (number | null)[][]): number {
  const values = ys.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return 0;
  return Math.max(0, Math.floor(Math.min(...values) * 10 + 1e-9) / 10 - 0.1);
}

/** The q-quantile (0..1) of sorted numbers, interpolated between neighbours. */
function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

/**
 * The top of a y axis that leaves out far-out peaks, as TensorBoard's "ignore outliers in chart
 * scaling" does: the largest value inside Tukey's far-out fence, Q3 + 3 IQR (the IQR taken as at
 * least a tenth of Q3, so that a steady series is not cut by its own noise). null when no value
 * lies beyond the fence, or with too few values to tell. Self-play without a network (the first
 * minute of a run) is 30-40x faster than with one, and would otherwise flatten the whole run.
 */
export function outlierFreeTop(values: (number | null)[]): number | null {
  const sorted = values
    .filter((v): v is number => v !== null && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (sorted.length < 8) return null;
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const fence = q3 + 3 * Math.max(q3 - q1, Math.abs(q3) / 10);
  const inside = sorted.filter((v) => v <= fence);
  return inside.length < sorted.length ? inside[inside.length - 1] : null;
}

/**
 * The dashboard's charts, over steps or (`axis` "time", where the history has it) the run's
 * training time.
 */
export function buildCharts(stats: Stats, axis: XAxis = 'step'): ChartSpec[] {
  const h = stats.history;
  const x = h.map((p) => p.step);
  // A constant learning rate is a flat line (the Training card says it and its next step): it
  // is drawn, beside the loss it changes, once the history has more than one.
  const rates = new Set(h.map((p) => p.learning_rate).filter((r) => r !== null));
  const lr = rates.size > 1;
  const charts: ChartSpec[] = [
    {
      title: lr ? 'Loss and learning rate' : 'Loss',
      testid: 'chart-loss',
      x,
      series: [
        { label: 'total', color: PALETTE[0] },
        { label: 'policy', color: PALETTE[1] },
        { label: 'value', color: PALETTE[2] },
        ...(lr ? [{ label: 'learning rate', color: PALETTE[3], right: true, dash: true }] : []),
      ],
      ys: [
        h.map((p) => p.loss_total),
        h.map((p) => p.loss_policy),
        h.map((p) => p.loss_value),
        ...(lr ? [h.map((p) => p.learning_rate)] : []),
      ],
      yLabel: lr ? 'loss' : '',
      rightLabel: lr ? 'learning rate' : '',
      // Step-downs (0.02 -> 0.002 -> 0.0002) only show on a log scale.
      rightLog: lr && h.every((p) => (p.learning_rate ?? 1) > 0),
      note: LOSS_NOTE,
    },
    replayChart(stats),
    {
      // Games/s drew the same curve as positions/s (their ratio, the game length, changes
      // slowly), so the second line is the game length: how play changes as the network learns.
      // The rates are the learner's intake over a minute (stats.json's history), where the
      // dashboard's self-play card shows the workers' rate now: named, so they do not seem to
      // contradict each other.
      title: "Self-play throughput (learner's intake) and game length",
      testid: 'chart-throughput',
      x,
      series: [
        { label: 'positions/s (1-min average)', color: PALETTE[6] },
        // positions count searched moves: Connect 4's random opening moves are not in it
        { label: 'searched moves per game', color: PALETTE[5], right: true },
      ],
      ys: [h.map((p) => p.positions_per_s), h.map(gameLength)],
      yLabel: 'positions/s',
      rightLabel: 'moves per game',
      ignoreOutliers: true,
      note: spansFirstModel(stats)
        ? `Before the first model (step ${stats.publishEvery}) self-play needs no network, so it is much faster.`
        : undefined,
    },
  ];

  const evals = stats.evaluations;
  if (evals.length > 0) {
    // The simulations are the evaluated network's (an MCTS opponent's are in its name).
    const name = (e: (typeof evals)[number]) =>
      e.simulations ? `${e.opponent} · AlphaZero ${e.simulations} sims` : e.opponent;
    const searchName = (e: (typeof evals)[number]) =>
      e.simulations ? `${e.simulations} simulations` : 'network alone';
    // The score (a draw counts half), as Elo counts it: a model that draws every game against
    // MCTS would show 0% on a win-rate chart.
    const matches = evals.filter((e) => e.win_rate !== null);
    const win = grouped(matches, name, (e) => (e.win_rate ?? 0) + (e.draw_rate ?? 0) / 2);
    // Each score's 95% interval (Wilson's, computed where the games were played), a shade
    // around its line: 20 games make a score jump by 25 points.
    const low = grouped(matches, name, (e) => e.score_low ?? null);
    const high = grouped(matches, name, (e) => e.score_high ?? null);
    const shaded = win.names.flatMap((n, i) =>
      high.ys[i].some((v) => v !== null) ? [{ name: n, i }] : [],
    );
    const colour = (i: number) => PALETTE[i % PALETTE.length];
    const lines = win.names.length;
    charts.push({
      title: shaded.length
        ? 'Score against baselines (win 1, draw ½; shaded: 95% interval)'
        : 'Score against baselines (win 1, draw ½)',
      testid: 'chart-winrate',
      x: win.x,
      series: [
        ...win.names.map((n, i) => ({ label: n, color: colour(i) })),
        ...shaded.flatMap(({ name: n, i }) => [
          { label: `${n}, 95% upper`, color: colour(i), bandEdge: true },
          { label: `${n}, 95% lower`, color: colour(i), bandEdge: true },
        ]),
      ],
      ys: [...win.ys, ...shaded.flatMap(({ i }) => [high.ys[i], low.ys[i]])],
      bands: shaded.map(({ i }, k) => ({
        upper: lines + 2 * k,
        lower: lines + 2 * k + 1,
        color: shade(colour(i)),
      })),
      percent: true,
      yMin: percentFloor([...win.ys, ...shaded.map(({ i }) => low.ys[i])]),
    });
    const judged = evals.filter((e) => e.optimal_move_rate !== null);
    const optimal = grouped(judged, searchName, (e) => e.optimal_move_rate);
    if (optimal.x.length > 0) {
      // What random moves score on the same positions, a flat line: the rate's floor is far
      // above 0 where most moves are equally good (Tic-tac-toe: 58%).
      const random = judged.map((e) => e.random_optimal_rate).filter((r) => r !== null);
      const floor = random.length > 0 ? [optimal.x.map(() => random[random.length - 1])] : [];
      const ys = [...optimal.ys, ...floor];
      // Which positions the newest judgement counts (older entries counted all of them).
      const latest = judged[judged.length - 1];
      const count = latest.positions === null ? '' : `${stepNumber(latest.positions)} `;
      const scope = latest.phases
        ? `on ${count}positions where a move can be wrong`
        : `on all ${count}positions`;
      charts.push({
        title: `Optimal-move rate ${scope} (judged by the solver)`,
        testid: 'chart-optimal',
        x: optimal.x,
        series: [
          ...optimal.names.map((n, i) => ({ label: n, color: PALETTE[(i + 2) % PALETTE.length] })),
          ...floor.map(() => ({ label: 'random moves', color: MUTED, dash: true })),
        ],
        ys,
        percent: true,
        yMin: percentFloor(ys),
      });
    }
  }

  const ranked = stats.elo.filter((e) => e.step !== null);
  if (ranked.length > 0) {
    // The run's checkpoints (players "step-N") are one curve over the steps, not a dot each.
    const elo = grouped(ranked, () => RUN_ELO_LABEL, (e) => e.elo);
    // Players rated without a step (fixed baselines) are flat reference lines.
    const baselines = stats.elo.filter((e) => e.step === null);
    // The checkpoints' 95% confidence intervals, a shaded band (tournaments written before
    // they were computed have none).
    const hasCi = ranked.some((e) => e.ci95 !== null);
    const edge = (sign: number) =>
      grouped(ranked, () => RUN_ELO_LABEL, (e) => (e.ci95 === null ? null : e.elo + sign * e.ci95))
        .ys[0];
    const lines = elo.names.length + baselines.length;
    charts.push({
      title: hasCi ? 'Elo by step (shaded: 95% interval)' : 'Elo by step',
      testid: 'chart-elo',
      x: elo.x,
      series: [
        ...elo.names.map((n, i) => ({ label: n, color: PALETTE[i % PALETTE.length] })),
        ...baselines.map((b, i) => ({
          label: b.player,
          color: PALETTE[(elo.names.length + i) % PALETTE.length],
          dash: true,
        })),
        ...(hasCi
          ? ['95% interval, upper', '95% interval, lower'].map((label) => ({
              label,
              color: PALETTE[0],
              bandEdge: true,
            }))
          : []),
      ],
      ys: [
        ...elo.ys,
        ...baselines.map((b) => elo.x.map(() => b.elo)),
        ...(hasCi ? [edge(1), edge(-1)] : []),
      ],
      bands: hasCi ? [{ upper: lines, lower: lines + 1, color: 'rgba(88, 166, 255, 0.25)' }] : [],
    });
  }
  if (axis === 'time' && hasTrainingTime(stats)) return onTimeAxis(charts, h);
  // Every chart over the same steps, also those whose data (evaluations) end earlier.
  const xRange = stepRange(stats);
  return xRange ? charts.map((c) => ({ ...c, xRange })) : charts;
}
