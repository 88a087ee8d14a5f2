import { describe, expect, it } from 'vitest';
import type { Health } from './api';
import { scrollToShow, selfplayOf } from './replays';

const health = (over: Partial<Health>): Health => ({
  trainingGame: 'connect4',
  workers: 2,
  rates: null,
  models: {},
  startup: null,
  ...over,
});

describe('whether self-play runs', () => {
  it('needs workers of this game, not only the game the command line named', () => {
    expect(selfplayOf(health({}), 'connect4')).toBe('starting'); // no rates yet: compiling
    const idle = { gamesPerS: 0, positionsPerS: 0 };
    expect(selfplayOf(health({ rates: idle }), 'connect4')).toBe('starting');
    const playing = { gamesPerS: 0, positionsPerS: 120 }; // no game finished yet
    expect(selfplayOf(health({ rates: playing }), 'connect4')).toBe('running');
    expect(selfplayOf(health({ workers: 0 }), 'connect4')).toBe('off'); // no workers: never starts
    expect(selfplayOf(health({ rates: playing }), 'othello')).toBe('off'); // another game's
    expect(selfplayOf(health({ trainingGame: null, workers: 0 }), 'connect4')).toBe('off');
  });
});

describe('scrolling the list to an entry', () => {
  // a list 250 px high, its entries 60 px, scrolled to 100
  it('moves the list as little as shows the entry whole, clear of the fade below', () => {
    expect(scrollToShow(100, 250, 150, 60)).toBe(100); // in sight: stays
    expect(scrollToShow(100, 250, 40, 60)).toBe(40); // above: to its top
    expect(scrollToShow(100, 250, 330, 60)).toBe(140); // below: its bottom at the list's
    expect(scrollToShow(100, 250, 330, 60, 40)).toBe(180); // and the fade's height more
    expect(scrollToShow(0, 50, 330, 60, 40)).toBe(330); // taller than the list: its top
  });
});
