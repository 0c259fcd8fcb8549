// Log rotation (copy-truncate with logical offsets) and reading across it, on real files.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStreamFrom, rotateIfDue, tailAcrossRotation } from '../../src/activities/log-files';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-logfiles-'));
  log = join(dir, 'stdout.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');

/** Everything a follower reads from `offset` on, in chunks of `max` bytes. */
function drain(offset: number, max: number): { text: string; next: number } {
  let text = '';
  for (;;) {
    const r = readStreamFrom(log, offset, max);
    text += r.text;
    offset = r.next;
    if (!r.more) return { text, next: offset };
  }
}

test('rotation keeps `keep` copies, drops the oldest, and a follower reads on across it without loss or repeat', () => {
  appendFileSync(log, lines(0, 10)); // 70 bytes
  const first = drain(0, 16);
  expect(first.text).toBe(lines(0, 10));
  expect(rotateIfDue(log, { maxBytes: 1000, keep: 2 })).toBe(false); // not due
  for (let round = 1; round <= 3; round++) {
    appendFileSync(log, lines(round * 10, round * 10 + 10));
    expect(rotateIfDue(log, { maxBytes: 50, keep: 2 })).toBe(true);
  }
  expect(readFileSync(log, 'utf8')).toBe('');
  expect([1, 2, 3].map((i) => existsSync(`${log}.${i}`))).toEqual([true, true, false]);
  expect(readFileSync(`${log}.1`, 'utf8')).toBe(lines(30, 40));
  appendFileSync(log, lines(40, 43));
  // From where it stopped (end of line 9): lines 10-19 were rotated away beyond keep; said so, then on.
  const after = drain(first.next, 16);
  expect(after.text).toBe(`(a2a-deploy: 80 bytes of this log were rotated away before they could be read)\n${lines(20, 43)}`);
  // Chunks end at line ends: no line is split between two reads.
  expect(readStreamFrom(log, after.next - 24, 20)).toEqual({ text: 'line 40\nline 41\n', next: after.next - 8, more: true });
});

test('a tail spans the current file and the rotated copies', () => {
  appendFileSync(log, lines(0, 10));
  rotateIfDue(log, { maxBytes: 10, keep: 3 });
  appendFileSync(log, lines(10, 12));
  expect(tailAcrossRotation(log, 5)).toBe(lines(7, 12).trimEnd());
  expect(tailAcrossRotation(log, 2)).toBe(lines(10, 12).trimEnd());
  expect(tailAcrossRotation(log, 100)).toBe(lines(0, 12).trimEnd());
});
