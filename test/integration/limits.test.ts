// Resource limits of local agents on the real kernel (this machine: cgroup v1, as root): the
// local runner puts each agent with limits in its own groups before its first instruction, and
// the kernel holds it there. A memory hog is killed at its limit and reported as out of memory,
// a CPU hog with cpus 0.5 gets half a core, a fork bomb is held by pids, the groups are gone
// after stop and after gc of a terminated job, and a host without a writable cgroup tree
// (A2A_CGROUP_ROOT pointed elsewhere, the test hook) refuses at once with the reason.
// No Temporal: the runner's activities are called directly, as local-runner.test.ts does.
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Client } from '@temporalio/client';
import { createLocalRunner } from '../../src/activities/local-runner';
import { machineAgents } from '../../src/activities/machine-agents';
import type { RunnerActivities, WatchedAgent } from '../../src/activities/types';
import { collectLeftovers } from '../../src/jobs/leftovers';
import type { AgentPlan } from '../../src/job/plan';
import { registry } from '../../src/metrics/instruments';
import { cgroupLayout, forgetLayout, groupDirs, prepareGroup, readUsage, removeGroup, serverKey } from '../../src/process/cgroups';
import { planFromYaml } from './support/docker';
import { agentProcesses, ROOT } from './support/stack';

jest.setTimeout(90_000);
const JOB = 'limits-it';
const SERVER = 'limits-it-server';
const HOG = join(ROOT, 'test', 'fixtures', 'agents', 'hog.js');
let home: string;
let runner: RunnerActivities;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'a2a-limits-'));
  process.env.A2A_DEPLOY_HOME = home;
  delete process.env.A2A_CGROUP_ROOT;
  forgetLayout();
  runner = createLocalRunner({ home, serverMarker: SERVER });
});
afterAll(async () => {
  for (const pid of agentProcesses(JOB)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const layout = cgroupLayout();
  for (const id of ['hog', 'early', 'spin', 'bomb', 'left', 'plain'])
    for (const d of groupDirs(layout, SERVER, JOB, id)) {
      try {
        rmdirSync(d); // a cgroup folder goes with rmdir alone
      } catch {
        /* gone, as it should be */
      }
    }
  rmSync(home, { recursive: true, force: true });
});

const agentOf = (id: string, port: number, deployment: string, env: Record<string, string> = {}) =>
  planFromYaml(
    `job: { name: ${JOB} }
agents:
  - id: ${id}
    module: ${HOG}
    config: { port: ${port} }
    deployment: { ${deployment}, environment: ${JSON.stringify(env)} }
topology: { type: mesh, agents: [${id}] }
`,
  ).agents[id];

const watched = (a: AgentPlan, pid: number, procStart?: string): WatchedAgent => ({
  id: a.id,
  pid,
  procStart,
  healthUrl: a.healthUrl,
  target: a.target,
  deployment: a.deployment,
});

const gone = (id: string) => groupDirs(cgroupLayout(), SERVER, JOB, id).every((d) => !existsSync(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the agent is in its groups from its first instruction, in every hierarchy', async () => {
  const a = agentOf('hog', 29201, 'memory: 128m, cpus: 1, pids: 64', { HOG: 'none' });
  const started = await runner.startAgent({ job: JOB, agent: a });
  // Once the wrapper has exec'd into the agent (same pid: its cmdline is the agent's), the process
  // is in its groups: the join came before the exec, so before the agent's first instruction.
  // (The wrapper's own argv holds the agent's: its program is what tells them apart.)
  const program = () => readFileSync(`/proc/${started.pid}/cmdline`, 'utf8').split('\0')[0];
  for (let i = 0; i < 100 && program() === '/bin/sh'; i++) await sleep(10);
  expect(program()).toBe(process.execPath);
  const own = readFileSync(`/proc/${started.pid}/cgroup`, 'utf8');
  expect(readFileSync(`/proc/${started.pid}/cmdline`, 'utf8').split('\0')).toContain(HOG);
  const leaf = `/a2a-deploy/${serverKey(SERVER)}/${JOB}.hog`;
  for (const c of ['memory', 'pids', 'cpu'])
    expect(own).toMatch(new RegExp(`:[a-z,]*\\b${c}\\b[a-z,]*:${leaf.replace(/\./g, '\\.')}$`, 'm'));
  await runner.waitHealthy({ job: JOB, agent: a, pid: started.pid, procStart: started.procStart });
  await runner.stopAgent({ job: JOB, agent: a });
  expect(gone('hog')).toBe(true);
});

test('a memory hog is killed at its limit and reported as out of memory, in the exit the workflow records and in the metric', async () => {
  const a = agentOf('hog', 29202, 'memory: 128m', { HOG: 'memory', HOG_AFTER_MS: '1000' });
  const started = await runner.startAgent({ job: JOB, agent: a });
  await runner.waitHealthy({ job: JOB, agent: a, pid: started.pid, procStart: started.procStart });
  const events = await runner.watchAgents({ job: JOB, agents: [watched(a, started.pid, started.procStart)] });
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ id: 'hog', kind: 'exited', exitCode: null });
  expect(events[0].detail).toMatch(/^agent 'hog' killed: out of memory \(limit 128m, peak 12[0-9]m\)$/);
  expect(registry.render()).toContain(`a2a_agent_oom_kills_total{job="${JOB}",agent="hog",target="localhost"} 1`);
  await runner.stopAgent({ job: JOB, agent: a });
  expect(gone('hog')).toBe(true);
});

