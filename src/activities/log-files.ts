// Agents' log files on the machine that runs them: rotation, and reading for `logs` (a tail, or
// for `logs --follow` what followed an offset, in bounded chunks).
//
// Rotation is copy-truncate, done by the runner (each watch round, and before each start): a
// local agent is detached and outlives the worker, and writes to stdout.log/stderr.log through
// descriptors it holds in append mode, so the file it writes to can never be renamed away under
// it; its content is copied to `NAME.log.1` (older copies shift to .2, .3, ...; the oldest beyond
// `keep` is deleted) and the file truncated, and the agent's next write lands at the new end.
// Nothing runs beside the agent: when no worker runs, nothing rotates and the file grows until
// one does (the agent never stalls or loses its output for want of a reader). The price: the
// bytes an agent writes in the instant between the last copy and the truncate are lost, and a
// file may exceed max_size by what the agent writes between two watch rounds (half a second).
//
// Offsets are logical: bytes written to the stream since its first byte, all rotations counted.
// `NAME.log.base` holds how many bytes were rotated away before the current file's first byte,
// so a follower's offset finds its place in the current file or in a rotated copy, and a
// follower never rereads or skips a rotation, however fast the agent writes.
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileSize, lastLines, tailLines } from '../common/text-tail';
import type { LogChunk } from './types';

export interface LogRotation {
  /** rotate once the file reaches this size */
  maxBytes: number;
  /** rotated copies kept (NAME.log.1 ... NAME.log.KEEP); 0 keeps none */
  keep: number;
}
export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, keep: 3 };

/**
 * The most `logs --follow` reads of one stream per request: memory stays bounded whatever the
 * agent writes. Through Temporal (an agent on another host) both streams' chunks travel in one
 * payload, well under its 2 MB limit; read in place, smaller chunks keep the CLI's memory lower
 * (measured: a follower of 200 MB peaks at about 25 MB above its idle size with 64 KiB chunks,
 * about 50 MB with 1 MiB ones).
 */
export const FOLLOW_CHUNK_BYTES = 256 * 1024;
export const LOCAL_FOLLOW_CHUNK_BYTES = 64 * 1024;

const STREAMS = ['stdout', 'stderr'] as const;
const copyOf = (path: string, n: number) => `${path}.${n}`;
const basePath = (path: string) => `${path}.base`;

