import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connect4 } from '../games/connect4';
import { othello } from '../games/othello';
import { tictactoe } from '../games/tictactoe';
import { replay } from '../games/types';
import Board from './Board.svelte';
import Dashboard from './Dashboard.svelte';
import Play from './Play.svelte';
import Replays from './Replays.svelte';

const INFO = {
  name: 'tictactoe',
  rows: 3,
  cols: 3,
  numActions: 9,
  modelStep: 42,
  modelSource: 'run' as const,
  pretrainedStep: null,
  players: ['alphazero', 'mcts', 'random'],
  maxSimulations: 800,
};

/** A fake actor: answers moves with the first legal cell and a visit distribution. */
function fakeActor(stats: unknown = null, selfplayRates: unknown = null) {
  const calls: { url: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const body = init?.body ? JSON.parse(String(init.body)) : null;
    calls.push({ url, body });
    const json = (value: unknown, status = 200) =>
      new Response(JSON.stringify(value), { status });
    if (url.endsWith('/checkpoints')) return json({ checkpoints: [{ step: 10, created_at: 1 }] });
    if (url.endsWith('/health')) {
      return json({
        training_game: 'tictactoe',
        workers: [{}, {}, {}],
        selfplay_rates: selfplayRates,
      });
    }
    if (url.endsWith('/stats')) return stats ? json(stats) : json({ detail: 'no run' }, 404);
    if (url.includes('/replays')) {
      return json({
        replays: [
          {
            id: 9,
            created_at: 1,
            model_step: 42,
            num_moves: 5,
            outcome: 1,
            moves: [0, 3, 1, 4, 2],
            visits: [0, 3, 1, 4, 2].map((m) => Array.from({ length: 9 }, (_, a) => (a === m ? 1 : 0))),
            root_values: [0.1, -0.2, 0.3, -0.6, 0.9],
          },
        ],
      });
    }
    if (url.endsWith('/move')) {
      const position = replay(tictactoe, body.moves);
      const action = tictactoe.legal(position).indexOf(true);
      const visits = Array(9).fill(0);
      visits[action] = 0.75;
      visits[tictactoe.legal(position).lastIndexOf(true)] += 0.25;
      return json({ action, value: 0.5, visits, prior: visits, model_step: 42 });
    }
    return json({ detail: 'unknown' }, 404);
  });
  vi.stubGlobal('fetch', fetchMock);
  return calls;
}

beforeEach(() => {
  vi.stubGlobal(
    'ResizeObserver',
    class {
      observe() {}
      disconnect() {}
    },
  );
});
afterEach(() => vi.unstubAllGlobals());

describe('Board', () => {
  it('draws each game with test ids and marks legal moves', () => {
    const { unmount } = render(Board, {
      rules: tictactoe,
      position: replay(tictactoe, [4]),
      interactive: true,
    });
    expect(screen.getByTestId('cell-4').getAttribute('data-piece')).toBe('x');
    expect((screen.getByTestId('cell-4') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('cell-0') as HTMLButtonElement).disabled).toBe(false);
    unmount();
    const c4 = render(Board, { rules: connect4, position: replay(connect4, [3, 3]), interactive: true });
    expect(screen.getByTestId('c4-cell-38').getAttribute('data-piece')).toBe('1');
    expect(screen.getByTestId('c4-cell-31').getAttribute('data-piece')).toBe('2');
    expect(screen.getAllByRole('button')).toHaveLength(7);
    c4.unmount();
    render(Board, { rules: othello, position: othello.initial(), interactive: true });
    const enabled = screen.getAllByRole('button').filter((b) => !(b as HTMLButtonElement).disabled);
    expect(enabled.map((b) => b.dataset.testid)).toEqual(['cell-19', 'cell-26', 'cell-37', 'cell-44']);
  });

  it("keeps the player's legal-move dots in Othello while the bot's heat is shown", () => {
    const heat = new Array(65).fill(0);
    heat[19] = 0.7; // a legal cell the heat labels: its label, not a dot
    heat[20] = 0.3; // an illegal cell
    const { container } = render(Board, {
      rules: othello,
      position: othello.initial(),
      interactive: true,
      heat,
    });
    const dotted = [...container.querySelectorAll('.hint')].map(
      (dot) => (dot.closest('button') as HTMLElement).dataset.testid,
    );
    expect(dotted).toEqual(['cell-26', 'cell-37', 'cell-44']);
    expect(screen.getByTestId('cell-19').textContent).toContain('70%');
  });

  it('shows the heat overlay as percentages per column', () => {
    render(Board, {
      rules: connect4,
      position: connect4.initial(),
      interactive: false,
      heat: [0, 0, 0.1, 0.6, 0.3, 0, 0],
    });
    expect(screen.getByTestId('heat-col-3').textContent).toContain('60%');
  });
});

