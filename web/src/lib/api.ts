/**
 * The actor's HTTP API (docs/api.md): typed answers, checked on arrival so a server
 * that answers something unexpected gives a clear message instead of a broken page.
 */

export interface Health {
  /** The game this actor self-plays (its training run), or null when it only serves. */
  trainingGame: string | null;
  /** Its self-play worker processes (0 when it only serves). */
  workers: number;
  /** All workers' rates over the last few seconds (null when it only serves, or not yet). */
  rates: { gamesPerS: number; positionsPerS: number } | null;
  /** Each game's newest model, as /api/games has it. */
  models: Record<string, { step: number | null; source: GameInfo['modelSource'] }>;
  /** What the actor still prepares after its start (null: an actor that does not say). */
  startup: Startup | null;
}

/** A first start compiles the searches: self-play's before its first game, then the API's. */
export interface Startup {
  /** starting: a self-play worker has not played its first batch yet (it compiles). */
  selfplay: 'off' | 'starting' | 'playing';
  /** The API's move searches; waiting: for self-play to start first. */
  moveSearches: 'off' | 'waiting' | 'compiling' | 'ready' | 'failed';
  /** The games whose move searches are prepared. */
  searchesReady: string[];
  /** Seconds since the actor started. */
  seconds: number;
}

export interface GameInfo {
  name: string;
  rows: number;
  cols: number;
  numActions: number;
  modelStep: number | null;
  /** Where the newest model comes from: the run's models/, the shipped file, or none. */
  modelSource: 'run' | 'pretrained' | 'none';
  /** The shipped model's step (data/pretrained), or null when there is none. */
  pretrainedStep: number | null;
  players: string[];
  maxSimulations: number;
}

export interface MoveRequest {
  moves: number[];
  simulations: number;
  player: string;
  checkpoint: number | null;
  /** Play the shipped model even when the run has models of its own. */
  pretrained: boolean;
}

export interface MoveAnswer {
  action: number;
  /** For the side to move (the bot), -1..1. */
  value: number;
  visits: number[];
  prior: number[];
  modelStep: number | null;
  /** Why this move is not the player's own kind, e.g. the network's while the solver cannot. */
  note: string | null;
}

export interface Checkpoint {
  step: number;
  createdAt: number;
}

export interface HistoryPoint {
  step: number;
  time: number;
  loss_total: number | null;
  loss_policy: number | null;
  loss_value: number | null;
  learning_rate: number | null;
  samples_per_s: number | null;
  replay_positions: number | null;
  games_per_s: number | null;
  positions_per_s: number | null;
  /** The run's training time at this point (s; runfiles/stats.py); null: not known. */
  elapsed_s: number | null;
  /** Games with a position in the replay window. */
  replay_games: number | null;
  /** The model step that played the window's oldest position. */
  replay_oldest_step: number | null;
}

/** The phases of a game the solver's judgement is split by, by stones on the board. */
export const PHASES = ['opening', 'middle', 'end'] as const;
export type Phase = (typeof PHASES)[number];

/** Positions judged and how many of them got a best move. */
export interface JudgedCounts {
  positions: number;
  optimal_moves: number;
}

export interface Evaluation {
  step: number;
  time: number | null;
  opponent: string;
  simulations: number | null;
  win_rate: number | null;
  draw_rate: number | null;
  loss_rate: number | null;
  optimal_move_rate: number | null;
  /** What uniformly random moves score on the same solved positions (solver entries). */
  random_optimal_rate: number | null;
  /**
   * How many solved positions were judged (solver entries): those where a move can be wrong
   * when `phases` is there, else every position of the set (older entries).
   */
  positions: number | null;
  /** How many of them got a best move (solver entries). */
  optimal_moves?: number | null;
  /** The same counts per phase of the game (solver entries that have them). */
  phases?: Partial<Record<Phase, JudgedCounts>> | null;
  /** The counts over every position of the set, where it also has ones no move can lose. */
  all_positions?: JudgedCounts | null;
  /** Games played (match entries). */
  games?: number | null;
  /** Wilson's 95% interval of the score, a draw counting half (match entries). */
  score_low?: number | null;
  score_high?: number | null;
  /** Seconds this part of the evaluation took. */
  seconds?: number | null;
}

