// What a user sees when the job's worker is gone (issue 10), and when a pipe closes early
// (issue 12): every command answers within seconds, in words, without a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { agentProcesses, CLI, ROOT, startStack, waitFor, type Stack } from './support/stack';

jest.setTimeout(300_000);
let stack: Stack;
const example = (f: string) => join(ROOT, 'jobs', 'examples', f);
const JOBS = ['simple-weather', 'pipeline'];

beforeAll(async () => {
  stack = await startStack(27633, 28633);
  await stack.startWorker();
});
afterAll(async () => {
  // Agents are stopped by a worker: make sure one runs, then stop what is left.
  if (!stack.worker) await stack.startWorker();
  for (const job of JOBS) stack.cli(['stop', job, '--force']);
  await stack.close();
});

/** A CLI command piped into `head -1`, as a shell runs it. */
function piped(args: string[]) {
  const cmd = `'${process.execPath}' '${CLI}' ${args.map((a) => `'${a}'`).join(' ')} | head -1`;
  const r = spawnSync('sh', ['-c', cmd], { env: stack.env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function timed(args: string[]) {
  const t0 = Date.now();
  const r = stack.cli(args, { timeoutMs: 30_000 });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);

test('output piped into head ends quietly', async () => {
  // 2,000 files: far more output than a pipe buffer, so the CLI surely writes after head has gone.
  const many = Array.from({ length: 2000 }, () => example('simple-weather.yaml'));
  const v = piped(['validate', ...many]);
  expect(v.stdout).toMatch(/simple-weather\.yaml: ok \(3 agents, 2 stages\)\n$/);
  expect(v.stderr).toBe('');

  const started = piped(['start', example('simple-weather.yaml')]);
  expect(started.stdout).toMatch(/^Deploying simple-weather: 3 agents/);
  expect(started.stderr).toBe('');
  // The deploy went on without its watcher.
  await waitFor('simple-weather running', () => stack.cli(['status', 'simple-weather']).stdout.includes(': running;'));

  for (const args of [
    ['status', 'simple-weather', '--json'],
    ['logs', 'simple-weather'],
    ['list', '--all'],
  ]) {
    const r = piped(args);
    expect(r.stdout).not.toBe('');
    expect(r.stderr).toBe('');
  }
});

test('an absurd job name is refused at once, without echoing it', () => {
  const huge = 'x'.repeat(100_000);
  const r = timed(['status', huge]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('an argument of 100000 characters is not a job name');
  expect(r.stderr.length).toBeLessThan(400);
  const t = timed(['send', 'simple-weather', 'hi', '--timeout', 'abc']);
  expect(t.code).toBe(2);
  expect(t.stderr).toContain("--timeout takes a duration such as 30s, 500ms or 2m, not 'abc'");
});

describe('with the worker killed', () => {
  beforeAll(() => stack.killWorker('SIGKILL'));

  test('status shows what the server knows and how to start a worker', () => {
    const r = timed(['status', 'simple-weather']);
    expect(r.seconds).toBeLessThan(10);
    noStack(r.stderr);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('Job simple-weather: running');
    expect(r.stdout).toContain("no worker is running for job 'simple-weather'");
    expect(r.stdout).toContain('a2a-deploy worker');

    const j = timed(['status', 'simple-weather', '--json']);
    expect(j.seconds).toBeLessThan(10);
    const view = JSON.parse(j.stdout) as { phase: string; workflow: string; worker: boolean };
    expect(view).toMatchObject({ phase: 'running', workflow: 'RUNNING', worker: false });
  });

  test('logs reads the log files on this machine', () => {
    const r = timed(['logs', 'simple-weather', '--tail', '3']);
    expect(r.seconds).toBeLessThan(10);
    noStack(r.stderr);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('showing the log files in') as string });
    expect(r.stdout).toMatch(/^(controller|weather|maps)(:err)? +\| /m);
  });

  test('send says no worker runs', () => {
    const r = timed(['send', 'simple-weather', 'weather in Paris?']);
    expect(r.seconds).toBeLessThan(10);
    noStack(r.stderr);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 4,
      stderr: expect.stringContaining("no worker is running for job 'simple-weather'") as string,
    });
    expect(r.stderr).toContain('hint: start one with `a2a-deploy worker`');
  });

  test('pause and stop are recorded for when a worker runs', () => {
    for (const [args, words] of [
      [['pause', 'simple-weather'], 'the pause request is recorded and applies when a worker runs'],
      [['stop', 'simple-weather', '--force'], 'the stop (forced) request is recorded and applies when a worker runs'],
    ] as [string[], string][]) {
      const r = timed(args);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 4, stderr: expect.stringContaining(words) as string });
      expect(r.seconds).toBeLessThan(10);
      noStack(r.stderr);
    }
  });

  test('start warns at once and keeps the job submitted', async () => {
    const child = spawn(process.execPath, [CLI, 'start', example('pipeline.yaml')], { env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const t0 = Date.now();
    try {
      await waitFor('the no-worker warning', () => stderr.includes('no worker is running'), 10_000);
    } finally {
      child.kill('SIGINT');
    }
    expect((Date.now() - t0) / 1000).toBeLessThan(10);
    noStack(stderr);
    expect(stderr).toContain('job pipeline is submitted and deploys when one runs');
  });
});

test('a worker started again takes over; everything stops cleanly', async () => {
  await stack.startWorker();
  for (const job of JOBS) {
    await waitFor(`${job} to answer`, () => stack.cli(['status', job, '--json']).code === 0);
    stack.cli(['stop', job, '--force']);
    await waitFor(`${job}'s agents gone`, () => agentProcesses(job).length === 0);
  }
});
