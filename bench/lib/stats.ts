// Medians and spreads of repeated measurements.

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  runs: number[];
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], n, runs: xs };
}

/** Median and max only (the per-agent step latencies of one run). */
export interface Summary {
  median: number;
  max: number;
  n: number;
}

export function summary(xs: number[]): Summary {
  return { median: stats(xs).median, max: xs.length ? Math.max(...xs) : NaN, n: xs.length };
}

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
export { sleep } from '../../src/common/sleep';
