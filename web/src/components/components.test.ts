import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../App.svelte';
import { RULES } from '../games';
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

/** What the fake actor answers; tests change it (the run deleting checkpoints, new replays). */
const server = {
  checkpoints: [10],
  replayIds: [9],
  /** The newest model's step and where it comes from, in /api/games and /api/health. */
  modelStep: 42,
  modelSource: 'run',
  /** Each replayed move's visit shares, or null for all of a move's visits on it. */
  replayVisits: null as number[][] | null,
  /** An answer of its own for a move request, or null for the default one. */
  move: null as null | ((game: string, body: MoveBody) => Response | null),
  /** The self-play workers in /api/health (of tictactoe, the game it trains). */
  workers: 3,
};
interface MoveBody {
  moves: number[];
  player: string;
  simulations: number;
  checkpoint: number | null;
}

const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status });

/** A fake actor: answers moves with the first legal cell and a visit distribution. */
function fakeActor(stats: unknown = null, selfplayRates: unknown = null) {
  const calls: { url: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const body = init?.body ? JSON.parse(String(init.body)) : null;
    calls.push({ url, body });
    if (url.endsWith('/checkpoints')) {
      return json({ checkpoints: server.checkpoints.map((step) => ({ step, created_at: 1 })) });
    }
    if (url.endsWith('api/games')) {
      return json({
        games: Object.values(RULES).map((r) => ({
          name: r.name,
          rows: r.rows,
          cols: r.cols,
          num_actions: r.numActions,
          model_step: server.modelStep,
          model_source: server.modelSource,
          players: ['alphazero', 'mcts', 'random'],
        })),
      });
    }
    if (url.endsWith('/health')) {
      return json({
        training_game: 'tictactoe',
        workers: Array.from({ length: server.workers }, () => ({})),
        selfplay_rates: selfplayRates,
        models: Object.fromEntries(
          Object.keys(RULES).map((name) => [
            name,
            { step: server.modelStep, source: server.modelSource, last_refusal: null },
          ]),
        ),
      });
    }
    if (url.endsWith('/stats')) {
      return json(stats ?? { game: url.split('/').at(-2), no_run: true }); // as the actor answers
    }
    if (url.includes('/replays')) {
      return json({
        replays: server.replayIds.map((id) => ({
            id,
            created_at: 1,
            model_step: 42,
            num_moves: 5,
            outcome: 1,
            moves: [0, 3, 1, 4, 2],
            visits:
              server.replayVisits ??
              [0, 3, 1, 4, 2].map((m) => Array.from({ length: 9 }, (_, a) => (a === m ? 1 : 0))),
            root_values: [0.1, -0.2, 0.3, -0.6, 0.9],
        })),
      });
    }
    if (url.endsWith('/move')) {
      const game = url.split('/').at(-2)!;
      const own = server.move?.(game, body);
      if (own) return own;
      const rules = RULES[game];
      const legal = rules.legal(replay(rules, body.moves));
      const action = legal.indexOf(true);
      const visits = Array(rules.numActions).fill(0);
      visits[action] = 0.75;
      visits[legal.lastIndexOf(true)] += 0.25;
      return json({ action, value: 0.5, visits, prior: visits, model_step: server.modelStep });
    }
    return json({ detail: 'unknown' }, 404);
  });
  vi.stubGlobal('fetch', fetchMock);
  return calls;
}