export interface EloPoint {
  player: string;
  step: number | null;
  elo: number;
  /** Half-width of the rating's 95% confidence interval (null: unknown). */
  ci95: number | null;
}

/** The learner's learning-rate schedule (its config: learner/config.py, learner/train.py). */
export interface LrSchedule {
  kind: 'constant' | 'step' | 'milestones' | 'cosine';
  /** The base rate the schedule multiplies. */
  lr: number;
  gamma: number;
  /** milestones: the steps where the rate is multiplied by gamma. */
  milestones: number[];
  /** step: the rate is multiplied by gamma every this many steps. */
  stepEvery: number | null;
  /** cosine: the steps to fall to lr * minRatio. */
  totalSteps: number | null;
  minRatio: number | null;
}

/** What a run trains with, for the Settings card (lib/settings.ts). */
export interface RunSettings {
  /** The learner's effective config ({} when stats.json has none). */
  config: Json;
  /** The game's default of each learner hyperparameter; null: stats.json predates them. */
  defaults: Json | null;
  /** The self-play settings the run last started with, each beside the game's default; null
   * where the actor has no actor_config.json for the run (self-play never ran there). */
  selfplay: Record<string, { value: unknown; default: unknown }> | null;
}

export interface Stats {
  game: string;
  step: number;
  updatedAt: number | null;
  loss: { total: number | null; policy: number | null; value: number | null };
  learningRate: number | null;
  samplesPerS: number | null;
  /** The training step's number format: 'float32' or 'bfloat16' (learner/precision.py). */
  precision: string | null;
  /** The learner's torch threads (its config). */
  learnerThreads: number | null;
  /** Steps between published models (its config): the run's first model is this step's. */
  publishEvery: number | null;
  /** null: a config without one (stats.json written before it was kept, or hand-made). */
  lrSchedule: LrSchedule | null;
  replayGames: number | null;
  replayPositions: number | null;
  gamesPerS: number | null;
  positionsPerS: number | null;
  skippedRows: number | null;
  /** The run's training time when the stats were written (s); null: not known. */
  elapsedS: number | null;
  /** The model step that played the replay window's oldest position. */
  replayOldestStep: number | null;
  /** The share of the last minute the learner waited for self-play data (0..1). */
  waitingShare: number | null;
  settings: RunSettings;
  history: HistoryPoint[];
  evaluations: Evaluation[];
  elo: EloPoint[];
}

export interface Replay {
  id: number;
  createdAt: number;
  modelStep: number;
  numMoves: number;
  /** 1 first player won, -1 second player won, 0 draw. */
  outcome: number;
  moves: number[];
  visits: number[][];
  rootValues: number[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** No answer came (the actor is down or restarting): worth asking again once it answers. */
    readonly unreachable = false,
  ) {
    super(message);
  }
}

/** Whether a failed request is worth repeating by itself once the actor answers again: a
 * refusal (4xx) or an answer the page cannot read would only fail the same way. */
export function unreachable(error: unknown): boolean {
  return error instanceof ApiError && error.unreachable;
}

export type Json = Record<string, unknown>;

/** A JSON object (not null, not a list): also what lib/saved.ts checks stored data with. */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number (JSON has no NaN, but stored or hand-edited data may hold anything). */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function object(value: unknown, what: string): Json {
  if (!isObject(value)) throw new ApiError(`${what}: expected an object`, 0);
  return value;
}

function num(value: unknown, what: string): number {
  if (!isFiniteNumber(value)) {
    throw new ApiError(`${what}: expected a number, got ${JSON.stringify(value)}`, 0);
  }
  return value;
}

function optNum(value: unknown): number | null {
  return isFiniteNumber(value) ? value : null;
}

function optCounts(value: unknown): JudgedCounts | null {
  if (typeof value !== 'object' || value === null) return null;
  const { positions, optimal_moves } = value as Json;
  if (!isFiniteNumber(positions) || !isFiniteNumber(optimal_moves)) return null;
  return { positions, optimal_moves };
}

