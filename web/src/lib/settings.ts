/**
 * The Settings card's rows: what a run trains with, grouped, each value beside the game's
 * default where the two differ. Without it two tabs of two runs looked the same.
 */
import { isFiniteNumber, type Json, type RunSettings } from './api';

export interface SettingRow {
  /** The config's name of the setting, or of the summary ('shape', 'schedule'). */
  key: string;
  label: string;
  value: string;
  /** The game's default where the run's value differs from it, else null. */
  default: string | null;
}

export interface SettingGroup {
  title: string;
  /** The values tuned most: shown at once. */
  main: SettingRow[];
  /** The rest: behind the card's expander. */
  more: SettingRow[];
  /** Why the group has no rows. */
  note: string | null;
}

/** A row's text from all of one side's values (the run's or the defaults'); null: not there. */
type Show = (values: Json) => string | null;

interface Spec {
  key: string;
  label?: string;
  show?: Show;
}

/** A setting's value as a config file writes it, large counts shortened: 200k, 2,000. */
export function settingValue(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.map(settingValue).join(', ') : 'none';
  if (typeof value === 'number') return numberText(value);
  if (value === null || value === undefined) return '–';
  return String(value);
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (!Number.isInteger(value)) return String(Number(value.toPrecision(6)));
  if (Math.abs(value) >= 10_000 && value % 1_000_000 === 0) return `${value / 1_000_000}M`;
  if (Math.abs(value) >= 10_000 && value % 1_000 === 0) return `${value / 1_000}k`;
  return value.toLocaleString('en-US');
}

/** "resnet 4×32" (blocks × channels), "mlp 2×128" (layers × width). */
export function networkShape(values: Json): string | null {
  const { network } = values;
  if (typeof network !== 'string') return null;
  const [depth, width] =
    network === 'mlp' ? [values.mlp_layers, values.hidden] : [values.blocks, values.channels];
  return isFiniteNumber(depth) && isFiniteNumber(width) ? `${network} ${depth}×${width}` : network;
}

/** The learning rate's schedule in a few words: "×0.1 at 26k, 80k", "cosine to ×0.01 by 200k". */
export function scheduleText(values: Json): string | null {
  const kind = values.lr_schedule;
  if (typeof kind !== 'string') return null;
  const text = stepsDown(values, kind);
  const warmup = values.warmup_steps;
  return isFiniteNumber(warmup) && warmup > 0 ? `${text}, ${settingValue(warmup)} warm-up` : text;
}

function stepsDown(values: Json, kind: string): string {
  const gamma = `×${settingValue(values.lr_gamma)}`;
  const milestones = Array.isArray(values.lr_milestones) ? values.lr_milestones : [];
  if (kind === 'step') return `${gamma} every ${settingValue(values.lr_step_every)}`;
  if (kind === 'milestones' && milestones.length) return `${gamma} at ${settingValue(milestones)}`;
  if (kind !== 'cosine') return kind;
  const [low, steps] = [settingValue(values.lr_min_ratio), settingValue(values.lr_total_steps)];
  return `cosine to ×${low} by ${steps}`;
}

const LEARNER: { title: string; main: Spec[]; more: string[] }[] = [
  {
    title: 'Network',
    main: [{ key: 'shape', label: 'network', show: networkShape }, { key: 'precision' }],
    more: ['network', 'blocks', 'channels', 'hidden', 'mlp_layers'],
  },
  {
    title: 'Optimiser',
    main: [
      { key: 'optimizer' },
      { key: 'lr' },
      { key: 'schedule', show: scheduleText },
      { key: 'batch_size', label: 'batch size' },
    ],
    more: [
      'momentum', 'weight_decay', 'lr_schedule', 'warmup_steps', 'lr_step_every',
      'lr_milestones', 'lr_gamma', 'lr_total_steps', 'lr_min_ratio', 'value_loss_weight',
      'root_value_mix',
    ],
  },
  {
    title: 'Replay',
    main: [
      { key: 'window_positions', label: 'window' },
      { key: 'replay_ratio', label: 'replay ratio' },
    ],
    more: [
      'min_positions', 'poll_every_steps', 'poll_interval_s', 'read_chunk_rows', 'delete_every_s',
    ],
  },
];
const SELFPLAY_MAIN: Spec[] = [{ key: 'simulations' }, { key: 'c_puct' }];
const PUBLISHING = [
  'publish_every', 'keep_last_models', 'milestone_every', 'max_milestones', 'checkpoint_every',
  'stats_every_s', 'history_cap',
];

function rows(specs: Spec[], values: Json, defaults: Json | null): SettingRow[] {
  return specs.flatMap(({ key, label = key, show }) => {
    const text = show ?? ((side: Json) => (key in side ? settingValue(side[key]) : null));
    const value = text(values);
    if (value === null) return [];
    const base = defaults ? text(defaults) : null;
    return [{ key, label, value, default: base !== null && base !== value ? base : null }];
  });
}

const plain = (keys: string[]): Spec[] => keys.map((key) => ({ key }));

/** The card's groups: the learner's (stats.json's config and its defaults), then self-play's. */
export function settingGroups(settings: RunSettings): SettingGroup[] {
  const { config, defaults, selfplay } = settings;
  const learner = (title: string, main: Spec[], more: string[]): SettingGroup => ({
    title,
    main: rows(main, config, defaults),
    more: rows(plain(more), config, defaults),
    note: null,
  });
  const values: Json = {};
  const played: Json = {};
  for (const [name, setting] of Object.entries(selfplay ?? {})) {
    values[name] = setting.value;
    played[name] = setting.default;
  }
  const mainKeys = SELFPLAY_MAIN.map((spec) => spec.key);
  const selfplayMore = Object.keys(values).filter((name) => !mainKeys.includes(name));
  return [
    ...LEARNER.map((group) => learner(group.title, group.main, group.more)),
    {
      title: 'Self-play',
      main: rows(SELFPLAY_MAIN, values, played),
      more: rows(plain(selfplayMore), values, played),
      note: selfplay ? null : 'not known: self-play has not started in this run folder',
    },
    learner('Publishing', [], PUBLISHING),
  ];
}

/** Rows of more than one setting, each of which also has a row of its own. */
const SUMMARIES = new Set(['shape', 'schedule']);

/** How many settings differ from the game's defaults: of all, or of the rows behind the
 * expander (so that a change there is not missed). */
export function changedCount(groups: SettingGroup[], part: 'all' | 'more' = 'all'): number {
  const shown = groups.flatMap((g) => (part === 'all' ? [...g.main, ...g.more] : g.more));
  return shown.filter((row) => row.default !== null && !SUMMARIES.has(row.key)).length;
}
