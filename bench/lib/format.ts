// How the harness prints: one line at a time to stdout, numbers rounded the same everywhere.
import type { Stats } from './stats';

export const say = (line = ''): void => void process.stdout.write(line + '\n');
export const f0 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-');
export const f1 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '-');
/** A statistic as "median (min–max)". */
export const fmt = (s: Stats | undefined): string => (s && s.n ? `${f0(s.median)} (${f0(s.min)}–${f0(s.max)})` : '-');
/** The first `lines` lines of an error's message. */
export const firstLines = (err: unknown, lines: number): string =>
  String((err as Error)?.message ?? err)
    .split('\n')
    .slice(0, lines)
    .join('\n');
