// Host workers and the pull model, on simulated machines: network namespaces h1 and h2, each
// with its own address and its own `a2a-deploy worker --host NAME` that only makes outbound
// connections to Temporal. A job spread over them deploys, talks across hosts, survives a
// host worker's death, and fails clearly when a host's worker never comes.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { JobStatus } from '../../src/workflows/api';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';
import { forwardTcp } from './support/tcp-forward';

jest.setTimeout(180_000);
const NETNS = join(ROOT, 'scripts', 'netns-hosts.sh');
let stack: Stack;
const hostWorkers = new Map<string, ChildProcess>();
let forward: ChildProcess | undefined;

beforeAll(async () => {
  execFileSync('bash', [NETNS, 'up', 'h1', 'h2']);
  stack = await startStack(27533, 28533);
  // The hosts reach the server at the bridge address: the one connection they make, outbound.
  forward = await forwardTcp({ host: '10.203.0.1', port: 27533 }, { host: '127.0.0.1', port: 27533 });
  await stack.startWorker();
  for (const name of ['h1', 'h2'])
    hostWorkers.set(name, await stack.startWorker({ name, netns: `a2a-${name}`, address: '10.203.0.1:27533' }));
});
afterAll(async () => {
  stack?.cli(['stop', 'multi-host', '--force']);
  for (const w of hostWorkers.values()) w.kill('SIGKILL');
  await stack?.close();
  forward?.kill();
  execFileSync('bash', [NETNS, 'down', 'h1', 'h2']);
});

const fixture = (f: string) => join(ROOT, 'test', 'fixtures', 'jobs', f);
const status = (job: string): JobStatus => JSON.parse(stack.cli(['status', job, '--json']).stdout);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const netnsOf = (pid: number) => readlinkSync(`/proc/${pid}/ns/net`);
const netnsInode = (name: string) =>
  execFileSync('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();

test('a job spread over three machines deploys, each agent on its own host, and talks across hosts', () => {
  const r = stack.cli(['start', fixture('multi-host.yaml')]);
  expect(r.stdout).toContain('Job multi-host is running');
  const s = status('multi-host');
  expect(netnsOf(s.agents.validate.pid!)).toBe(netnsInode('a2a-h1'));
  expect(netnsOf(s.agents.output.pid!)).toBe(netnsInode('a2a-h1'));
  expect(netnsOf(s.agents.transform.pid!)).toBe(netnsInode('a2a-h2'));
  expect(netnsOf(s.agents.ingest.pid!)).toBe(readlinkSync('/proc/self/ns/net'));
  const sent = stack.cli(['send', 'multi-host', '  across   three hosts ']);
  expect(sent.stdout).toContain(
    'ingest(trim) -> validate(validate) -> transform(uppercase) -> output(count): ACROSS THREE HOSTS [3 words]',
  );
  // Logs of an agent on h1 come through h1's own worker.
  const logs = stack.cli(['logs', 'multi-host', 'output', '--tail', '5']);
  expect(logs.stdout).toMatch(/output\s+\| .*listening on 10\.203\.0\.11:19173/);
});

test('agents keep serving while their host worker is down; a new worker takes over supervision', async () => {
  hostWorkers.get('h1')!.kill('SIGKILL');
  await sleep(500);
  expect(stack.cli(['send', 'multi-host', 'still here']).stdout).toContain('STILL HERE');
  hostWorkers.set('h1', await stack.startWorker({ name: 'h1', netns: 'a2a-h1', address: '10.203.0.1:27533' }));
  const before = status('multi-host').agents.output.pid!;
  process.kill(before, 'SIGKILL');
  const after = await waitFor('output restarted on h1', () => {
    const a = status('multi-host').agents.output;
    return a.state === 'healthy' && a.pid !== before && a;
  });
  expect(netnsOf(after.pid!)).toBe(netnsInode('a2a-h1'));
  expect(agentProcesses('multi-host')).toHaveLength(4);
  expect(stack.cli(['stop', 'multi-host']).code).toBe(0);
  expect(agentProcesses('multi-host')).toEqual([]);
});

test('a host whose worker never comes: status says so, and the deploy fails naming the host', async () => {
  expect(stack.cli(['start', '--detach', fixture('absent-host.yaml')]).code).toBe(0);
  // Polled, not slept: on a loaded machine the first activity may take a moment to be scheduled.
  const waiting = await waitFor(
    'the agent to wait for h9',
    () => {
      const s = status('absent-host');
      return s.agents.lonely?.waitingFor !== undefined && s;
    },
    6_000,
  );
  expect(waiting.agents.lonely.waitingFor).toContain("waiting for host h9's worker");
  expect(stack.cli(['status', 'absent-host']).stdout).toContain("waiting for host h9's worker");
  const phase = await waitFor('failed', () => status('absent-host').phase === 'failed' && status('absent-host'), 30_000);
  expect(phase.error).toContain("host h9's worker did not pick up the work within 10s");
});
