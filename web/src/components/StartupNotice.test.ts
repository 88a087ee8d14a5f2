import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseHealth, type Startup } from '../lib/api';
import StartupNotice, { POLL_MS, startupNotice } from './StartupNotice.svelte';

const STARTING: Startup = {
  selfplay: 'starting',
  moveSearches: 'waiting',
  searchesReady: [],
  seconds: 23.4,
};
const PLAYING: Startup = {
  selfplay: 'playing',
  moveSearches: 'compiling',
  searchesReady: ['tictactoe'],
  seconds: 61,
};

describe('what the page says while the actor starts', () => {
  it('the Training page says that self-play compiles, how long it takes, and for how long', () => {
    const text = startupNotice(STARTING, 'dashboard', 'tictactoe', 'Tic-tac-toe');
    expect(text).toContain('Self-play is starting: a first start compiles its search');
    expect(text).toContain('about half a minute on an idle 2-core machine');
    expect(text).toContain('(23 s since the start)');
    expect(startupNotice(PLAYING, 'dashboard', 'tictactoe', 'Tic-tac-toe')).toBeNull();
  });

  it("the Play page says when the game's move search is not prepared yet", () => {
    expect(startupNotice(STARTING, 'play', 'tictactoe', 'Tic-tac-toe')).toContain(
      'The Tic-tac-toe move search is being prepared once self-play has started',
    );
    const connect4 = startupNotice(PLAYING, 'play', 'connect4', 'Connect 4');
    expect(connect4).toContain('prepared now, one game after the other (a first start compiles');
    expect(connect4).toContain("about 15 s a game on an idle machine). Until then the bot's first");
    expect(startupNotice(PLAYING, 'play', 'tictactoe', 'Tic-tac-toe')).toBeNull(); // prepared
    const ready: Startup = { ...PLAYING, moveSearches: 'ready' };
    expect(startupNotice(ready, 'play', 'connect4', 'Connect 4')).toBeNull();
    const failed: Startup = { ...PLAYING, moveSearches: 'failed' };
    expect(startupNotice(failed, 'play', 'connect4', 'Connect 4')).toBeNull();
  });

  it('says nothing on the Replays page, or for an actor that does not say', () => {
    expect(startupNotice(STARTING, 'replays', 'tictactoe', 'Tic-tac-toe')).toBeNull();
    expect(startupNotice(null, 'dashboard', 'tictactoe', 'Tic-tac-toe')).toBeNull();
  });

  it('reads the startup of the health answer; a state it does not know shows nothing', () => {
    const body = {
      training_game: 'tictactoe',
      workers: [],
      models: {},
      startup: { selfplay: 'starting', move_searches: 'waiting', searches_ready: [], seconds: 4 },
    };
    expect(parseHealth(body).startup).toEqual({ ...STARTING, seconds: 4 });
    const newer = { ...body, startup: { ...body.startup, selfplay: 'warming', move_searches: 7 } };
    const read = parseHealth(newer).startup;
    expect([read?.selfplay, read?.moveSearches]).toEqual(['off', 'off']);
    expect(startupNotice(read, 'dashboard', 'tictactoe', 'Tic-tac-toe')).toBeNull();
    expect(parseHealth({ ...body, startup: undefined }).startup).toBeNull();
  });
});

describe('the notice', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('shows while self-play starts and goes once it plays', async () => {
    vi.useFakeTimers();
    let startup = {
      selfplay: 'starting',
      move_searches: 'waiting',
      searches_ready: [] as string[],
      seconds: 9,
    };
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ startup })));
    vi.stubGlobal('fetch', fetchMock);
    render(StartupNotice, { view: 'dashboard', game: 'tictactoe', title: 'Tic-tac-toe' });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId('startup-notice').textContent).toContain('(9 s since the start)');
    startup = { ...startup, selfplay: 'playing', move_searches: 'compiling', seconds: 31 };
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(screen.queryByTestId('startup-notice')).toBeNull();
  });
});