test('an agent killed for memory before it was healthy says so too', async () => {
  const a = agentOf('early', 29203, 'memory: 96m', { HOG: 'memory', HOG_EARLY: '1' });
  const started = await runner.startAgent({ job: JOB, agent: a });
  await expect(runner.waitHealthy({ job: JOB, agent: a, pid: started.pid, procStart: started.procStart })).rejects.toThrow(
    /agent 'early' killed: out of memory \(limit 96m, peak 9[0-9]m\) before becoming healthy/,
  );
  await runner.stopAgent({ job: JOB, agent: a });
});

test('a CPU hog with cpus 0.5 uses at most about 0.6 of a core over 5 s, and is throttled', async () => {
  const a = agentOf('spin', 29204, 'cpus: 0.5', { HOG: 'cpu', HOG_THREADS: '2' });
  const started = await runner.startAgent({ job: JOB, agent: a });
  await runner.waitHealthy({ job: JOB, agent: a, pid: started.pid, procStart: started.procStart });
  await sleep(500); // its threads are spinning
  const layout = cgroupLayout();
  const before = readUsage(layout, SERVER, JOB, 'spin')!;
  const t0 = performance.now();
  await sleep(5000);
  const after = readUsage(layout, SERVER, JOB, 'spin')!;
  const cores = (after.cpuSeconds! - before.cpuSeconds!) / ((performance.now() - t0) / 1000);
  process.stdout.write(
    `cpus 0.5 hog with 2 spinning threads: ${cores.toFixed(3)} cores over 5 s, throttled in ${after.throttledPeriods} periods\n`,
  );
  expect(cores).toBeLessThanOrEqual(0.6);
  expect(cores).toBeGreaterThan(0.3); // it did run: the limit, not idleness, held it
  expect(after.throttledPeriods).toBeGreaterThan(before.throttledPeriods ?? 0);
  // The throttling also reaches /metrics through the watch round's upkeep (every health slot).
  await runner.stopAgent({ job: JOB, agent: a });
  expect(gone('spin')).toBe(true);
});

test('a fork bomb is held by pids: the group never holds more, the agent keeps answering, stop ends every child', async () => {
  const a = agentOf('bomb', 29205, 'pids: 40', { HOG: 'fork' });
  const started = await runner.startAgent({ job: JOB, agent: a });
  await runner.waitHealthy({ job: JOB, agent: a, pid: started.pid, procStart: started.procStart });
  const stdout = join(started.logDir, 'stdout.log');
  for (let i = 0; i < 100 && !/fork refused/.test(readFileSync(stdout, 'utf8')); i++) await sleep(100);
  expect(readFileSync(stdout, 'utf8')).toMatch(/fork refused: EAGAIN after \d+ children/);
  const layout = cgroupLayout();
  const [pidsDir] = groupDirs(layout, SERVER, JOB, 'bomb').filter((d) => d.includes('/pids/'));
  const current = Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8'));
  expect(current).toBeLessThanOrEqual(40);
  expect(current).toBeGreaterThan(30);
  const res = await fetch(`http://127.0.0.1:29205/.well-known/agent-card.json`);
  expect(res.status).toBe(200);
  await runner.stopAgent({ job: JOB, agent: a });
  expect(agentProcesses(JOB)).toEqual([]);
  expect(gone('bomb')).toBe(true);
});

