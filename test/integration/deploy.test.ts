// The product path end to end: the real CLI, a real Temporal dev server, a real worker and
// real agent processes. Each example job deploys, answers a message that crosses its whole
// topology, and stops without leaving a process or a port behind.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentProcesses, portOpen, ROOT, startStack, type Stack } from './support/stack';
import type { JobStatus } from '../../src/workflows/api';

jest.setTimeout(180_000);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack(27233, 28233);
  await stack.startWorker();
});
afterAll(async () => {
  for (const job of ['simple-weather', 'pipeline', 'distributed-dag', 'collaborative-mesh', 'hierarchical-tree', 'crashing']) {
    stack.cli(['stop', job, '--force']);
  }
  await stack.close();
});

const example = (f: string) => join(ROOT, 'jobs', 'examples', f);

const cases: [string, string, string, (reply: string) => void][] = [
  [
    'simple-weather.yaml',
    'simple-weather',
    'What is the weather in Paris and how far is it from Paris to Berlin?',
    (r) => {
      expect(r).toMatch(/paris -> berlin 8[78]\d km/);
      expect(r.toLowerCase()).toMatch(/paris/);
    },
  ],
  ['pipeline.yaml', 'pipeline', '  hello   agent world ', (r) => expect(r).toMatch(/HELLO AGENT WORLD/)],
  ['distributed-dag.yaml', 'distributed-dag', 'the quick brown fox jumps', (r) => expect(r).toMatch(/mean/i)],
  ['collaborative-mesh.yaml', 'collaborative-mesh', 'How do durable workflows keep agents alive across crashes?', () => undefined],
  ['hierarchical-tree.yaml', 'hierarchical-tree', 'report temperatures', (r) => expect(r).toMatch(/mean/i)],
];

describe.each(cases)('%s', (file, job, message, checkReply) => {
  test('deploys in order, answers across the topology, and stops cleanly', async () => {
    const started = stack.cli(['start', example(file)]);
    expect(started.stderr + started.stdout).toContain(`Job ${job} is running`);
    expect(started.code).toBe(0);

    const status = JSON.parse(stack.cli(['status', job, '--json']).stdout) as JobStatus;
    expect(status.phase).toBe('running');
    const ids = status.stages.flat();
    for (const id of ids) expect(status.agents[id].state).toBe('healthy');
    expect(agentProcesses(job)).toHaveLength(ids.length);

    // Health was gated in call order: every callee became healthy before its caller started.
    const sent = stack.cli(['send', job, message]);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    for (const id of ids) expect(sent.stdout).toContain(id);
    checkReply(sent.stdout);

    const logs = stack.cli(['logs', job, '--tail', '5']);
    expect(logs.code).toBe(0);

    const stopped = stack.cli(['stop', job]);
    expect(stopped.stdout).toContain(`Job ${job} stopped`);
    expect(stopped.code).toBe(0);
    expect(agentProcesses(job)).toEqual([]);
    const ports = Object.values(status.agents).map((a) => Number(new URL(a.url).port));
    for (const p of ports) expect(await portOpen(p)).toBe(false);
  });
});

test('an agent that exits at once fails the job with its name and stderr, leaving nothing running', () => {
  const r = stack.cli(['start', join(ROOT, 'test', 'fixtures', 'jobs', 'crashing-agent.yaml')]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("agent 'broken' exited with code 3");
  expect(r.stderr).toContain('boom: no API key configured for broken');
  expect(agentProcesses('crashing')).toEqual([]);
  const status = JSON.parse(stack.cli(['status', 'crashing', '--json']).stdout) as JobStatus;
  expect(status.phase).toBe('failed');
  expect(status.agents.weather.state).toBe('stopped');
  expect(status.agents.broken.state).toBe('failed');
});

test('a second start of a running job is refused', () => {
  expect(stack.cli(['start', '--detach', example('simple-weather.yaml')]).code).toBe(0);
  const again = stack.cli(['start', example('simple-weather.yaml')]);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain("job 'simple-weather' is already running");
  const listed = JSON.parse(stack.cli(['list', '--json']).stdout) as { job: string }[];
  expect(listed.map((j) => j.job)).toContain('simple-weather');
  expect(stack.cli(['stop', 'simple-weather']).code).toBe(0);
  expect(agentProcesses('simple-weather')).toEqual([]);
});

test('an unreachable Temporal server gives exit code 3 with a hint', () => {
  const r = stack.cli(['status', 'simple-weather'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
  expect(r.stderr).toContain('hint:');
});

test('invalid input exits 2 before touching Temporal', () => {
  const r = stack.cli(['start', join(ROOT, 'test', 'fixtures', 'bad', 'refs.yaml')], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/refs\.yaml:10:9: error: duplicate agent id 'weather'/);
});

test('a job too big for one workflow input is refused before touching Temporal, with a hint', () => {
  // 2,400 spokes, each with 1,400 random characters in its environment: big payloads are compressed,
  // and random text barely shrinks, so the plan stays over the 1.5 MiB a job may carry.
  const spokes = Array.from({ length: 2400 }, (_, i) => `s${i}`);
  const lines = ['job: { name: too-big }', 'agents:', '  - { id: hub, module: ./hub.js, config: { port: 20000 } }'];
  spokes.forEach((id, i) =>
    lines.push(
      `  - { id: ${id}, module: ./spoke.js, config: { port: ${20001 + i} }, deployment: { environment: { PAD: '${randomBytes(1050).toString('base64url')}' } } }`,
    ),
  );
  lines.push('topology:', '  type: hub-spoke', '  hub: hub', `  spokes: [${spokes.join(', ')}]`);
  const dir = mkdtempSync(join(tmpdir(), 'a2a-big-'));
  const file = join(dir, 'too-big.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = stack.cli(['start', file], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  rmSync(dir, { recursive: true, force: true });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/the plan of job 'too-big' is \d\.\d MiB \(2401 agents/);
  expect(r.stderr).toContain('hint: split the job');
});