describe('Play', () => {
  it('plays a move, gets the bot answer and shows its thinking; undo takes both back', async () => {
    const calls = fakeActor();
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await screen.findByTestId('your-turn');
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    const move = calls.find((c) => c.url.endsWith('/move'));
    expect(move?.body).toMatchObject({
      moves: [4],
      player: 'alphazero',
      checkpoint: null,
      pretrained: false,
    });
    expect(screen.getByTestId('cell-0').getAttribute('data-piece')).toBe('o');
    expect(screen.getByTestId('bot-win').textContent).toBe('75%');
    await fireEvent.click(screen.getByTestId('undo'));
    expect(screen.getByTestId('move-count').textContent).toContain('Move 0');
  });

  it('lists older checkpoints and plays the bot first after swapping sides', async () => {
    const calls = fakeActor();
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await waitFor(() =>
      expect(screen.getByTestId('opponent').textContent).toContain('older: step 10'),
    );
    await fireEvent.click(screen.getByTestId('swap'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 1'));
    expect(calls.filter((c) => c.url.endsWith('/move'))[0].body).toMatchObject({ moves: [] });
  });

  it('ends with a clear result message', async () => {
    fakeActor();
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await screen.findByTestId('your-turn');
    // The fake bot takes the first free cell: 0, then 1 ... we win on the diagonal 2-4-6.
    for (const cell of [4, 2, 6]) {
      await fireEvent.click(screen.getByTestId(`cell-${cell}`));
      await waitFor(() =>
        expect(
          screen.queryByTestId('your-turn') ?? screen.queryByTestId('result'),
        ).not.toBeNull(),
      );
    }
    expect((await screen.findByTestId('result')).textContent).toContain('You win!');
  });
});

describe('Dashboard and replays', () => {
  it('says how to start a run when there are no stats', async () => {
    fakeActor(null);
    render(Dashboard, { game: 'connect4', info: null });
    const empty = await screen.findByTestId('dashboard-empty');
    expect(empty.textContent).toContain('./start_training.sh connect4');
  });

  it('draws one chart per series group from the stats', async () => {
    fakeActor({
      game: 'tictactoe',
      step: 20,
      loss: { total: 1, policy: 0.7, value: 0.3 },
      samples_per_s: 9800,
      learning_rate: 0.02,
      precision: 'bfloat16',
      config: { threads: 4 },
      positions_per_s: 1500,
      skipped_rows: 3,
      history: [
        { step: 10, loss_total: 2 },
        { step: 20, loss_total: 1 },
      ],
      evaluations: [],
      elo: [],
    });
    render(Dashboard, { game: 'tictactoe', info: INFO });
    const chart = await screen.findByTestId('chart-loss');
    expect(chart.getAttribute('data-points')).toBe('2');
    expect(screen.getByTestId('card-step').textContent).toContain('42');
    const training = screen.getByTestId('card-training').parentElement!.textContent;
    expect(training).toContain('samples/s');
    expect(training).toContain('lr 0.0200 · bfloat16 · 4 threads · 3 bad rows skipped');
    // the actor's workers, from /api/health, for the game it trains
    await waitFor(() =>
      expect(screen.getByTestId('card-selfplay').textContent).toBe('1500 positions/s · 3 workers'),
    );
  });

  it("shows the actor's rates now over the learner's last minute", async () => {
    // the first minute of a run: the learner still reads games made without a network
    fakeActor(
      { game: 'tictactoe', step: 20, games_per_s: 141, positions_per_s: 2486, history: [] },
      { games_per_s: 38.4, positions_per_s: 776, nn_evals_per_s: 36093 },
    );
    render(Dashboard, { game: 'tictactoe', info: INFO });
    await waitFor(() =>
      expect(screen.getByTestId('card-selfplay').textContent).toBe('776 positions/s · 3 workers'),
    );
    const card = screen.getByTestId('card-selfplay').parentElement!;
    expect(card.querySelector('strong')!.textContent).toContain('38.4');
    expect(card.querySelector('strong')!.title).toContain('now');
  });

  it('steps through a replay with buttons and arrow keys', async () => {
    fakeActor();
    render(Replays, { rules: tictactoe });
    await fireEvent.click(await screen.findByTestId('replay-9'));
    expect(screen.getByTestId('replay-ply').textContent).toContain('move 0 / 5');
    await fireEvent.click(screen.getByTestId('replay-next'));
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    expect(screen.getByTestId('replay-ply').textContent).toContain('move 2 / 5');
    expect(screen.getByTestId('cell-0').getAttribute('data-piece')).toBe('x');
    expect(screen.getByTestId('replay-caption').textContent).toContain('100% of the');
    await fireEvent.keyDown(window, { key: 'End' });
    expect(screen.getByTestId('replay-caption').textContent).toContain('X won');
  });
});