function optPhases(value: unknown): Partial<Record<Phase, JudgedCounts>> | null {
  if (typeof value !== 'object' || value === null) return null;
  const phases: Partial<Record<Phase, JudgedCounts>> = {};
  for (const phase of PHASES) {
    const counts = optCounts((value as Json)[phase]);
    if (counts) phases[phase] = counts;
  }
  return Object.keys(phases).length > 0 ? phases : null;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ApiError(`${what}: expected a string`, 0);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ApiError(`${what}: expected a list`, 0);
  return value;
}

function numbers(value: unknown, what: string): number[] {
  return list(value, what).map((item, i) => num(item, `${what}[${i}]`));
}

export function parseHealth(body: unknown): Health {
  const health = object(body, 'health');
  const game = health.training_game;
  return {
    trainingGame: game === null || game === undefined ? null : str(game, 'training_game'),
    workers: list(health.workers ?? [], 'workers').length,
    rates: health.selfplay_rates == null ? null : parseRates(health.selfplay_rates),
    models: parseModels(health.models ?? {}),
    startup: health.startup == null ? null : parseStartup(health.startup),
  };
}

const SELFPLAY_STATES: Startup['selfplay'][] = ['off', 'starting', 'playing'];
const SEARCH_STATES: Startup['moveSearches'][] = ['off', 'waiting', 'compiling', 'ready', 'failed'];

/** A state this page does not know (a newer actor's) reads as 'off': no notice, no error. */
function parseStartup(value: unknown): Startup {
  const startup = object(value, 'startup');
  return {
    selfplay: known(startup.selfplay, SELFPLAY_STATES),
    moveSearches: known(startup.move_searches, SEARCH_STATES),
    searchesReady: list(startup.searches_ready ?? [], 'startup.searches_ready').map((name) =>
      str(name, 'startup.searches_ready'),
    ),
    seconds: num(startup.seconds, 'startup.seconds'),
  };
}

function known<T extends string>(value: unknown, states: T[]): T | 'off' {
  return states.includes(value as T) ? (value as T) : 'off';
}

function parseModels(value: unknown): Health['models'] {
  return Object.fromEntries(
    Object.entries(object(value, 'models')).map(([name, raw]) => {
      const model = object(raw, `models.${name}`);
      return [name, { step: optNum(model.step), source: modelSource(model.source) }];
    }),
  );
}

function parseRates(value: unknown): Health['rates'] {
  const rates = object(value, 'selfplay_rates');
  return {
    gamesPerS: num(rates.games_per_s, 'selfplay_rates.games_per_s'),
    positionsPerS: num(rates.positions_per_s, 'selfplay_rates.positions_per_s'),
  };
}

function modelSource(value: unknown): GameInfo['modelSource'] {
  return value === 'run' || value === 'pretrained' ? value : 'none';
}

export function parseGames(body: unknown): GameInfo[] {
  return list(object(body, 'games').games, 'games').map((raw, i) => {
    const game = object(raw, `games[${i}]`);
    return {
      name: str(game.name, 'game name'),
      rows: num(game.rows, 'rows'),
      cols: num(game.cols, 'cols'),
      numActions: num(game.num_actions, 'num_actions'),
      modelStep: optNum(game.model_step),
      modelSource: modelSource(game.model_source),
      pretrainedStep: optNum(game.pretrained_step),
      players: list(game.players ?? [], 'players').map((p) => str(p, 'player')),
      maxSimulations: optNum(game.max_simulations) ?? 800,
    };
  });
}

export function parseMove(body: unknown, numActions: number): MoveAnswer {
  const answer = object(body, 'move');
  const visits = numbers(answer.visits ?? [], 'visits');
  const prior = numbers(answer.prior ?? [], 'prior');
  for (const [name, values] of [
    ['visits', visits],
    ['prior', prior],
  ] as const) {
    if (values.length !== 0 && values.length !== numActions) {
      throw new ApiError(`${name}: expected ${numActions} numbers, got ${values.length}`, 0);
    }
  }
  return {
    action: num(answer.action, 'action'),
    value: Math.max(-1, Math.min(1, optNum(answer.value) ?? 0)),
    visits,
    prior,
    modelStep: optNum(answer.model_step),
    note: typeof answer.note === 'string' ? answer.note : null,
  };
}

