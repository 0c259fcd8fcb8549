// The tail of a log, for error messages and `logs`: one definition of "the last N lines"
// (empty lines dropped), whether the text came from a file, a container or a remote host.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Lines quoted from an agent's stderr in error messages and events. */
export const STDERR_LINES = 15;

/** The last `n` non-empty lines of `text`. */
export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .slice(-n)
    .join('\n');
}

/** A file's size; 0 when there is none. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes [from, to) of a file, as text. */
export function readRange(path: string, from: number, to: number): string {
  if (to <= from) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of a file, reading at most `maxBytes` from its end ('' when there is no file). */
export function tailLines(path: string, lines: number, maxBytes = 1 << 20): string {
  const size = fileSize(path);
  return lastLines(readRange(path, Math.max(0, size - maxBytes), size), lines);
}