beforeEach(() => {
  sessionStorage.clear(); // Play keeps each game there
  server.checkpoints = [10];
  server.replayIds = [9];
  server.modelStep = 42;
  server.modelSource = 'run';
  server.replayVisits = null;
  server.move = null;
  server.workers = 3;
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

  it("labels the bot's own Othello move with its share, on its disc", () => {
    const position = replay(othello, [19, 18]); // the bot (white) just played c3
    const heat = new Array(65).fill(0);
    heat[18] = 0.91;
    heat[20] = 0.06;
    heat[27] = 0.03; // an occupied square the bot did not just play: no label
    render(Board, { rules: othello, position, interactive: true, heat });
    expect(screen.getByTestId('cell-18').getAttribute('data-piece')).toBe('white');
    expect(screen.getByTestId('cell-18').textContent).toContain('91%');
    expect(screen.getByTestId('cell-20').textContent).toContain('6%');
    expect(screen.getByTestId('cell-27').textContent).not.toContain('%');
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
      expect(screen.getByTestId('opponent').textContent).toContain('step 10 (older)'),
    );
    await fireEvent.click(screen.getByTestId('swap'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 1'));
    expect(calls.filter((c) => c.url.endsWith('/move'))[0].body).toMatchObject({ moves: [] });
  });

  it("names the model that answered in the bot's thinking, not the one listed earlier", async () => {
    fakeActor();
    server.modelStep = 43; // published after App last read /api/games (info: step 42)
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.click(await screen.findByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    const thinking = screen.getByTestId('thinking');
    expect(thinking.textContent).toContain('AlphaZero, step 43');
    expect(thinking.textContent).not.toContain('step 42');
    expect([...thinking.querySelectorAll('th')].map((th) => th.textContent)).toEqual([
      'move',
      'visits',
      'prior',
    ]);
  });

  it('shows no prior for classic MCTS, which has no network', async () => {
    fakeActor();
    server.move = (_game, body) => {
      const legal = tictactoe.legal(replay(tictactoe, body.moves));
      const uniform = legal.map((ok) => (ok ? 1 / legal.filter(Boolean).length : 0));
      const visits = legal.map((ok, a) => (a === 0 ? 0.6 : ok ? 0.4 / 7 : 0));
      return json({ action: 0, value: 0.2, visits, prior: uniform, model_step: null });
    };
    const { container } = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    const prior = screen.getByTestId('heat-prior') as HTMLButtonElement;
    await fireEvent.click(prior); // chosen for AlphaZero, then the opponent changes
    await fireEvent.change(screen.getByTestId('opponent'), { target: { value: 'mcts' } });
    expect(prior.disabled).toBe(true);
    expect(prior.getAttribute('aria-pressed')).toBe('false');
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    const thinking = screen.getByTestId('thinking');
    expect([...thinking.querySelectorAll('th')].map((th) => th.textContent)).toEqual([
      'move',
      'visits',
    ]);
    expect(thinking.textContent).not.toContain('13%'); // the uniform 1/8
    expect(screen.getByTestId('heat-visits').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('cell-0').textContent).toContain('60%'); // the visits' heat
    expect(container.querySelector('.side')!.textContent).not.toContain('prior');
  });

  it('shows the winning line, not the heat, once the bot has won', async () => {
    fakeActor(); // the bot takes the first free cell: 0, 1, 2 wins the top row
    const { container } = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    for (const [cell, count] of [[3, 2], [4, 4], [8, 6]]) {
      await fireEvent.click(await screen.findByTestId(`cell-${cell}`));
      await waitFor(() =>
        expect(screen.getByTestId('move-count').textContent).toContain(`Move ${count}`),
      );
    }
    expect((await screen.findByTestId('result')).textContent).toContain('O wins');
    const won = [...container.querySelectorAll('.cell.win')].map((c) => (c as HTMLElement).dataset.testid);
    expect(won).toEqual(['cell-0', 'cell-1', 'cell-2']);
    expect(container.querySelector('.heat')).toBeNull();
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

const C4_INFO = { ...INFO, name: 'connect4', rows: 6, cols: 7, numActions: 7 };

/** The fake bot answers column 4 in Connect 4: Connect 4's [3, 3] is illegal in Tic-tac-toe. */
function botPlaysColumn4(): void {
  server.move = (game) =>
    game === 'connect4'
      ? json({ action: 3, value: 0, visits: [0, 0, 0, 1, 0, 0, 0], prior: [0, 0, 0, 1, 0, 0, 0] })
      : null;
}

/** The opponent choices offered, by select value (labels are tested in play.test.ts). */
function offered(select: HTMLSelectElement): string[] {
  return [...select.options].map((o) => o.value);
}

/** The simulation count the strength slider shows. */
function shownSimulations(): number {
  return Number(screen.getByTestId('simulations').textContent);
}

describe('Play: switching games, opponents and strength', () => {
  it('starts a fresh game when the game changes after a move', async () => {
    fakeActor();
    botPlaysColumn4();
    const { rerender } = render(Play, { rules: connect4, info: C4_INFO, botDelayMs: 0 });
    await screen.findByTestId('your-turn');
    await fireEvent.click(screen.getByTestId('col-3'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    await rerender({ rules: tictactoe, info: INFO, botDelayMs: 0 });
    expect(screen.getByTestId('move-count').textContent).toContain('Move 0');
    expect(screen.queryByTestId('error')).toBeNull();
    const cells = Array.from({ length: 9 }, (_, i) => screen.getByTestId(`cell-${i}`));
    expect(cells.every((c) => c.getAttribute('data-piece') === '')).toBe(true);
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    await rerender({ rules: othello, info: { ...INFO, name: 'othello', numActions: 65 } });
    expect(screen.getByTestId('move-count').textContent).toContain('Move 0');
    expect(screen.getByTestId('disc-count').textContent?.replace(/\s/g, '')).toBe('2:2');
  });

  it("starts another game with its own side, opponent and strength, not the last game's", async () => {
    const calls = fakeActor();
    const moveRequests = () => calls.filter((c) => c.url.endsWith('/move')).length;
    const { rerender } = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.change(screen.getByTestId('opponent'), { target: { value: 'mcts' } });
    await fireEvent.input(screen.getByTestId('strength'), { target: { value: '4' } });
    await fireEvent.click(screen.getByTestId('side-1')); // O: the bot opens
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 1'));
    const asked = moveRequests();
    for (const [rules, info] of [
      [connect4, C4_INFO],
      [othello, { ...INFO, name: 'othello', numActions: 65 }],
    ] as const) {
      await rerender({ rules, info, botDelayMs: 0 });
      await screen.findByTestId('your-turn');
      expect(screen.getByTestId('side-0').getAttribute('aria-pressed')).toBe('true');
      expect(screen.getByTestId('move-count').textContent).toContain('Move 0');
      expect((screen.getByTestId('opponent') as HTMLSelectElement).value).toBe('alphazero');
      expect(shownSimulations()).toBe(rules === othello ? 64 : 128);
    }
    expect(moveRequests()).toBe(asked); // the newcomer opens: the bot waits
    await rerender({ rules: tictactoe, info: INFO, botDelayMs: 0 }); // its own choices kept
    expect(screen.getByTestId('side-1').getAttribute('aria-pressed')).toBe('true');
    expect((screen.getByTestId('opponent') as HTMLSelectElement).value).toBe('mcts');
    expect(screen.getByTestId('move-count').textContent).toContain('Move 1');
  });

  it('refreshes the kept checkpoints with the game list and replaces a deleted choice', async () => {
    const calls = fakeActor();
    server.checkpoints = [10, 20];
    const { rerender } = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    const select = screen.getByTestId('opponent') as HTMLSelectElement;
    await waitFor(() => expect(offered(select)).toContain('checkpoint:10'));
    await fireEvent.change(select, { target: { value: 'checkpoint:10' } });
    // The run trains on: step 10 is deleted, 30 kept; App's next /api/games gives a new info.
    server.checkpoints = [20, 30];
    await rerender({ rules: tictactoe, info: { ...INFO, modelStep: 43 }, botDelayMs: 0 });
    await waitFor(() => expect(offered(select)).toContain('checkpoint:30'));
    expect(offered(select)).not.toContain('checkpoint:10');
    expect(select.value).toBe('checkpoint:20');
    expect(screen.getByTestId('opponent-notice').textContent).toContain(
      'Step 10 is no longer kept',
    );
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    expect(calls.filter((c) => c.url.endsWith('/move')).at(-1)?.body).toMatchObject({
      checkpoint: 20,
    });
  });

  it('plays on with the nearest kept checkpoint when the chosen one was deleted', async () => {
    const calls = fakeActor();
    server.checkpoints = [10, 20];
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    const select = screen.getByTestId('opponent') as HTMLSelectElement;
    await waitFor(() => expect(offered(select)).toContain('checkpoint:10'));
    await fireEvent.change(select, { target: { value: 'checkpoint:10' } });
    server.checkpoints = [20];
    server.move = (game, body) =>
      body.checkpoint === 10 ? json({ detail: `checkpoint 10 of ${game} is not kept` }, 404) : null;
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    expect(screen.queryByTestId('error')).toBeNull();
    const moves = calls.filter((c) => c.url.endsWith('/move')).map((c) => c.body);
    expect(moves.map((b) => (b as MoveBody).checkpoint)).toEqual([10, 20]);
    expect(select.value).toBe('checkpoint:20');
    expect(screen.getByTestId('opponent-notice').textContent).toContain('step 20 (older) plays');
  });

  it("retries the bot's move when the opponent or its strength changes", async () => {
    const calls = fakeActor();
    server.move = (_game, body) =>
      body.player === 'alphazero' ? json({ detail: 'the search failed: NaN' }, 503) : null;
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.click(await screen.findByTestId('cell-4'));
    await screen.findByTestId('error');
    await fireEvent.change(screen.getByTestId('opponent'), { target: { value: 'mcts' } });
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    expect(screen.queryByTestId('error')).toBeNull();
    // the same with the strength slider, after a failure of the MCTS bot
    server.move = () => json({ detail: 'busy' }, 503);
    await fireEvent.click(screen.getByTestId('cell-8'));
    await screen.findByTestId('error');
    server.move = null;
    const slider = screen.getByTestId('strength');
    await fireEvent.input(slider, { target: { value: '1' } });
    await fireEvent.change(slider);
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 4'));
    expect(calls.filter((c) => c.url.endsWith('/move')).at(-1)?.body).toMatchObject({
      player: 'mcts',
      simulations: 4,
    });
  });

  it('asks once when the strength slider is moved several steps during a search', async () => {
    const calls = fakeActor();
    const moves = () => calls.filter((c) => c.url.endsWith('/move')).length;
    server.move = () => new Promise<Response>(() => {}) as unknown as Response; // never answers
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.click(await screen.findByTestId('cell-4'));
    await waitFor(() => expect(moves()).toBe(1));
    const slider = screen.getByTestId('strength');
    for (const value of ['4', '5', '6']) {
      await fireEvent.input(slider, { target: { value } });
      await fireEvent.change(slider);
    }
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(moves()).toBe(2); // one search for the strength it came to rest at
  });

  it('offers only checkpoints older than the model served, and takes an answer in order', async () => {
    fakeActor();
    server.checkpoints = [10, 42, 50]; // 50 written by the learner, not yet served
    const { rerender } = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    const select = screen.getByTestId('opponent') as HTMLSelectElement;
    await waitFor(() => expect(offered(select)).toContain('checkpoint:10'));
    expect(offered(select)).not.toContain('checkpoint:50');
    await fireEvent.change(select, { target: { value: 'checkpoint:10' } });
    // the actor serves 50 now: step 10 is still kept and still offered, with no notice
    await rerender({ rules: tictactoe, info: { ...INFO, modelStep: 50 }, botDelayMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(select.value).toBe('checkpoint:10');
    expect(screen.queryByTestId('opponent-notice')).toBeNull();
  });

  it('keeps the nearest simulation count when the opponent changes', async () => {
    fakeActor();
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    const slider = screen.getByTestId('strength');
    const opponent = screen.getByTestId('opponent');
    await fireEvent.input(slider, { target: { value: '3' } });
    expect(shownSimulations()).toBe(16);
    await fireEvent.change(opponent, { target: { value: 'mcts' } });
    expect(shownSimulations()).toBe(16);
    await fireEvent.change(opponent, { target: { value: 'alphazero' } });
    await fireEvent.input(slider, { target: { value: '0' } });
    expect(shownSimulations()).toBe(0);
    await fireEvent.change(opponent, { target: { value: 'mcts' } });
    expect(shownSimulations()).toBe(1);
    // back to AlphaZero: the count chosen there, not the one MCTS had to round it to
    await fireEvent.change(opponent, { target: { value: 'alphazero' } });
    expect(shownSimulations()).toBe(0);
  });
});

describe("Play: the bot's thinking for each kind of opponent", () => {
  const SOLVED = { ...INFO, players: ['alphazero', 'mcts', 'random', 'perfect'] };

  function randomAndPerfect() {
    server.move = (_game, body) => {
      const legal = tictactoe.legal(replay(tictactoe, body.moves));
      const uniform = legal.map((ok) => (ok ? 1 / legal.filter(Boolean).length : 0));
      if (body.player === 'random') {
        const action = legal.indexOf(true);
        return json({ action, value: 0, visits: uniform, prior: uniform, model_step: null });
      }
      if (body.player === 'perfect') {
        const visits = Array(9).fill(0);
        visits[0] = visits[2] = 0.5; // two best moves: a1 and c1
        return json({ action: 2, value: 1, visits, prior: uniform, model_step: null, note: null });
      }
      return null;
    };
  }

  /** Plays the centre against `opponent` and waits for the bot's reply. */
  async function oneMoveAgainst(opponent: string): Promise<HTMLElement> {
    fakeActor();
    randomAndPerfect();
    const { container } = render(Play, { rules: tictactoe, info: SOLVED, botDelayMs: 0 });
    await fireEvent.change(screen.getByTestId('opponent'), { target: { value: opponent } });
    await fireEvent.click(await screen.findByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    return container;
  }

  it('shows no search nor heat for random moves', async () => {
    const container = await oneMoveAgainst('random');
    expect(container.querySelector('table')).toBeNull();
    expect(container.querySelector('.heat')).toBeNull();
    expect(screen.queryByTestId('bot-win')).toBeNull();
    const side = container.querySelector('.side')!.textContent!;
    expect(side).not.toContain('simulations');
    expect(side).not.toContain('Heat shows');
    expect(screen.getByTestId('thinking-random').textContent).toContain('random');
  });

  it("shows the solver's verdict and its best moves for perfect play", async () => {
    const container = await oneMoveAgainst('perfect');
    expect(container.querySelector('table')).toBeNull();
    expect(container.querySelector('.heat')).toBeNull();
    const side = container.querySelector('.side')!.textContent!;
    expect(side).not.toContain('0 simulations');
    expect(side).not.toContain('Heat shows');
    const names = [0, 2].map((a) => tictactoe.actionName(a)).join(', ');
    expect(screen.getByTestId('best-moves').textContent).toContain(
      `best moves: ${names} — a win`,
    );
  });
});

describe('App', () => {
  afterEach(() => history.replaceState(null, '', '#'));

  it('opens a fresh game of the game chosen after a move, by tab or by address', async () => {
    fakeActor();
    botPlaysColumn4();
    history.replaceState(null, '', '#/play/connect4');
    render(App);
    await fireEvent.click(await screen.findByTestId('col-3'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    await fireEvent.click(screen.getByTestId('game-tictactoe'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 0'));
    expect(screen.queryByTestId('error')).toBeNull();
    expect(screen.getAllByTestId(/^cell-\d$/)).toHaveLength(9);
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    // the browser's Back button: a hash change
    history.pushState(null, '', '#/play/othello');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await waitFor(() => expect(screen.getByTestId('disc-count')).toBeTruthy());
    expect(screen.getByTestId('move-count').textContent).toContain('Move 0');
    expect(screen.queryByTestId('error')).toBeNull();
  });

  it('labels the opponent with a model published a few seconds ago', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] }); // the games poll; the rest runs for real
    try {
      fakeActor();
      history.replaceState(null, '', '#/play/tictactoe');
      render(App);
      const select = await screen.findByTestId('opponent');
      await waitFor(() => expect(select.textContent).toContain('AlphaZero, step 42'));
      server.modelStep = 43; // a Tic-tac-toe run publishes a model about every second
      vi.advanceTimersByTime(3000);
      await waitFor(() => expect(select.textContent).toContain('AlphaZero, step 43'));
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not pile up games-list requests while the actor is slow to answer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      fakeActor();
      const answer = globalThis.fetch as (url: string, init?: RequestInit) => Promise<Response>;
      let release: () => void = () => {};
      const slow = new Promise<void>((resolve) => (release = resolve));
      let asked = 0;
      vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
        if (url.endsWith('api/games')) {
          asked++;
          await slow; // the actor is busy
        }
        return answer(url, init);
      });
      history.replaceState(null, '', '#/play/tictactoe');
      render(App);
      vi.advanceTimersByTime(3000 * 5);
      const gamesCalls = () => asked;
      expect(gamesCalls()).toBe(1);
      release();
      await waitFor(() => expect(screen.getByTestId('opponent').textContent).toContain('42'));
      vi.advanceTimersByTime(3000);
      await waitFor(() => expect(gamesCalls()).toBe(2));
    } finally {
      vi.useRealTimers();
    }
  });

  it('says once how to start the actor when it does not answer', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    history.replaceState(null, '', '#/dashboard/tictactoe');
    const { container } = render(App);
    const banner = await screen.findByTestId('api-error');
    const text = banner.textContent!.replace(/\s+/g, ' ');
    expect(text).toContain(
      'is it running? Start it with ./start_training.sh tictactoe, or python -m actor',
    );
    await screen.findByTestId('dashboard-error'); // the view's own "cannot read the stats"
    const page = container.textContent!;
    expect(page.split('Start it with').length - 1).toBe(1);
    expect(page.split('python -m actor').length - 1).toBe(1);
  });

  it("never links the footer to the page you are on", async () => {
    fakeActor();
    history.replaceState(null, '', '#/dashboard/tictactoe');
    const { container } = render(App);
    const footer = container.querySelector('footer')!;
    expect(footer.querySelector('a')!.getAttribute('href')).toBe('#/play/tictactoe');
    await fireEvent.click(screen.getByTestId('view-play'));
    expect(footer.querySelector('a')!.getAttribute('href')).toBe('#/dashboard/tictactoe');
  });
});

describe('Dashboard and replays', () => {
  it('says how to start a run when there are no stats, and that the shipped model plays', async () => {
    const calls = fakeActor(null);
    server.modelSource = 'pretrained';
    render(Dashboard, { game: 'connect4' });
    const empty = await screen.findByTestId('dashboard-empty');
    const text = empty.textContent!.replace(/\s+/g, ' ');
    expect(text).toContain("No training run of Connect 4 in this actor's data folder");
    expect(text).toContain('./start_training.sh connect4');
    expect(text).toContain('the same --data-dir as this actor');
    expect(text).not.toContain('data/connect4'); // wrong with another --data-dir
    const play = screen.getByTestId('dashboard-play');
    expect(play.getAttribute('href')).toBe('#/play/connect4');
    expect(play.textContent).toContain('the shipped model');
    expect(calls.filter((c) => c.url.endsWith('/stats'))).toHaveLength(1);
  });

  it('polls a game without a run rarely, and shows the run once it starts', async () => {
    const calls = fakeActor(null);
    const statsCalls = () => calls.filter((c) => c.url.endsWith('/stats')).length;
    render(Dashboard, { game: 'tictactoe', pollMs: 10, idlePollMs: 1000 });
    await screen.findByTestId('dashboard-empty');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(statsCalls()).toBe(1); // each 404 is a console error in the browser
    fakeActor({ game: 'tictactoe', step: 20, history: [{ step: 20, loss_total: 1 }] });
    await screen.findByTestId('chart-loss', {}, { timeout: 3000 });
  });

  it('reads the model step in the same poll as the stats', async () => {
    const stats = { game: 'tictactoe', step: 1250, history: [{ step: 1200, loss_total: 1 }] };
    fakeActor(stats);
    server.modelStep = 1300; // published after the learner last wrote stats.json
    render(Dashboard, { game: 'tictactoe', pollMs: 20 });
    const card = await screen.findByTestId('card-step');
    await waitFor(() => expect(card.querySelector('strong')!.textContent).toBe('1300'));
    expect(card.textContent).not.toContain('learner at');
    server.modelStep = 1200;
    await waitFor(() => expect(card.querySelector('strong')!.textContent).toBe('1200'));
    expect(card.textContent).toContain('learner at 1250');
  });

  it('says the run has no model yet while the shipped model serves, not its step', async () => {
    // not Tic-tac-toe's "132411 · 3 s old" before the run's first game
    fakeActor({ game: 'tictactoe', step: 26, history: [{ step: 26, loss_total: 2.8 }] });
    server.modelStep = 132411;
    server.modelSource = 'pretrained';
    render(Dashboard, { game: 'tictactoe', pollMs: 20 });
    const card = await screen.findByTestId('card-step');
    await waitFor(() => expect(card.querySelector('strong')!.textContent).toBe('no model yet'));
    const text = card.textContent!.replace(/\s+/g, ' ');
    expect(text).toContain('Play uses the shipped model (step 132411)');
    expect(text).toContain('learner at 26');
    expect(text).not.toContain('old');
    server.modelStep = 300; // the run's first model
    server.modelSource = 'run';
    await waitFor(() => expect(card.querySelector('strong')!.textContent).toBe('300'));
    expect(card.textContent).not.toContain('shipped');
  });

  it('names whose simulations the evaluation used', async () => {
    const match = (opponent: string) => ({
      step: 20, opponent, simulations: 64, win_rate: 0.9, draw_rate: 0.1, loss_rate: 0,
    });
    fakeActor({ game: 'tictactoe', step: 20, history: [], evaluations: [match('random'), match('mcts-64')] });
    render(Dashboard, { game: 'tictactoe' });
    const card = await screen.findByTestId('card-evaluation');
    const terms = [...card.querySelectorAll('dt')].map((dt) => dt.textContent);
    expect(terms).toEqual(['vs random (AlphaZero at 64 sims)', 'vs mcts-64 (AlphaZero at 64 sims)']);
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
    render(Dashboard, { game: 'tictactoe' });
    const chart = await screen.findByTestId('chart-loss');
    expect(chart.getAttribute('data-points')).toBe('2');
    await waitFor(() => expect(screen.getByTestId('card-step').textContent).toContain('42'));
    const training = screen.getByTestId('card-training').parentElement!.textContent;
    expect(training).toContain('samples/s');
    expect(screen.getByTestId('card-lr').textContent).toBe('lr 0.02'); // no schedule in config
    expect(training).toContain('bfloat16 · 4 threads · 3 bad rows skipped');
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
    render(Dashboard, { game: 'tictactoe' });
    await waitFor(() =>
      expect(screen.getByTestId('card-selfplay').textContent).toBe('776 positions/s · 3 workers'),
    );
    const card = screen.getByTestId('card-selfplay').parentElement!;
    expect(card.querySelector('strong')!.textContent).toContain('38.4');
    expect(card.querySelector('strong')!.title).toContain('now');
    // said on the card, as the throughput chart says it plots the learner's intake
    expect(screen.getByTestId('card-selfplay-source').textContent).toBe(
      'the workers now (last few seconds)',
    );
  });

  it("says the self-play card shows the learner's intake when the actor does not self-play", async () => {
    fakeActor({ game: 'othello', step: 20, positions_per_s: 150, history: [] });
    render(Dashboard, { game: 'othello' }); // the fake actor trains tictactoe
    await waitFor(() =>
      expect(screen.getByTestId('card-selfplay-source').textContent).toBe(
        "the learner's intake (last minute)",
      ),
    );
  });

  it('says self-play is starting while the game trains, and shows its first games by itself', async () => {
    fakeActor(); // the actor self-plays tictactoe
    server.replayIds = [];
    const { rerender } = render(Replays, { rules: tictactoe, answered: 0 });
    const empty = await screen.findByTestId('replays-empty');
    await waitFor(() => expect(empty.textContent).toContain('Self-play is starting'));
    expect(empty.textContent).toContain('the first games appear in a minute or so');
    expect(empty.textContent).not.toContain('start_training.sh');
    server.replayIds = [9];
    await rerender({ rules: tictactoe, answered: 1 }); // App's next poll
    await screen.findByTestId('replay-9');
    expect(screen.queryByTestId('replays-empty')).toBeNull();
  });

  it('says self-play is not running when no worker plays, whatever game the actor names', async () => {
    fakeActor(); // names tictactoe as its training game...
    server.workers = 0; // ...but no worker plays it
    server.replayIds = [];
    const { rerender } = render(Replays, { rules: tictactoe, answered: 0 });
    const empty = await screen.findByTestId('replays-empty');
    expect(empty.textContent).toContain('self-play is not running');
    expect(empty.textContent).toContain('./start_training.sh tictactoe');
    expect(empty.textContent).not.toContain('starting');
    server.workers = 3; // started meanwhile: the next poll says so
    await rerender({ rules: tictactoe, answered: 1 });
    await waitFor(() => expect(empty.textContent).toContain('Self-play is starting'));
  });

  it('says self-play is running once its workers play, and not when the actor is away', async () => {
    fakeActor(null, { games_per_s: 0, positions_per_s: 75, nn_evals_per_s: 9000 });
    server.replayIds = [];
    const { rerender } = render(Replays, { rules: tictactoe, answered: 0 });
    const empty = await screen.findByTestId('replays-empty');
    await waitFor(() => expect(empty.textContent).toContain('Self-play is running'));
    // its actor stopped (it does when a worker dies): App's polls go unanswered
    await rerender({ rules: tictactoe, answered: 0, actorDown: true });
    expect(empty.textContent).toContain('the actor does not answer: self-play is not running');
    expect(empty.textContent).not.toContain('Self-play is running');
  });

  it('says how to start training when the game has no games and does not train', async () => {
    fakeActor(); // tictactoe, not connect4
    server.replayIds = [];
    render(Replays, { rules: connect4 });
    const empty = await screen.findByTestId('replays-empty');
    expect(empty.textContent).toContain('./start_training.sh connect4');
    expect(empty.textContent).not.toContain('starting');
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

  it('says when the played move was sampled rather than the most visited', async () => {
    fakeActor();
    const shares = (played: number, other: number) =>
      Array.from({ length: 9 }, (_, a) => (a === played ? 0.07 : a === other ? 0.33 : 0.6 / 7));
    // self-play picks each Tic-tac-toe move by visit count: a1 with 7%, the centre had 33%
    server.replayVisits = [shares(0, 4), [0, 0, 0, 1, 0, 0, 0, 0, 0], shares(1, 4), shares(4, 5), shares(2, 5)];
    render(Replays, { rules: tictactoe });
    await fireEvent.click(await screen.findByTestId('replay-9'));
    const caption = screen.getByTestId('replay-caption');
    const text = () => caption.textContent!.replace(/\s+/g, ' ');
    const [a1, centre] = [0, 4].map((a) => tictactoe.actionName(a));
    expect(text()).toContain(
      `X to play; played ${a1}, sampled by visit count (7% of the visits; the search preferred ${centre}, 33%)`,
    );
    expect(text()).not.toContain('the search chose');
    await fireEvent.click(screen.getByTestId('replay-next'));
    expect(text()).toContain(`the search chose ${tictactoe.actionName(3)} with 100% of the visits`);
    expect(text()).not.toContain('sampled');
  });

  it('keeps the viewed game and move when a refresh drops it from the newest', async () => {
    fakeActor();
    render(Replays, { rules: tictactoe });
    await fireEvent.click(await screen.findByTestId('replay-9'));
    await fireEvent.click(screen.getByTestId('replay-next'));
    await fireEvent.click(screen.getByTestId('replay-next'));
    server.replayIds = [11, 10]; // self-play went on: game 9 is no longer among the newest
    await fireEvent.click(screen.getByTestId('replays-refresh'));
    await screen.findByTestId('replay-11');
    expect(screen.queryByTestId('replay-9')).toBeNull();
    expect(screen.getByTestId('replay-ply').textContent).toContain('move 2 / 5');
    expect(screen.getByText('Game #9')).toBeTruthy();
    expect(screen.getByTestId('replay-dropped').textContent).toContain('no longer among');
    await fireEvent.click(screen.getByTestId('replay-10'));
    expect(screen.getByText('Game #10')).toBeTruthy();
    expect(screen.getByTestId('replay-ply').textContent).toContain('move 0 / 5');
    expect(screen.queryByTestId('replay-dropped')).toBeNull();
  });
});

describe('Boards for the keyboard and screen readers', () => {
  it('are ARIA grids: rows of cells, each holding its button', () => {
    const { unmount } = render(Board, { rules: tictactoe, position: tictactoe.initial(), interactive: true });
    const rows = within(screen.getByRole('grid')).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1]).getAllByRole('gridcell')).toHaveLength(3);
    expect(within(within(rows[1]).getAllByRole('gridcell')[2]).getByRole('button').dataset.testid).toBe(
      'cell-5',
    );
    unmount();
    const c4 = render(Board, { rules: connect4, position: connect4.initial(), interactive: true });
    expect(within(screen.getByRole('grid')).getAllByRole('row')).toHaveLength(1);
    expect(screen.getAllByRole('gridcell')).toHaveLength(7);
    c4.unmount();
    render(Board, { rules: othello, position: othello.initial(), interactive: false });
    expect(screen.getAllByRole('row')).toHaveLength(8);
    expect(screen.getAllByRole('gridcell')).toHaveLength(64);
  });

  it("names Connect 4's columns with their pieces", () => {
    render(Board, { rules: connect4, position: replay(connect4, [2, 2, 3]), interactive: true });
    expect(screen.getByTestId('col-2').getAttribute('aria-label')).toBe(
      'column 3: red, yellow, 4 empty; play here',
    );
    expect(screen.getByTestId('col-0').getAttribute('aria-label')).toBe('column 1: empty; play here');
  });

  it('keeps every cell of the play view focusable, one of them in the Tab order', () => {
    render(Board, {
      rules: tictactoe,
      position: replay(tictactoe, [4]),
      interactive: true,
      focusable: true,
      cursor: 4,
    });
    const cells = Array.from({ length: 9 }, (_, i) => screen.getByTestId(`cell-${i}`) as HTMLButtonElement);
    expect(cells.filter((c) => c.disabled)).toEqual([]);
    expect(cells.map((c) => c.tabIndex)).toEqual([-1, -1, -1, -1, 0, -1, -1, -1, -1]);
    expect(cells[4].getAttribute('aria-disabled')).toBe('true'); // taken
    expect(cells[0].getAttribute('aria-disabled')).toBe('false');
  });
});

describe('Play: keyboard focus', () => {
  it('moves the focus over the board with arrow keys, from a button too, and keeps it there', async () => {
    fakeActor(); // the bot takes the first free cell
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await screen.findByTestId('your-turn');
    const newGame = screen.getByTestId('new-game');
    newGame.focus(); // clicked a moment ago
    await fireEvent.keyDown(newGame, { key: 'ArrowRight' });
    expect(document.activeElement).toBe(screen.getByTestId('cell-4')); // into the board
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowLeft' });
    expect(document.activeElement).toBe(screen.getByTestId('cell-0'));
    expect(screen.getByTestId('cell-0').tabIndex).toBe(0);
    expect(screen.getByTestId('cell-4').tabIndex).toBe(-1);
    await fireEvent.click(document.activeElement!); // Enter or a click on the focused cell
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    await screen.findByTestId('your-turn');
    // cell 0 is taken (and the bot took 1): the focus goes on to the nearest free cell
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('cell-3')));
  });
});

describe('Play: an actor that goes away, and a view left', () => {
  /** The actor does not answer at all (fetch rejects, as with nothing listening). */
  const down = () => {
    throw new TypeError('Failed to fetch');
  };

  it('moves by itself once the actor answers again, but does not repeat a refusal', async () => {
    const calls = fakeActor();
    const asked = () => calls.filter((c) => c.url.endsWith('/move')).length;
    server.move = down;
    const { rerender } = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.click(await screen.findByTestId('cell-4'));
    expect((await screen.findByTestId('error')).textContent).toContain('cannot reach the actor');
    screen.getByTestId('retry-when-back');
    server.move = null;
    // App's next poll of the games list is answered: a new info
    await rerender({ rules: tictactoe, info: { ...INFO }, botDelayMs: 0 });
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    expect(screen.queryByTestId('error')).toBeNull();
    server.move = () => json({ detail: 'moves: not a legal game' }, 400);
    await fireEvent.click(screen.getByTestId('cell-8'));
    await screen.findByTestId('error');
    expect(screen.queryByTestId('retry-when-back')).toBeNull();
    const before = asked();
    await rerender({ rules: tictactoe, info: { ...INFO }, botDelayMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asked()).toBe(before);
  });

  it('says in words that the shipped model plays while the run has none', async () => {
    fakeActor();
    const shipped = { ...INFO, modelStep: 132411, modelSource: 'pretrained' as const };
    const { rerender } = render(Play, { rules: tictactoe, info: shipped, botDelayMs: 0 });
    expect(screen.getByTestId('opponent').textContent).toContain('AlphaZero, step 132411 (shipped)');
    expect(screen.getByTestId('opponent-shipped').textContent).toContain('The shipped model');
    await rerender({ rules: tictactoe, info: INFO, botDelayMs: 0 }); // the run's first model
    expect(screen.queryByTestId('opponent-shipped')).toBeNull();
  });

  it('comes back to its game, side, opponent and strength after another view', async () => {
    fakeActor();
    const first = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.change(screen.getByTestId('opponent'), { target: { value: 'mcts' } });
    await fireEvent.input(screen.getByTestId('strength'), { target: { value: '2' } });
    await fireEvent.click(screen.getByTestId('side-1')); // the bot opens
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 1'));
    await fireEvent.click(screen.getByTestId('cell-4'));
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 3'));
    first.unmount(); // Training or Replays
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    expect(screen.getByTestId('move-count').textContent).toContain('Move 3');
    expect((screen.getByTestId('opponent') as HTMLSelectElement).value).toBe('mcts');
    expect(shownSimulations()).toBe(16); // MCTS offers no 0: 1, 4, 16, ...
    expect(screen.getByTestId('side-1').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('cell-4').getAttribute('data-piece')).toBe('o');
    expect(screen.getByTestId('bot-win').textContent).toBe('75%'); // its last answer, kept
  });

  it('lets the bot finish a move it was thinking about when the view was left', async () => {
    const calls = fakeActor();
    server.move = () => new Promise<Response>(() => {}) as unknown as Response; // never answers
    const first = render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await fireEvent.click(await screen.findByTestId('cell-4'));
    first.unmount();
    server.move = null;
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await waitFor(() => expect(screen.getByTestId('move-count').textContent).toContain('Move 2'));
    expect(calls.filter((c) => c.url.endsWith('/move')).at(-1)?.body).toMatchObject({ moves: [4] });
  });

  it('starts afresh from a saved game that is not legal, without an error', async () => {
    fakeActor();
    sessionStorage.setItem(
      'cartridge2.play.tictactoe',
      JSON.stringify({ moves: [4, 4], humanSide: 0, opponentKey: 'random', heatMode: 'off' }),
    );
    render(Play, { rules: tictactoe, info: INFO, botDelayMs: 0 });
    await screen.findByTestId('your-turn');
    expect(screen.getByTestId('move-count').textContent).toContain('Move 0');
    expect((screen.getByTestId('opponent') as HTMLSelectElement).value).toBe('random');
    expect(screen.queryByTestId('error')).toBeNull();
  });
});

describe('Replays and the training view when things stop', () => {
  it('keeps the list when a refresh fails, and loads it again once the actor answers', async () => {
    const calls = fakeActor();
    const { rerender } = render(Replays, { rules: tictactoe, answered: 0 });
    await screen.findByTestId('replay-9');
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await fireEvent.click(screen.getByTestId('replays-refresh'));
    const error = await screen.findByTestId('replays-error');
    expect(error.textContent).toContain('Refresh failed: cannot reach the actor');
    expect(screen.getByTestId('replay-9')).toBeTruthy(); // the list loaded before stays
    expect(screen.getByText('Game #9')).toBeTruthy();
    expect(screen.queryByTestId('replay-dropped')).toBeNull(); // it is the newest still
    vi.stubGlobal('fetch', async (url: string) => {
      calls.push({ url, body: null });
      return url.includes('/replays') ? json({ replays: [] }) : json({});
    });
    server.replayIds = [10, 9];
    fakeActor(); // the actor is back: App's next poll is answered
    await rerender({ rules: tictactoe, answered: 1 });
    await screen.findByTestId('replay-10');
    expect(screen.queryByTestId('replays-error')).toBeNull();
  });

  it('does not ask again by itself after a refusal', async () => {
    const calls = fakeActor();
    const asked = () => calls.filter((c) => c.url.includes('/replays')).length;
    const { rerender } = render(Replays, { rules: tictactoe, answered: 0 });
    await screen.findByTestId('replay-9');
    server.replayIds = [10];
    server.replayVisits = [[1]]; // visits that do not fit the game: the page cannot read them
    await fireEvent.click(screen.getByTestId('replays-refresh'));
    await screen.findByTestId('replays-error');
    const before = asked();
    await rerender({ rules: tictactoe, answered: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(asked()).toBe(before);
    expect(screen.getByTestId('replay-9')).toBeTruthy();
  });

  it('says a stopped run is not updating: its rates dimmed, still shown', async () => {
    const now = Date.now() / 1000;
    const stats = { game: 'tictactoe', step: 20, history: [], games_per_s: 1121, samples_per_s: 900 };
    fakeActor({ ...stats, updated_at: now - 420 });
    const stopped = render(Dashboard, { game: 'tictactoe' });
    expect((await screen.findByTestId('not-updating')).textContent).toContain('not updating');
    const selfplay = screen.getByTestId('card-selfplay-rate');
    const training = screen.getByTestId('card-training-rate');
    for (const card of [selfplay, training]) {
      expect(card.classList.contains('stale')).toBe(true);
      expect(card.textContent).toContain('last seen');
    }
    expect(selfplay.textContent).toContain('1121');
    expect(training.textContent).toContain('900');
    stopped.unmount();
    fakeActor({ ...stats, updated_at: now - 4 });
    render(Dashboard, { game: 'tictactoe' });
    await screen.findByTestId('card-training');
    expect(screen.queryByTestId('not-updating')).toBeNull();
    expect(screen.getByTestId('card-training-rate').classList.contains('stale')).toBe(false);
    expect(screen.getByTestId('card-training-rate').textContent).not.toContain('last seen');
  });
});

describe('App: addresses', () => {
  afterEach(() => history.replaceState(null, '', '#'));

  it('shows the same game for an unknown one whatever came before, and says so', async () => {
    fakeActor();
    history.replaceState(null, '', '#/play/connect4');
    render(App);
    await screen.findByTestId('col-3');
    history.pushState(null, '', '#/play/chess');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect((await screen.findByTestId('route-note')).textContent).toBe(
      "no game 'chess': showing Tic-tac-toe",
    );
    expect(location.hash).toBe('#/play/tictactoe');
    await screen.findByTestId('cell-4');
    history.pushState(null, '', '#/Replays/TicTacToe/9');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await screen.findByTestId('replays-refresh');
    expect(location.hash).toBe('#/replays/tictactoe/9'); // a replay's id is kept
    expect(screen.queryByTestId('route-note')).toBeNull();
  });
});