export function parseCheckpoints(body: unknown): Checkpoint[] {
  return list(object(body, 'checkpoints').checkpoints, 'checkpoints').map((raw, i) => {
    const checkpoint = object(raw, `checkpoints[${i}]`);
    return { step: num(checkpoint.step, 'step'), createdAt: optNum(checkpoint.created_at) ?? 0 };
  });
}

function rows<T>(value: unknown, what: string, parse: (row: Json) => T | null): T[] {
  if (!Array.isArray(value)) return [];
  const out: T[] = [];
  value.forEach((raw, i) => {
    const row = parse(object(raw, `${what}[${i}]`));
    if (row !== null) out.push(row);
  });
  return out;
}

/**
 * The run's stats. A game without a run is answered `{"game", "no_run": true}` (a 200, so that
 * the browser logs nothing at each poll), which is the not-found it stands for: an ApiError
 * with status 404, as an unknown game gets.
 */
export function parseStats(body: unknown): Stats {
  const stats = object(body, 'stats');
  if (stats.no_run === true) {
    throw new ApiError(`no stats for ${String(stats.game)} yet: no training run`, 404);
  }
  const loss = isObject(stats.loss) ? stats.loss : {};
  const config = isObject(stats.config) ? stats.config : {};
  return {
    game: typeof stats.game === 'string' ? stats.game : '',
    step: optNum(stats.step) ?? 0,
    updatedAt: optNum(stats.updated_at),
    loss: { total: optNum(loss.total), policy: optNum(loss.policy), value: optNum(loss.value) },
    learningRate: optNum(stats.learning_rate),
    samplesPerS: optNum(stats.samples_per_s),
    precision: typeof stats.precision === 'string' ? stats.precision : null,
    learnerThreads: optNum(config.threads),
    publishEvery: optNum(config.publish_every),
    lrSchedule: parseLrSchedule(config),
    replayGames: optNum(stats.replay_games),
    replayPositions: optNum(stats.replay_positions),
    gamesPerS: optNum(stats.games_per_s),
    positionsPerS: optNum(stats.positions_per_s),
    skippedRows: optNum(stats.skipped_rows),
    elapsedS: optNum(stats.elapsed_s),
    replayOldestStep: optNum(stats.replay_oldest_step),
    waitingShare: optNum(stats.waiting_share),
    settings: {
      config,
      defaults: isObject(stats.config_defaults) ? stats.config_defaults : null,
      selfplay: parseSelfplay(stats.selfplay_config),
    },
    history: rows(stats.history, 'history', (row) => {
      const step = optNum(row.step);
      if (step === null) return null;
      return {
        step,
        time: optNum(row.time) ?? 0,
        loss_total: optNum(row.loss_total),
        loss_policy: optNum(row.loss_policy),
        loss_value: optNum(row.loss_value),
        learning_rate: optNum(row.learning_rate),
        samples_per_s: optNum(row.samples_per_s),
        replay_positions: optNum(row.replay_positions),
        games_per_s: optNum(row.games_per_s),
        positions_per_s: optNum(row.positions_per_s),
        elapsed_s: optNum(row.elapsed_s),
        replay_games: optNum(row.replay_games),
        replay_oldest_step: optNum(row.replay_oldest_step),
      };
    }).sort((a, b) => a.step - b.step),
    evaluations: rows(stats.evaluations, 'evaluations', (row) => {
      const step = optNum(row.step);
      if (step === null || typeof row.opponent !== 'string') return null;
      return {
        step,
        time: optNum(row.time),
        opponent: row.opponent,
        simulations: optNum(row.simulations),
        win_rate: optNum(row.win_rate),
        draw_rate: optNum(row.draw_rate),
        loss_rate: optNum(row.loss_rate),
        optimal_move_rate: optNum(row.optimal_move_rate),
        random_optimal_rate: optNum(row.random_optimal_rate),
        positions: optNum(row.positions),
        optimal_moves: optNum(row.optimal_moves),
        phases: optPhases(row.phases),
        all_positions: optCounts(row.all_positions),
        games: optNum(row.games),
        score_low: optNum(row.score_low),
        score_high: optNum(row.score_high),
        seconds: optNum(row.seconds),
      };
    }).sort((a, b) => a.step - b.step),
    elo: rows(stats.elo, 'elo', (row) => {
      const elo = optNum(row.elo);
      if (elo === null || typeof row.player !== 'string') return null;
      return { player: row.player, step: optNum(row.step), elo, ci95: optNum(row.elo_ci95) };
    }),
  };
}

