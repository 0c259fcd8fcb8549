// Reading agents' log files: the tail for `logs`, and what was appended since an offset for `logs --follow`.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogChunk } from './types';

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

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

/** The last `lines` lines of a file, reading at most `maxBytes` from its end. */
export function tailLines(path: string, lines: number, maxBytes = 1 << 20): string {
  const size = fileSize(path);
  const text = readRange(path, Math.max(0, size - maxBytes), size);
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .slice(-lines)
    .join('\n');
}

/** stdout.log and stderr.log of one agent directory: a tail, or what followed the offsets. */
export function readLogDir(dir: string, tail: number, offsets?: { stdout: number; stderr: number }): LogChunk {
  const read = (name: 'stdout' | 'stderr') => {
    const path = join(dir, `${name}.log`);
    const size = fileSize(path);
    if (!offsets) return { text: tail > 0 ? tailLines(path, tail) : '', size };
    const from = size < offsets[name] ? 0 : offsets[name]; // truncated or replaced: start over
    return { text: readRange(path, from, size), size };
  };
  const out = read('stdout');
  const err = read('stderr');
  return { stdout: out.text, stderr: err.text, offsets: { stdout: out.size, stderr: err.size } };
}
