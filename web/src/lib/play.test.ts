import { describe, expect, it } from 'vitest';
import {
  answeredBy,
  bestMoves,
  canUndo,
  checkpointGone,
  fallbackOpponent,
  fromNetwork,
  nearestPreset,
  opponents,
  simulationPresets,
  thinkingKind,
  undoMoves,
  verdict,
} from './play';

describe('play helpers', () => {
  const connect4 = {
    name: 'connect4',
    rows: 6,
    cols: 7,
    numActions: 7,
    modelStep: 300,
    modelSource: 'run' as const,
    pretrainedStep: null,
    players: ['alphazero', 'mcts', 'random', 'perfect'],
    maxSimulations: 800,
  };
  const kept = [
    { step: 100, createdAt: 1 },
    { step: 300, createdAt: 3 },
    { step: 200, createdAt: 2 },
  ];

  it('lists the opponents with the model step and older checkpoints', () => {
    const list = opponents(connect4, kept);
    expect(list.map((o) => o.key)).toEqual([
      'alphazero',
      'checkpoint:200',
      'checkpoint:100',
      'mcts',
      'random',
      'perfect',
    ]);
    expect(list[0].label).toBe('AlphaZero, step 300');
    expect(list[1].label).toBe('AlphaZero, step 200 (older)');
    expect(list[1].checkpoint).toBe(200);
    expect(list.every((o) => !o.pretrained)).toBe(true);
    expect(list.find((o) => o.key === 'random')?.searches).toBe(false);
  });

  it('offers the shipped model next to the run model, not instead of it', () => {
    const list = opponents({ ...connect4, pretrainedStep: 246018 }, kept);
    expect(list.map((o) => o.key).slice(0, 3)).toEqual(['alphazero', 'pretrained', 'checkpoint:200']);
    expect(list[0]).toMatchObject({ label: 'AlphaZero, step 300 (run)', pretrained: false });
    expect(list[1]).toMatchObject({
      label: 'AlphaZero, step 246018 (shipped)',
      player: 'alphazero',
      checkpoint: null,
      pretrained: true,
    });
    // Without a run model the newest model is the shipped one: listed once.
    const fresh = { ...connect4, modelStep: 246018, modelSource: 'pretrained' as const };
    const alone = opponents({ ...fresh, pretrainedStep: 246018 }, []);
    expect(alone.filter((o) => o.player === 'alphazero').map((o) => o.label)).toEqual([
      'AlphaZero, step 246018 (shipped)',
    ]);
  });

  it('says the shipped model is the shipped one when the run has none of its own', () => {
    // "AlphaZero, step 132411" on a fresh run would read as the run's own model
    const fresh = { ...connect4, modelStep: 132411, modelSource: 'pretrained' as const };
    expect(opponents({ ...fresh, pretrainedStep: 132411 }, [])[0]).toMatchObject({
      key: 'alphazero',
      label: 'AlphaZero, step 132411 (shipped)',
      pretrained: false, // the newest model: it answers without asking for the shipped one
    });
  });

  it('names the step before the kind of a run model, so a narrow closed select shows it', () => {
    const list = opponents({ ...connect4, pretrainedStep: 246018 }, kept);
    for (const o of list.filter((o) => o.player === 'alphazero')) {
      expect(o.label).toMatch(/^AlphaZero, step \d+( \(\w+\))?$/);
    }
  });

  it('replaces a deleted checkpoint by the nearest kept one after it, else the newest', () => {
    const list = opponents(connect4, kept); // checkpoints 200 and 100 offered
    expect(fallbackOpponent(list, 'checkpoint:50')?.key).toBe('checkpoint:100');
    expect(fallbackOpponent(list, 'checkpoint:150')?.key).toBe('checkpoint:200');
    expect(fallbackOpponent(list, 'checkpoint:250')?.key).toBe('alphazero');
    expect(fallbackOpponent(list, 'perfect')?.key).toBe('alphazero');
    expect(fallbackOpponent([], 'checkpoint:1')).toBeNull();
    expect(checkpointGone(404, 'checkpoint 7000 of connect4 is not kept')).toBe(true);
    expect(checkpointGone(404, 'no such game')).toBe(false);
    expect(checkpointGone(503, 'checkpoint 7000 of connect4 is not kept')).toBe(false);
  });

  it('keeps the nearest simulation count between opponents', () => {
    const alphazero = simulationPresets(800, true);
    const mcts = simulationPresets(800, false);
    expect(mcts[nearestPreset(mcts, 16)]).toBe(16);
    expect(mcts[nearestPreset(mcts, 0)]).toBe(1);
    expect(alphazero[nearestPreset(alphazero, 1)]).toBe(1);
    expect(alphazero[nearestPreset(alphazero, 100)]).toBe(128);
    expect(alphazero[nearestPreset(alphazero, 5000)]).toBe(800);
    expect(nearestPreset(simulationPresets(100, true), 128)).toBe(6); // 100, the maximum
  });

  it('tells a search from the solver verdict and random moves', () => {
    expect(thinkingKind({ player: 'alphazero', note: null })).toBe('search');
    expect(thinkingKind({ player: 'mcts', note: null })).toBe('search');
    expect(thinkingKind({ player: 'random', note: null })).toBe('random');
    expect(thinkingKind({ player: 'perfect', note: null })).toBe('verdict');
    // the solver timed out and AlphaZero searched: its search is shown
    expect(thinkingKind({ player: 'perfect', note: 'The solver cannot finish' })).toBe('search');
    expect(bestMoves({ visits: [0, 0.5, 0, 0.5, 0, 0, 0] })).toEqual([1, 3]);
    expect([1, 0.2, -1].map(verdict)).toEqual(['win', 'draw', 'loss']);
  });
  it('names the model that answered, and has a prior only from a network', () => {
    expect(answeredBy({ modelStep: 151200 }, 'AlphaZero, step 148500 (run)')).toBe(
      'AlphaZero, step 151200',
    );
    expect(answeredBy({ modelStep: null }, 'Classic MCTS (random rollouts)')).toBe(
      'Classic MCTS (random rollouts)',
    );
    expect(fromNetwork({ modelStep: 0 })).toBe(true);
    expect(fromNetwork({ modelStep: null })).toBe(false);
  });

  it('offers simulation presets up to the maximum', () => {
    expect(simulationPresets(100, true)).toEqual([0, 1, 4, 16, 32, 64, 100]);
    expect(simulationPresets(64, false)).toEqual([1, 4, 16, 32, 64]);
  });
  it('undo takes back the bot reply and the human move', () => {
    expect(undoMoves([4, 0, 8, 2], 0)).toEqual([4, 0]);
    expect(undoMoves([4, 0, 8], 0)).toEqual([4, 0]);
    expect(undoMoves([4, 0, 8, 2], 1)).toEqual([4, 0, 8]);
    expect(undoMoves([4, 0], 1)).toEqual([4]);
    expect(canUndo([4], 1)).toBe(false);
    expect(canUndo([4, 0], 1)).toBe(true);
    expect(canUndo([], 0)).toBe(false);
  });
});