function parseSelfplay(value: unknown): RunSettings['selfplay'] {
  if (!isObject(value)) return null;
  const entries = Object.entries(value).filter((entry): entry is [string, Json] =>
    isObject(entry[1]),
  );
  return Object.fromEntries(
    entries.map(([name, setting]) => [name, { value: setting.value, default: setting.default }]),
  );
}

const LR_SCHEDULES: LrSchedule['kind'][] = ['constant', 'step', 'milestones', 'cosine'];

function parseLrSchedule(config: Json): LrSchedule | null {
  const kind = LR_SCHEDULES.find((k) => k === config.lr_schedule);
  const lr = optNum(config.lr);
  if (kind === undefined || lr === null) return null;
  const milestones = Array.isArray(config.lr_milestones) ? config.lr_milestones : [];
  return {
    kind,
    lr,
    gamma: optNum(config.lr_gamma) ?? 0.1,
    milestones: milestones.filter(isFiniteNumber).sort((a, b) => a - b),
    stepEvery: optNum(config.lr_step_every),
    totalSteps: optNum(config.lr_total_steps),
    minRatio: optNum(config.lr_min_ratio),
  };
}

export function parseReplays(body: unknown, numActions: number): Replay[] {
  return list(object(body, 'replays').replays, 'replays').map((raw, i) =>
    parseReplay(raw, numActions, `replay ${i}`),
  );
}

/** One replay, as /replays/{id} answers it and each entry of the list. */
export function parseReplay(body: unknown, numActions: number, what = 'replay'): Replay {
  const replay = object(body, what);
  const moves = numbers(replay.moves, 'moves');
  const visits = list(replay.visits, 'visits').map((row, j) => numbers(row, `visits[${j}]`));
  if (visits.length !== moves.length || visits.some((row) => row.length !== numActions)) {
    throw new ApiError(`${what}: visits must hold ${numActions} numbers per move`, 0);
  }
  return {
    id: num(replay.id, 'id'),
    createdAt: optNum(replay.created_at) ?? 0,
    modelStep: optNum(replay.model_step) ?? 0,
    numMoves: optNum(replay.num_moves) ?? moves.length,
    outcome: num(replay.outcome, 'outcome'),
    moves,
    visits,
    rootValues: numbers(replay.root_values ?? [], 'root_values'),
  };
}

async function request(path: string, init?: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    // Short: the views say it where it matters to them, App's banner once how to start one.
    throw new ApiError('cannot reach the actor', 0, true);
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail =
      body && typeof body === 'object' && 'detail' in body
        ? (body as Json).detail
        : response.statusText;
    throw new ApiError(
      typeof detail === 'string' ? detail : JSON.stringify(detail),
      response.status,
    );
  }
  return body;
}

const base = 'api';

export const api = {
  health: async () => parseHealth(await request(`${base}/health`)),
  games: async () => parseGames(await request(`${base}/games`)),
  move: async (game: string, req: MoveRequest, numActions: number) =>
    parseMove(
      await request(`${base}/games/${game}/move`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(req),
      }),
      numActions,
    ),
  checkpoints: async (game: string) =>
    parseCheckpoints(await request(`${base}/games/${game}/checkpoints`)),
  stats: async (game: string) => parseStats(await request(`${base}/games/${game}/stats`)),
  replays: async (game: string, limit: number, numActions: number) =>
    parseReplays(await request(`${base}/games/${game}/replays?limit=${limit}`), numActions),
  replay: async (game: string, id: number, numActions: number) =>
    parseReplay(await request(`${base}/games/${game}/replays/${id}`), numActions),
};
