// Agent logs rotate (size and count from the job file) and `logs` reads across the rotation;
// `logs --follow` reads a fast writer in bounded chunks, its memory bounded (issue 10, defect 6:
// 1.4 GB RSS after 600 MB of output, then a crash; logs never rotated).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentDir } from '../../src/config/paths';
import { CLI, ROOT, startStack, waitFor, type Stack } from './support/stack';

jest.setTimeout(180_000);
let stack: Stack;
let dir: string;
const CHATTY = join(ROOT, 'test', 'fixtures', 'agents', 'chatty.js');
/** The follower's peak resident memory must stay under this (the bound stated in the README). */
const FOLLOW_RSS_BOUND_MB = 150;

beforeAll(async () => {
  stack = await startStack(26033, 26133);
  await stack.startWorker();
  dir = mkdtempSync(join(tmpdir(), 'a2a-logs-'));
});
const followers: ChildProcess[] = [];
afterAll(async () => {
  for (const f of followers) if (f.exitCode === null) f.kill('SIGKILL');
  for (const job of ['rot', 'flood']) stack.cli(['stop', job, '--force']);
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

function jobFile(job: string, port: number, env: Record<string, number>, logs: string): string {
  const file = join(dir, `${job}.yaml`);
  writeFileSync(
    file,
    `job: { name: ${job} }
agents:
  - id: talker
    module: ${CHATTY}
    config: { port: ${port}, health: { type: tcp } }
    deployment:
      environment: ${JSON.stringify(env)}
      logs: ${logs}
    restart: { policy: never }
topology: { type: mesh, agents: [talker] }
`,
  );
  return file;
}

/** `logs JOB --follow` with its output counted (not kept), and its pid for its memory. */
function follow(job: string) {
  const child = spawn(process.execPath, [CLI, 'logs', job, '--follow'], { env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
  followers.push(child);
  // The numbered lines seen: the first and last number, how many, and whether always ascending.
  const seen = { bytes: 0, lines: 0, first: 0, last: 0, numbered: 0, ascending: true, end: '' };
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    seen.bytes += d.length;
    const text = partial + d.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      seen.lines++;
      const m = / line (\d+) /.exec(l);
      if (!m) continue;
      const n = Number(m[1]);
      if (seen.numbered === 0) seen.first = n;
      else if (n <= seen.last) seen.ascending = false;
      seen.last = n;
      seen.numbered++;
    }
    seen.end = (seen.end + text).slice(-400);
  });
  return { child, seen };
}

const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test('logs rotate at max_size keeping `keep` copies; logs --tail and --follow read across the rotations', async () => {
  // Four bursts of 1.2 MB, 11 s apart (a watch rotates an agent's logs every 10 s, with its health
  // check, so one rotation falls between each two), then ten lines.
  const file = jobFile(
    'rot',
    19410,
    { START_DELAY_MS: 2500, BURSTS: 4, BURST_BYTES: 1_200_000, PAUSE_MS: 11_000, TAIL_LINES: 10 },
    '{ max_size: 1m, keep: 2 }',
  );
  expect(stack.cli(['start', '--detach', file]).code).toBe(0);
  await waitFor('rot running', () => stack.cli(['status', 'rot']).stdout.includes(': running;'));
  const { child, seen } = follow('rot');
  const log = join(agentDir('rot', 'talker', stack.home), 'stdout.log');
  await waitFor('the lines after the last burst', () => existsSync(log) && readFileSync(log, 'utf8').includes('after 9'), 120_000);

  // Four rotations, two copies kept, each about one burst; the current file holds only what followed.
  expect([1, 2, 3].map((i) => existsSync(`${log}.${i}`))).toEqual([true, true, false]);
  for (const i of [1, 2]) expect(statSync(`${log}.${i}`).size).toBeLessThan(1_400_000);
  expect(readFileSync(log, 'utf8')).not.toContain('burst');

  // The tail spans the boundary: the end of the last burst (in stdout.log.1), then the ten lines after.
  const tail = stack
    .cli(['logs', 'rot', '--tail', '30'])
    .stdout.split('\n')
    .filter((l) => /^talker +\| /.test(l)); // stdout's lines (stderr's are labelled talker:err)
  expect(tail).toHaveLength(30);
  expect(tail.slice(20).map((l) => l.split(' | ')[1])).toEqual(Array.from({ length: 10 }, (_, i) => `after ${i}`));
  const numbers = tail.slice(0, 20).map((l) => Number(/burst 4 line (\d+) /.exec(l)![1]));
  expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => numbers[0] + i));

  // The follower saw every burst in order, none twice, and the end.
  await waitFor('the follower at the end', () => seen.end.includes('after 9'), 30_000);
  child.kill('SIGTERM');
  expect(seen.ascending).toBe(true);
  expect(seen.last).toBe(48_000); // 4 bursts of 12,000 lines
  // Copy-truncate loses at most what the agent writes between the last copy and the truncate.
  expect(seen.numbered).toBeGreaterThan((seen.last - seen.first + 1) * 0.99);
});

test(`logs --follow on a writer of 200 MB keeps its memory under ${FOLLOW_RSS_BOUND_MB} MB`, async () => {
  const total = 200 * 1024 * 1024;
  const file = jobFile(
    'flood',
    19411,
    { START_DELAY_MS: 4000, BURSTS: 1, BURST_BYTES: total, PAUSE_MS: 0, TAIL_LINES: 10 },
    '{ max_size: 512m, keep: 1 }',
  );
  expect(stack.cli(['start', '--detach', file]).code).toBe(0);
  await waitFor('flood running', () => stack.cli(['status', 'flood']).stdout.includes(': running;'));
  const { child, seen } = follow('flood');
  const t0 = Date.now();
  await waitFor('the follower at the end', () => seen.end.includes('after 9'), 90_000);
  const seconds = (Date.now() - t0) / 1000;
  const peak = peakRssMb(child.pid!);
  child.kill('SIGTERM');
  console.log(
    `logs --follow: ${(seen.bytes / 1024 / 1024).toFixed(0)} MB printed (${seen.lines} lines) in ${seconds.toFixed(1)} s; peak RSS ${peak.toFixed(0)} MB`,
  );
  // Every line from the first the follower saw to the last arrived, once, in order; memory stayed bounded.
  expect(seen.ascending).toBe(true);
  expect(seen.last).toBe(Math.ceil(total / 100));
  expect(seen.numbered).toBe(seen.last - seen.first + 1);
  expect(peak).toBeLessThan(FOLLOW_RSS_BOUND_MB);
});