/** Bytes rotated away before the current file's first byte. */
function readBase(path: string): number {
  try {
    return Number(readFileSync(basePath(path), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Appends bytes [from, to) of `src` to `dst`, in bounded pieces. */
function appendRange(src: string, dst: string, from: number, to: number) {
  const inFd = openSync(src, 'r');
  const outFd = openSync(dst, 'a');
  try {
    const buf = Buffer.alloc(Math.min(FOLLOW_CHUNK_BYTES, Math.max(1, to - from)));
    for (let pos = from; pos < to;) {
      const n = readSync(inFd, buf, 0, Math.min(buf.length, to - pos), pos);
      if (n <= 0) break;
      let off = 0;
      while (off < n) off += writeSync(outFd, buf, off, n - off);
      pos += n;
    }
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
}

/** Rotates one log file if it reached maxBytes; true when it did. */
export function rotateIfDue(path: string, { maxBytes, keep }: LogRotation): boolean {
  const size = fileSize(path);
  if (size < maxBytes || size === 0) return false;
  const base = readBase(path);
  let moved: number;
  if (keep > 0) {
    rmSync(copyOf(path, keep), { force: true });
    for (let i = keep - 1; i >= 1; i--) if (existsSync(copyOf(path, i))) renameSync(copyOf(path, i), copyOf(path, i + 1));
    copyFileSync(path, copyOf(path, 1));
    moved = fileSize(copyOf(path, 1));
    // What the agent wrote during the copy is copied too, so the loss is only what it writes
    // between the last size read and the truncate.
    for (let round = 0; round < 3; round++) {
      const now = fileSize(path);
      if (now <= moved) break;
      appendRange(path, copyOf(path, 1), moved, now);
      moved = now;
    }
  } else moved = fileSize(path);
  truncateSync(path, 0);
  writeFileSync(`${basePath(path)}.tmp`, String(base + moved));
  renameSync(`${basePath(path)}.tmp`, basePath(path)); // atomic: readers see the old base or the new
  return true;
}

/** Rotates an agent's stdout.log and stderr.log if due. */
export function rotateLogDir(dir: string, rotation: LogRotation = DEFAULT_LOG_ROTATION): void {
  for (const s of STREAMS) rotateIfDue(join(dir, `${s}.log`), rotation);
}

/** The last `lines` lines of a stream, from the current file and, if it holds fewer, the rotated copies. */
export function tailAcrossRotation(path: string, lines: number): string {
  let text = tailLines(path, lines);
  let count = text ? text.split('\n').length : 0;
  for (let i = 1; count < lines && existsSync(copyOf(path, i)); i++) {
    const older = tailLines(copyOf(path, i), lines - count);
    if (!older) continue;
    text = text ? `${older}\n${text}` : older;
    count = text.split('\n').length;
  }
  return lastLines(text, lines);
}

/** Cuts a full chunk after its last newline (when it has one), so lines are not split between reads. */
function wholeLines(buf: Buffer, full: boolean): Buffer {
  if (!full) return buf;
  const nl = buf.lastIndexOf(0x0a);
  return nl >= 0 ? buf.subarray(0, nl + 1) : buf;
}

function readBytes(path: string, from: number, max: number, available: number): Buffer {
  const len = Math.max(0, Math.min(max, available - from));
  if (len === 0) return Buffer.alloc(0);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(len);
    const n = readSync(fd, buf, 0, len, from);
    return wholeLines(buf.subarray(0, n), len === max);
  } finally {
    closeSync(fd);
  }
}

/**
 * At most `max` bytes of the stream from logical offset `offset` (see above): from a rotated
 * copy if that is where the offset now lies, else from the current file. Returns the text, the
 * next offset and whether more is waiting.
 */
export function readStreamFrom(path: string, offset: number, max = FOLLOW_CHUNK_BYTES): { text: string; next: number; more: boolean } {
  const base = readBase(path);
  if (offset >= base) {
    const size = fileSize(path);
    const pos = offset - base;
    // Past the end: a rotation between its truncate and its new base (wait), or the files were
    // reset (the state folder deleted): start over.
    if (pos > size)
      return base === 0 && !existsSync(copyOf(path, 1)) ? readStreamFrom(path, 0, max) : { text: '', next: offset, more: false };
    const buf = readBytes(path, pos, max, size);
    return { text: buf.toString('utf8'), next: offset + buf.length, more: pos + buf.length < size };
  }
  // In the rotated copies: .1 ends where the current file begins, .2 where .1 begins, ...
  let end = base;
  let oldest = base;
  for (let i = 1; existsSync(copyOf(path, i)); i++) {
    const size = fileSize(copyOf(path, i));
    const start = end - size;
    if (offset >= start) {
      const buf = readBytes(copyOf(path, i), offset - start, max, size);
      return { text: buf.toString('utf8'), next: offset + buf.length, more: true };
    }
    end = oldest = start;
  }
  // Older than anything kept: say how much was rotated away unread, and go on from what is kept.
  return {
    text: `(a2a-deploy: ${oldest - offset} bytes of this log were rotated away before they could be read)\n`,
    next: oldest,
    more: true,
  };
}

/** stdout.log and stderr.log of one agent directory: a tail, or at most a chunk each after the offsets. */
export function readLogDir(
  dir: string,
  tail: number,
  offsets?: { stdout: number; stderr: number },
  maxBytes = FOLLOW_CHUNK_BYTES,
): LogChunk {
  const read = (name: 'stdout' | 'stderr') => {
    const path = join(dir, `${name}.log`);
    if (!offsets) return { text: tail > 0 ? tailAcrossRotation(path, tail) : '', next: readBase(path) + fileSize(path), more: false };
    return readStreamFrom(path, offsets[name], maxBytes);
  };
  const out = read('stdout');
  const err = read('stderr');
  return {
    stdout: out.text,
    stderr: err.text,
    offsets: { stdout: out.next, stderr: err.next },
    ...(out.more || err.more ? { more: true } : {}),
  };
}
