// Reading agents' log files: the tail for `logs`, and what was appended since an offset for `logs --follow`.
import { join } from 'node:path';
import { fileSize, readRange, tailLines } from '../common/text-tail';
import type { LogChunk } from './types';

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
