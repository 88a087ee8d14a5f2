import { describe, expect, it } from 'vitest';
import {
  compact,
  duration,
  isStale,
  learningRate,
  percent,
  stepNumber,
  winProbability,
} from './format';

describe('format', () => {
  it('formats percentages, sizes and durations', () => {
    expect(percent(0.634)).toBe('63%');
    expect(percent(null)).toBe('–');
    expect(compact(123456)).toBe('123.5k');
    expect(compact(2_500_000)).toBe('2.5M');
    expect(compact(0.00123)).toBe('0.00123');
    expect(duration(42)).toBe('42 s');
    expect(duration(7200)).toBe('2.0 h');
  });
  it('writes learning rates as a config does, and steps with their thousands marked', () => {
    expect([0.02, 0.002, 0.0002, 2e-7, 0.00123456].map(learningRate)).toEqual([
      '0.02',
      '0.002',
      '0.0002',
      '2e-7',
      '0.00123',
    ]);
    expect(learningRate(null)).toBe('–');
    expect(stepNumber(80000)).toBe('80,000');
    expect(stepNumber(1200)).toBe('1,200');
    expect(stepNumber(20)).toBe('20');
  });
  it('maps the value to a win probability', () => {
    expect(winProbability(1)).toBe(1);
    expect(winProbability(-1)).toBe(0);
    expect(winProbability(0)).toBe(0.5);
    expect(winProbability(0.5)).toBe(0.75);
  });
  it('calls stats older than a minute stale: the learner writes every few seconds', () => {
    const now = 10_000;
    expect(isStale(now - 5, now)).toBe(false);
    expect(isStale(now - 60, now)).toBe(false);
    expect(isStale(now - 61, now)).toBe(true);
    expect(isStale(now - 420, now)).toBe(true); // a run stopped 7 min ago
    expect(isStale(null, now)).toBe(false); // no time written: nothing to say
    expect(isStale(now - 30, now, 20)).toBe(true);
  });
});
