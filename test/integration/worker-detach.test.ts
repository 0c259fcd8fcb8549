// `worker --detach` on a real dev server (issue 23, item 6): the background worker runs with the
// flags given (--host, --log-format json, --collect-every off); one that dies at once is reported
// with its own error and a non-zero exit, not "started"; and the pid file of a live worker is
// never overwritten, so `worker --stop` stops the worker that runs.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { isAlive } from '../../src/process';
import { startStack, waitFor, type Stack } from './support/stack';

jest.setTimeout(120_000);
let stack: Stack;
let busy: Server;
const BUSY_PORT = 27998;

beforeAll(async () => {
  stack = await startStack(27933, 28933);
  busy = createServer();
  await new Promise<void>((r) => busy.listen(BUSY_PORT, '127.0.0.1', () => r()));
});
afterAll(async () => {
  stack.cli(['worker', '--stop']);
  stack.cli(['worker', '--stop', '--host', 'h1']);
  busy.close();
  await stack.close();
});

const argvOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

test('a detached host worker gets its flags: --host, json logs, no collection', async () => {
  const r = stack.cli(['worker', '--detach', '--host', 'h1', '--log-format', 'json', '--collect-every', 'off', '--metrics', 'off']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const pid = Number(/pid (\d+)/.exec(r.stdout)![1]);
  expect(r.stdout).toContain(`Background worker for host h1 started (pid ${pid}, log ${join(stack.home, 'worker-host-h1.log')})`);
  expect(argvOf(pid)).toEqual(expect.arrayContaining(['worker', '--host', 'h1', '--log-format', 'json', '--collect-every', 'off']));
  // It is up when reported so: its startup lines are in its log, as JSON, one object per line.
  const lines = await waitFor('its startup lines', () => {
    const text = readFileSync(join(stack.home, 'worker-host-h1.log'), 'utf8');
    return /Collection of agents/.test(text) && text;
  });
  const messages = lines
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { message: string }).message);
  expect(messages.filter((m) => /^(Worker for|Collection)/.test(m))).toEqual([
    expect.stringContaining("Worker for host h1 polling 'a2a-deploy-host-h1'"),
    expect.stringContaining('Collection of agents of ended jobs off'),
  ]);
  expect(stack.cli(['worker', '--stop', '--host', 'h1']).stdout).toBe('Background worker for host h1 stopped.\n');
  expect(isAlive(pid)).toBe(false);
});

test('a detached worker that dies at once is reported with its error, and exits non-zero', () => {
  const bad = stack.cli(['worker', '--detach', '--metrics', 'off'], { env: { A2A_DEPLOY_MAX_ACTIVITIES: 'lots' } });
  expect(bad.stdout).not.toContain('started');
  expect(bad.stderr).toContain('the background worker exited at once (exit 2)');
  expect(bad.stderr).toContain("A2A_DEPLOY_MAX_ACTIVITIES 'lots' is not a whole number");
  expect(bad.code).toBe(2);
  const port = stack.cli(['worker', '--detach', '--metrics', `127.0.0.1:${BUSY_PORT}`]);
  expect(port.stdout).not.toContain('started');
  expect(port.stderr).toContain('the background worker exited at once');
  expect(port.stderr).toContain(String(BUSY_PORT));
  expect(port.code).not.toBe(0);
  // Nothing is left that `worker --stop` would report.
  expect(stack.cli(['worker', '--stop']).stdout).toBe('No background worker was running.\n');
});

test("a second --detach keeps the live worker's pid file: refused, and --stop stops the one that runs", () => {
  const first = stack.cli(['worker', '--detach', '--metrics', 'off']);
  expect(first.code).toBe(0);
  const pid = Number(/pid (\d+)/.exec(first.stdout)![1]);
  const second = stack.cli(['worker', '--detach', '--metrics', 'off']);
  expect(second.stderr).toContain(`a background worker runs already (pid ${pid}`);
  expect(second.stderr).toContain('hint: stop it first with `a2a-deploy worker --stop`');
  expect(second.code).toBe(2);
  expect(readFileSync(join(stack.home, 'worker.pid'), 'utf8')).toBe(String(pid));
  expect(stack.cli(['worker', '--stop']).stdout).toBe('Background worker stopped.\n');
  expect(isAlive(pid)).toBe(false);
});