test("gc of a terminated job removes its agent and the agent's groups", async () => {
  const a = agentOf('left', 29206, 'memory: 64m', { HOG: 'none' });
  const started = await runner.startAgent({ job: JOB, agent: a });
  await runner.waitHealthy({ job: JOB, agent: a, pid: started.pid, procStart: started.procStart });
  expect(gone('left')).toBe(false);
  // What Temporal says of a terminated run (gc asks it per job, right before removing).
  const client = { workflow: { getHandle: () => ({ describe: async () => ({ status: { name: 'TERMINATED' } }) }) } } as unknown as Client;
  const out = await collectLeftovers({ client, server: SERVER, machine: machineAgents(new Docker()), job: JOB });
  expect(out.removed).toEqual([expect.objectContaining({ job: JOB, agent: 'left', pid: started.pid })]);
  expect(agentProcesses(JOB)).toEqual([]);
  expect(gone('left')).toBe(true);
});

test('the cost of the cgroup join at the start, against a start without limits', async () => {
  const time = async (id: string, port: number, deployment: string) => {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = agentOf(id, port, deployment, { HOG: 'none', ROUND: String(i) }); // a new spec each round: a real start
      const t0 = performance.now();
      await runner.startAgent({ job: JOB, agent: a });
      ms.push(performance.now() - t0);
      await runner.stopAgent({ job: JOB, agent: a, force: true });
    }
    return ms.sort((x, y) => x - y)[2];
  };
  const plain = await time('plain', 29207, 'workdir: .');
  const limited = await time('plain', 29207, 'memory: 128m, cpus: 1, pids: 64');
  // And one usage read (what the watch round does per agent with limits, once per health slot).
  const a = agentOf('plain', 29207, 'memory: 128m, cpus: 1, pids: 64', { HOG: 'none' });
  await runner.startAgent({ job: JOB, agent: a });
  const layout = cgroupLayout();
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) readUsage(layout, SERVER, JOB, 'plain');
  const perRead = (performance.now() - t0) / 1000;
  await runner.stopAgent({ job: JOB, agent: a, force: true });
  process.stdout.write(
    `startAgent median: ${plain.toFixed(1)} ms without limits, ${limited.toFixed(1)} ms with the cgroup join; one usage read ${(perRead * 1000).toFixed(0)} µs\n`,
  );
  expect(limited).toBeLessThan(plain + 100);
  expect(gone('plain')).toBe(true);
});

test('the usage reads of 1,000 agents: one round of the watch (each agent is read once per health slot, 10 s)', async () => {
  const layout = cgroupLayout();
  const ids = Array.from({ length: 1000 }, (_, i) => `many-${i}`);
  try {
    for (const id of ids) await prepareGroup(layout, SERVER, JOB, id, { memoryBytes: 2 ** 27, cpus: 0.5, pids: 64 });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const id of ids) readUsage(layout, SERVER, JOB, id);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    process.stdout.write(
      `usage reads of 1,000 agents: ${wall.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU; spread over a 10 s health period: ${(cpuMs / 100).toFixed(2)}% of a core\n`,
    );
    expect(cpuMs).toBeLessThan(1000);
  } finally {
    for (const id of ids) await removeGroup(layout, SERVER, JOB, id);
  }
  expect(ids.every((id) => gone(id))).toBe(true);
});

test('a host without a writable cgroup tree refuses an agent with limits at once, with the reason and a hint', async () => {
  process.env.A2A_CGROUP_ROOT = join(home, 'no-cgroups-here');
  forgetLayout();
  try {
    const a = agentOf('hog', 29208, 'memory: 128m', { HOG: 'none' });
    const failure = await runner.startAgent({ job: JOB, agent: a }).then(
      () => undefined,
      (e: { message: string; nonRetryable?: boolean; type?: string }) => e,
    );
    expect(failure).toMatchObject({ nonRetryable: true, type: 'AgentLimitsError' });
    expect(failure!.message).toBe(
      `agent 'hog' cannot be started with its limits: there is no cgroup tree at ${join(home, 'no-cgroups-here')} (hint: run the worker as root on a host with cgroup v1 (memory, cpu, pids mounted) or cgroup v2 with those controllers delegated to it; or remove cpus, memory and pids from the agent)`,
    );
    expect(agentProcesses(JOB)).toEqual([]);
    // An agent without limits still starts there: nothing is asked of the cgroups.
    const plain = agentOf('hog', 29208, 'workdir: .', { HOG: 'none' });
    const started = await runner.startAgent({ job: JOB, agent: plain });
    expect(started.reused).toBe(false);
    await runner.stopAgent({ job: JOB, agent: plain });
  } finally {
    delete process.env.A2A_CGROUP_ROOT;
    forgetLayout();
  }
});
