import { describe, expect, it } from 'vitest';
import { canUndo, opponents, simulationPresets, undoMoves } from './play';

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
    expect(list[0].label).toBe('AlphaZero (step 300)');
    expect(list[1].checkpoint).toBe(200);
    expect(list.every((o) => !o.pretrained)).toBe(true);
    expect(list.find((o) => o.key === 'random')?.searches).toBe(false);
  });

  it('offers the shipped model next to the run model, not instead of it', () => {
    const list = opponents({ ...connect4, pretrainedStep: 246018 }, kept);
    expect(list.map((o) => o.key).slice(0, 3)).toEqual(['alphazero', 'pretrained', 'checkpoint:200']);
    expect(list[0]).toMatchObject({ label: 'AlphaZero, run (step 300)', pretrained: false });
    expect(list[1]).toMatchObject({
      label: 'AlphaZero, shipped (step 246018)',
      player: 'alphazero',
      checkpoint: null,
      pretrained: true,
    });
    // Without a run model the newest model is the shipped one: listed once.
    const fresh = { ...connect4, modelStep: 246018, modelSource: 'pretrained' as const };
    const alone = opponents({ ...fresh, pretrainedStep: 246018 }, []);
    expect(alone.filter((o) => o.player === 'alphazero').map((o) => o.label)).toEqual([
      'AlphaZero (step 246018)',
    ]);
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
