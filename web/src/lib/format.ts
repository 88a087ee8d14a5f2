/** Small formatting helpers shared by the views. */

export function percent(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${(value * 100).toFixed(digits)}%`;
}

export function compact(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(digits)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(digits)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(digits)}k`;
  if (abs >= 100 || Number.isInteger(value)) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** A learning rate as a config writes it: 0.02, 0.0002, 2e-7 (not compact's 0.000200). */
export function learningRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return String(Number(value.toPrecision(3)));
}

/** A training step with its thousands marked: "80,000". */
export function stepNumber(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** "12 s", "5 min", "3 h", "2 d" from seconds. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** The bot's win probability from its value (-1..1, its own view). */
export function winProbability(value: number): number {
  return Math.max(0, Math.min(1, (value + 1) / 2));
}

/**
 * Whether stats written at `updatedAt` (seconds) are too old to be a running learner's: it
 * writes stats.json every few seconds, so a minute without one means the run has stopped.
 */
export function isStale(updatedAt: number | null | undefined, now: number, limitS = 60): boolean {
  if (updatedAt === null || updatedAt === undefined || !Number.isFinite(updatedAt)) return false;
  return now - updatedAt > limitS;
}

/**
 * A share in 0..1 as a percentage with `digits` decimals, with more (up to 3) where it would
 * read as 100% without being all: 4,518 of 4,520 is "99.96%", not "100.0%".
 */
export function percentBelowAll(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  let shown = digits;
  while (value < 1 && shown < digits + 3 && (value * 100).toFixed(shown) === (100).toFixed(shown)) {
    shown += 1;
  }
  return `${(value * 100).toFixed(shown)}%`;
}

/**
 * `count` of `total` as a percentage, or as the counts ("4,518 / 4,520") where the percentage
 * would round to 100% without being all: perfect play would seem to come and go on a "100.0%".
 */
export function shareOf(count: number, total: number, digits = 1): string {
  if (total <= 0) return '–';
  const text = percent(count / total, digits);
  if (count < total && text === percent(1, digits)) {
    return `${stepNumber(count)} / ${stepNumber(total)}`;
  }
  return text;
}

/** A run's training time: "42 s", "7 min", "1 h 12 min", "2 d 3 h". */
export function trainingTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/**
 * Tick labels of a time axis (seconds): one unit for all of them, the one the largest tick
 * reads best in ("30 s", "12 min", "1.5 h").
 */
export function timeTicks(splits: number[]): string[] {
  const top = Math.max(0, ...splits.map(Math.abs));
  const [unit, name] = top >= 7200 ? [3600, 'h'] : top >= 120 ? [60, 'min'] : [1, 's'];
  return splits.map((v) => {
    const value = v / unit;
    const text = Number.isInteger(Math.round(value * 10) / 10) ? value.toFixed(0) : value.toFixed(1);
    return v === 0 ? '0' : `${text} ${name}`;
  });
}
