import { describe, expect, it } from 'vitest';
import { parseStats } from './api';
import {
  changedCount,
  networkShape,
  scheduleText,
  settingGroups,
  settingValue,
  type SettingGroup,
} from './settings';

/** Connect 4's defaults (learner/config.py), as stats.json's "config_defaults" holds them. */
const CONNECT4 = {
  precision: 'float32', network: 'resnet', blocks: 4, channels: 32, hidden: 64, mlp_layers: 2,
  optimizer: 'sgd', lr: 0.02, momentum: 0.9, weight_decay: 0.0001, lr_schedule: 'milestones',
  warmup_steps: 0, lr_step_every: 100000, lr_milestones: [26000, 80000], lr_gamma: 0.1,
  lr_total_steps: 200000, lr_min_ratio: 0.01, batch_size: 256, value_loss_weight: 1.0,
  root_value_mix: 0.0, window_positions: 200000, min_positions: 5000, replay_ratio: 8.0,
  poll_every_steps: 20, poll_interval_s: 0.5, read_chunk_rows: 2000, delete_every_s: 60.0,
  publish_every: 250, keep_last_models: 10, milestone_every: 10000, max_milestones: 32,
  checkpoint_every: 250, stats_every_s: 5.0, history_cap: 1000,
};

function statsOf(config: object, selfplay?: object) {
  return parseStats({
    game: 'connect4',
    config: { ...CONNECT4, threads: 4, device: 'cpu', ...config },
    config_defaults: CONNECT4,
    selfplay_config: selfplay,
  });
}

/** Each group's rows as text, as the card shows them. */
function shown(groups: SettingGroup[], part: 'main' | 'more') {
  return Object.fromEntries(
    groups.map((g) => [
      g.title,
      g[part].map((r) => `${r.label} ${r.value}${r.default ? ` · default ${r.default}` : ''}`),
    ]),
  );
}

describe('settings', () => {
  it('writes values as a config does, large counts shortened', () => {
    const numbers = [200000, 30000, 5000, 1_000_000, 12345, 0.0001, 2e-7, 16, 1.5];
    expect(numbers.map(settingValue)).toEqual(
      ['200k', '30k', '5,000', '1M', '12,345', '0.0001', '2e-7', '16', '1.5'],
    );
    expect([[26000, 80000], [], true, 'adam', null].map(settingValue)).toEqual([
      '26k, 80k',
      'none',
      'true',
      'adam',
      '–',
    ]);
  });

  it('sums up the network and the learning-rate schedule', () => {
    expect(networkShape(CONNECT4)).toBe('resnet 4×32');
    expect(networkShape({ ...CONNECT4, network: 'mlp', hidden: 128 })).toBe('mlp 2×128');
    expect(networkShape({})).toBeNull();
    expect(scheduleText(CONNECT4)).toBe('×0.1 at 26k, 80k');
    expect(scheduleText({ ...CONNECT4, lr_schedule: 'step', warmup_steps: 500 })).toBe(
      '×0.1 every 100k, 500 warm-up',
    );
    expect(scheduleText({ ...CONNECT4, lr_schedule: 'cosine' })).toBe('cosine to ×0.01 by 200k');
    expect(scheduleText({ ...CONNECT4, lr_schedule: 'constant' })).toBe('constant');
  });

  it('shows the most-used values at once, each change with its default', () => {
    const stats = statsOf(
      { lr: 0.01, lr_schedule: 'constant', channels: 64, weight_decay: 0.0005 },
      {
        simulations: { value: 200, default: 128 },
        c_puct: { value: 1.5, default: 1.5 },
        opening_moves: { value: 4, default: 14 },
      },
    );
    const groups = settingGroups(stats.settings);
    expect(shown(groups, 'main')).toEqual({
      Network: ['network resnet 4×64 · default resnet 4×32', 'precision float32'],
      Optimiser: [
        'optimizer sgd',
        'lr 0.01 · default 0.02',
        'schedule constant · default ×0.1 at 26k, 80k',
        'batch size 256',
      ],
      Replay: ['window 200k', 'replay ratio 8'],
      'Self-play': ['simulations 200 · default 128', 'c_puct 1.5'],
      Publishing: [],
    });
    const more = shown(groups, 'more');
    expect(more.Network).toContain('channels 64 · default 32');
    expect(more.Optimiser).toContain('weight_decay 0.0005 · default 0.0001');
    expect(more.Optimiser).toContain('lr_milestones 26k, 80k'); // unchanged
    expect(more['Self-play']).toEqual(['opening_moves 4 · default 14']);
    expect(more.Publishing).toContain('publish_every 250');
    // the machine's settings (threads, device) are not the run's: not shown
    expect(Object.values(more).flat().some((row) => row.startsWith('threads'))).toBe(false);
    // settings, not rows: the network's and the schedule's summaries count once
    expect(changedCount(groups)).toBe(6);
    expect(changedCount(groups, 'more')).toBe(4);
  });

  it('marks nothing where the defaults are not known, and says self-play is not', () => {
    const old = parseStats({ config: { lr: 0.01, batch_size: 64, publish_every: 60 } });
    const groups = settingGroups(old.settings);
    expect(shown(groups, 'main').Optimiser).toEqual(['lr 0.01', 'batch size 64']);
    expect(groups.find((g) => g.title === 'Self-play')?.note).toMatch(/not known/);
    expect(changedCount(groups)).toBe(0);
    const none = settingGroups(parseStats({}).settings);
    expect(none.every((g) => g.main.length === 0 && g.more.length === 0)).toBe(true);
  });

  it("reads the API's selfplay_config, skipping entries that are not objects", () => {
    const simulations = { value: 64, default: 100 };
    const stats = parseStats({ selfplay_config: { simulations, x: 3 } });
    expect(stats.settings.selfplay).toEqual({ simulations });
    expect(parseStats({ selfplay_config: null }).settings.selfplay).toBeNull();
    expect(parseStats({ config_defaults: [1] }).settings.defaults).toBeNull();
  });
});
