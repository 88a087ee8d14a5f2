import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  api,
  ApiError,
  parseGames,
  parseHealth,
  parseMove,
  parseReplays,
  parseStats,
  unreachable,
} from './api';
import {
  buildCharts,
  evaluationKey,
  latestEvaluation,
  logTickLabel,
  outlierFreeTop,
  percentFloor,
  spansFirstModel,
} from './charts';

afterEach(() => vi.unstubAllGlobals());

describe('API parsing', () => {
  it('reads the games list', () => {
    const games = parseGames({
      games: [
        {
          name: 'connect4',
          rows: 6,
          cols: 7,
          num_actions: 7,
          model_step: null,
          model_source: 'pretrained',
          pretrained_step: 246018,
          players: ['alphazero', 'mcts'],
          max_simulations: 1600,
        },
      ],
    });
    expect(games[0]).toEqual({
      name: 'connect4',
      rows: 6,
      cols: 7,
      numActions: 7,
      modelStep: null,
      modelSource: 'pretrained',
      pretrainedStep: 246018,
      players: ['alphazero', 'mcts'],
      maxSimulations: 1600,
    });
    expect(() => parseGames({ games: [{ name: 3 }] })).toThrow(ApiError);
  });

  it('checks a move answer and clamps the value', () => {
    const move = parseMove(
      { action: 2, value: 1.5, visits: [0, 0, 1], prior: [0.2, 0.3, 0.5], model_step: 7 },
      3,
    );
    expect(move).toMatchObject({ action: 2, value: 1, modelStep: 7, note: null });
    const noted = { action: 0, value: 0, visits: [], prior: [], note: 'The solver did not' };
    expect(parseMove(noted, 3).note).toBe('The solver did not');
    expect(() => parseMove({ action: 1, value: 0, visits: [1, 0], prior: [] }, 3)).toThrow(
      /visits: expected 3 numbers/,
    );
    expect(() => parseMove({ value: 0 }, 3)).toThrow(/action/);
  });

  it('reads stats, sorting history and skipping malformed rows', () => {
    const stats = parseStats({
      game: 'tictactoe',
      step: 30,
      loss: { total: 1.2, policy: 0.9, value: 0.3 },
      history: [
        { step: 20, loss_total: 1.0 },
        { step: 10, loss_total: 2.0 },
        { loss_total: 9 },
      ],
      evaluations: [
        { step: 10, opponent: 'random', win_rate: 0.6, optimal_move_rate: 0.7 },
        { step: 20, opponent: 'random', win_rate: 0.75, draw_rate: 0.1, optimal_move_rate: null },
        { step: 20, opponent: 'mcts', simulations: 200, win_rate: 0.3 },
        { step: 20, opponent: 'solver', simulations: 0, win_rate: null, optimal_move_rate: 0.9 },
        { step: 20, opponent: 'solver', simulations: 64, optimal_move_rate: 1, random_optimal_rate: 0.5 },
      ],
      elo: [
        { player: 'step-10', step: 10, elo: 1000 },
        { player: 'step-30', step: 30, elo: 1100 },
        { player: 'random', step: null, elo: 500 },
      ],
    });
    expect(stats.history.map((h) => h.step)).toEqual([10, 20]);
    expect(stats.loss.total).toBe(1.2);
    const charts = buildCharts(stats);
    const ids = charts.map((c) => c.testid);
    expect(ids).toEqual([
      'chart-loss', // with the learning rate where it changed: a flat lr line gets no chart
      'chart-replay',
      'chart-throughput',
      'chart-winrate',
      'chart-optimal',
      'chart-elo',
    ]);
    const win = charts.find((c) => c.testid === 'chart-winrate')!;
    expect(win.x).toEqual([10, 20]);
    // The simulations are the evaluated network's, not the opponent's.
    expect(win.series.map((s) => s.label)).toEqual(['random', 'mcts · AlphaZero 200 sims']);
    expect(win.ys).toEqual([
      [0.6, 0.8], // the score: 0.75 won + 0.1 drawn / 2
      [null, 0.3],
    ]);
    const optimal = charts.find((c) => c.testid === 'chart-optimal')!;
    // what random moves score on the same positions: a flat dashed line, in the axis range
    expect(optimal.series.map((s) => s.label)).toEqual([
      'network alone',
      '64 simulations',
      'random moves',
    ]);
    expect(optimal.series[2].dash).toBe(true);
    expect(optimal.ys).toEqual([
      [0.7, 0.9],
      [null, 1],
      [0.5, 0.5],
    ]);
    expect(charts[0].series.map((s) => s.label)).toEqual(['total', 'policy', 'value']); // no rates
    expect(optimal.yMin).toBeCloseTo(0.4);
    expect(win.yMin).toBeCloseTo(0.2);
    const elo = charts.find((c) => c.testid === 'chart-elo')!;
    // The checkpoints (one player each in the tournament) are one curve, the baseline flat.
    expect(elo.series.map((s) => s.label)).toEqual(["this run's checkpoints", 'random']);
    expect(elo.x).toEqual([10, 30]);
    expect(elo.ys).toEqual([
      [1000, 1100],
      [500, 500],
    ]);
  });

  it("shades the checkpoints' 95% Elo intervals where the tournament gives them", () => {
    const stats = parseStats({
      elo: [
        { player: 'step-10', step: 10, elo: 100, elo_ci95: 40 },
        { player: 'step-20', step: 20, elo: 250, elo_ci95: null },
        { player: 'step-30', step: 30, elo: 300, elo_ci95: 25.5 },
        { player: 'random', step: null, elo: 0, elo_ci95: 0 },
      ],
    });
    const elo = buildCharts(stats).find((c) => c.testid === 'chart-elo')!;
    expect(elo.series.map((s) => [s.label, !!s.bandEdge])).toEqual([
      ["this run's checkpoints", false],
      ['random', false],
      ['95% interval, upper', true],
      ['95% interval, lower', true],
    ]);
    expect(elo.ys.slice(2)).toEqual([
      [140, null, 325.5],
      [60, null, 274.5],
    ]);
    expect(elo.bands).toEqual([{ upper: 2, lower: 3, color: expect.any(String) }]);
  });

  it('shows one entry per kind for the newest step, the last where it was evaluated twice', () => {
    const entry = (step: number, opponent: string, simulations: number, win: number) => ({
      step, time: null, opponent, simulations, win_rate: win, draw_rate: 0, loss_rate: 1 - win,
      optimal_move_rate: null,
      random_optimal_rate: null,
      positions: null,
    });
    const evals = [
      entry(10, 'random', 64, 0.9),
      entry(20, 'random', 64, 0.95),
      entry(20, 'mcts', 64, 0.5),
      entry(20, 'random', 64, 1), // the same step again (the evaluation re-run by hand)
    ];
    const latest = latestEvaluation(evals);
    expect(latest.map((e) => [e.opponent, e.win_rate])).toEqual([
      ['random', 1],
      ['mcts', 0.5],
    ]);
    expect(new Set(latest.map(evaluationKey)).size).toBe(latest.length);
    expect(latestEvaluation([])).toEqual([]);
  });

  it('draws a changing learning rate on a log scale when every rate is positive', () => {
    const loss = (rates: number[]) =>
      buildCharts(
        parseStats({ history: rates.map((rate, i) => ({ step: i, learning_rate: rate })) }),
      ).find((c) => c.testid === 'chart-loss')!;
    expect(loss([0.02, 0.002, 0.0002]).rightLog).toBe(true);
    expect(loss([0.01, 0]).rightLog).toBe(false);
  });

  it('labels log ticks short enough for the axis', () => {
    expect(['0.02', '0.001', '1e-4', '2e-5', '']).toEqual(
      [0.02, 0.001, 0.0001, 0.00002, null].map(logTickLabel),
    );
  });

  it('floors percent charts 10 points below their lowest value', () => {
    expect(percentFloor([[0.95, 0.97], [null, 0.999]])).toBeCloseTo(0.8);
    expect(percentFloor([[0.05, 1]])).toBe(0);
    expect(percentFloor([[null]])).toBe(0);
  });

  it('draws positions/s and the game length, not games/s (the same curve)', () => {
    const stats = parseStats({
      history: [
        { step: 1, games_per_s: 10, positions_per_s: 90 },
        { step: 2, games_per_s: 0, positions_per_s: 50 },
        { step: 3, games_per_s: 4, positions_per_s: 100 },
        { step: 4 },
      ],
    });
    const throughput = buildCharts(stats).find((c) => c.testid === 'chart-throughput')!;
    expect(throughput.series.map((s) => [s.label, !!s.right])).toEqual([
      ['positions/s (1-min average)', false],
      ['searched moves per game', true],
    ]);
    expect(throughput.ys).toEqual([
      [90, 50, 100, null],
      [9, null, 25, null],
    ]);
  });

  it("names the throughput chart's rate, and notes the first model where its history has it", () => {
    // The self-play card shows the workers' rate now: the chart is the learner's intake.
    const history = [100, 200, 300, 400].map((step) => ({ step, positions_per_s: 1 }));
    const chart = (config: object, steps = history) =>
      buildCharts(parseStats({ config, history: steps })).find(
        (c) => c.testid === 'chart-throughput',
      )!;
    expect(chart({}).title).toBe("Self-play throughput (learner's intake) and game length");
    expect(chart({ publish_every: 300 }).note).toBe(
      'Before the first model (step 300) self-play needs no network, so it is much faster.',
    );
    expect(chart({}).note).toBeUndefined(); // stats.json without the config: nothing to say
    expect(chart({ publish_every: 50 }).note).toBeUndefined(); // all after the first model
    expect(chart({ publish_every: 400 }).note).toBeUndefined(); // all before it
    expect(spansFirstModel(parseStats({ config: { publish_every: 300 }, history: [] }))).toBe(
      false,
    );
  });

  it('scales throughput below the first minute without a network', () => {
    const steady = Array.from({ length: 40 }, (_, i) => 40 + (i % 7) * 3);
    expect(outlierFreeTop([1600, 1400, 900, ...steady])).toBe(Math.max(...steady));
    expect(outlierFreeTop([1600, null, ...steady])).toBe(Math.max(...steady));
    expect(outlierFreeTop(steady)).toBeNull(); // nothing far out: uPlot's own range
    expect(outlierFreeTop([50, 50, 50, 50, 50, 50, 50, 50, 56])).toBeNull(); // not its noise
    expect(outlierFreeTop([1600, 1500, 1400, 1300, 40, 41, 42, 43])).toBeNull(); // half the run
    expect(outlierFreeTop([1600, 40, 41])).toBeNull(); // too few points to tell
    const charts = buildCharts(
      parseStats({ history: steady.map((g, i) => ({ step: i, positions_per_s: g })) }),
    );
    const scaled = charts.filter((c) => c.ignoreOutliers).map((c) => c.testid);
    expect(scaled).toEqual(['chart-throughput']); // a loss curve's start is no outlier
  });

  it('reads replays and rejects visits of the wrong size', () => {
    const body = {
      replays: [
        {
          id: 3,
          created_at: 1,
          model_step: 5,
          num_moves: 1,
          outcome: 0,
          moves: [4],
          visits: [[0, 0, 0, 0, 1, 0, 0, 0, 0]],
          root_values: [0.1],
        },
      ],
    };
    expect(parseReplays(body, 9)[0]).toMatchObject({ id: 3, moves: [4], rootValues: [0.1] });
    expect(() => parseReplays(body, 7)).toThrow(/replay 0: visits must hold 7 numbers per move/);
  });

  it('asks for one replay by its id, read like an entry of the list', async () => {
    const entry = { id: 3, outcome: 1, moves: [2], visits: [[0, 0, 1, 0, 0, 0, 0]] };
    const fetched = vi.fn(async (_url: string) => new Response(JSON.stringify(entry)));
    vi.stubGlobal('fetch', fetched);
    expect(await api.replay('connect4', 3, 7)).toMatchObject({ id: 3, moves: [2], outcome: 1 });
    expect(fetched.mock.calls[0][0]).toBe('api/games/connect4/replays/3');
    await expect(api.replay('connect4', 3, 9)).rejects.toThrow(/^replay: visits must hold 9/);
    const gone = { detail: 'no game 3 in connect4' };
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(gone), { status: 404 })));
    await expect(api.replay('connect4', 3, 7)).rejects.toMatchObject({ status: 404 });
  });

  it('turns an error answer into its detail', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ detail: 'no stats yet' }), { status: 404 })),
    );
    await expect(api.stats('connect4')).rejects.toMatchObject({
      message: 'no stats yet',
      status: 404,
    });
  });

  it('tells an actor that did not answer from one that refused', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    const away = await api.games().catch((error: unknown) => error);
    expect(away).toMatchObject({ status: 0, unreachable: true });
    expect(unreachable(away)).toBe(true);
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"detail": "bad"}', { status: 400 })));
    expect(unreachable(await api.games().catch((error: unknown) => error))).toBe(false);
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"games": 3}')));
    expect(unreachable(await api.games().catch((error: unknown) => error))).toBe(false); // unreadable
    expect(unreachable(new Error('other'))).toBe(false);
  });
});

describe('the health answer', () => {
  it('reads the health answer', () => {
    const rates = { games_per_s: 41.5, positions_per_s: 830, nn_evals_per_s: 40000 };
    const models = { othello: { step: 900, source: 'run', last_refusal: null } };
    expect(
      parseHealth({ training_game: 'othello', workers: [{}, {}], selfplay_rates: rates, models }),
    ).toEqual({
      trainingGame: 'othello',
      workers: 2,
      rates: { gamesPerS: 41.5, positionsPerS: 830 },
      models: { othello: { step: 900, source: 'run' } },
      startup: null,
    });
    expect(parseHealth({ status: 'ok', training_game: null, selfplay_rates: null })).toEqual({
      trainingGame: null,
      workers: 0,
      rates: null,
      models: {},
      startup: null,
    });
    expect(() => parseHealth({ training_game: 3 })).toThrow(ApiError);
    expect(() => parseHealth({ selfplay_rates: { games_per_s: 'fast' } })).toThrow(ApiError);
  });
});
