// The local runner's idempotence, on real processes: a repeated start returns the running
// agent, a start interrupted between spawning and recording the pid is recovered by scanning
// /proc for the agent's marker (so no second copy is started), and stop finds the agent from
// its record and leaves nothing behind.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createLocalRunner, listMarkedAgents } from '../../src/activities/local-runner';
import { servedByAgent } from '../../src/activities/port-checks';
import { waitUntil } from '../../src/process';
import type { RunnerActivities } from '../../src/activities/types';
import { agentDir } from '../../src/config/paths';
import type { AgentPlan } from '../../src/job/plan';
import { planFromYaml } from './support/docker';
import { agentProcesses, portOpen, ROOT } from './support/stack';

jest.setTimeout(60_000);
const JOB = 'ledger-it';
const PORT = 27641;
let home: string;
let agent: AgentPlan;
let localRunner: RunnerActivities;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'a2a-local-runner-'));
  process.env.A2A_DEPLOY_HOME = home;
  localRunner = createLocalRunner({ home, serverMarker: 'local-runner-it' });
  const plan = planFromYaml(
    `job: { name: ${JOB} }
agents:
  - id: solo
    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}
    config: { port: ${PORT} }
topology: { type: mesh, agents: [solo] }
`,
  );
  agent = plan.agents.solo;
});
afterAll(async () => {
  for (const pid of agentProcesses(JOB)) process.kill(-pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

const planAt = (port: number, extra = '', fixture = 'flaky.js') =>
  planFromYaml(
    `job: { name: ${JOB} }
agents:
  - id: solo
    module: ${join(ROOT, 'test', 'fixtures', 'agents', fixture)}
    config: { port: ${port} }
${extra}topology: { type: mesh, agents: [solo] }
`,
  ).agents.solo;

// A socket closes as its process ends, a moment after /proc may show the process gone.
const waitClosed = (port: number) => waitUntil(async () => !(await portOpen(port)), 1000);

const waitPort = async (port: number) => {
  for (let i = 0; i < 200 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 25));
  return portOpen(port);
};

test('a repeated start returns the running agent instead of starting another', async () => {
  const first = await localRunner.startAgent({ job: JOB, agent });
  expect(first.reused).toBe(false);
  expect(await waitPort(PORT)).toBe(true);
  const again = await localRunner.startAgent({ job: JOB, agent });
  expect(again).toMatchObject({ pid: first.pid, reused: true, startedAt: first.startedAt });
  expect(agentProcesses(JOB)).toEqual([first.pid]);
});

test('a start interrupted before its pid was recorded finds the agent by its marker', async () => {
  const [pid] = agentProcesses(JOB);
  const dir = agentDir(JOB, agent.id);
  // What a worker killed between spawn() and writing the record leaves behind.
  unlinkSync(join(dir, 'agent.pid.json'));
  writeFileSync(join(dir, 'agent.starting'), new Date().toISOString());
  const again = await localRunner.startAgent({ job: JOB, agent });
  expect(again).toMatchObject({ pid, reused: true });
  expect(agentProcesses(JOB)).toEqual([pid]);
  // The ledger is whole again: the next start needs no scan.
  expect(existsSync(join(dir, 'agent.starting'))).toBe(false);
  expect(existsSync(join(dir, 'agent.pid.json'))).toBe(true);
});

test('stop ends the recorded agent; stopping again is a no-op', async () => {
  const stopped = await localRunner.stopAgent({ job: JOB, agent });
  expect(stopped).toEqual({ wasRunning: true, forced: false });
  expect(agentProcesses(JOB)).toEqual([]);
  expect(await portOpen(PORT)).toBe(false);
  expect(await localRunner.stopAgent({ job: JOB, agent })).toEqual({ wasRunning: false, forced: false });
});

test("another installation's agent with the same job and agent is never taken for ours", async () => {
  // Another a2a-deploy (another home, another server) runs the same job name on this machine.
  const otherHome = mkdtempSync(join(tmpdir(), 'a2a-local-runner-other-'));
  const other = createLocalRunner({ home: otherHome, serverMarker: 'another-install' });
  const theirs = planAt(PORT + 1);
  try {
    const started = await other.startAgent({ job: JOB, agent: theirs });
    expect(await waitPort(PORT + 1)).toBe(true);
    // Our start was interrupted before its pid was recorded: the retry scans /proc.
    const dir = agentDir(JOB, agent.id, home);
    rmSync(join(dir, 'agent.pid.json'), { force: true });
    writeFileSync(join(dir, 'agent.starting'), new Date().toISOString());
    const ours = await localRunner.startAgent({ job: JOB, agent });
    expect(ours.reused).toBe(false);
    expect(ours.pid).not.toBe(started.pid);
    expect(await waitPort(PORT)).toBe(true);
    // Their agent lives through our retried start and our stop.
    expect(await localRunner.stopAgent({ job: JOB, agent })).toMatchObject({ wasRunning: true });
    expect(await portOpen(PORT + 1)).toBe(true);
    expect(agentProcesses(JOB)).toEqual([started.pid]);
  } finally {
    await other.stopAgent({ job: JOB, agent: theirs });
    rmSync(otherHome, { recursive: true, force: true });
  }
});

test('a port someone else serves is refused at once, naming who holds it; their answers never count as health', async () => {
  const squatted = planAt(PORT + 2);
  // Answers every path with 200, as an agent's health check wants.
  const squatter = spawn(
    'python3',
    [
      '-c',
      `import http.server as h; h.HTTPServer(("127.0.0.1", ${PORT + 2}), type("H", (h.BaseHTTPRequestHandler,), {"do_GET": lambda s: (s.send_response(200), s.end_headers())})).serve_forever()`,
    ],
    { stdio: 'ignore' },
  );
  try {
    expect(await waitPort(PORT + 2)).toBe(true);
    const failure = await localRunner.startAgent({ job: JOB, agent: squatted }).then(
      () => undefined,
      (e: { message: string; nonRetryable?: boolean; type?: string }) => e,
    );
    expect(failure).toMatchObject({ nonRetryable: true, type: 'PortInUse' });
    expect(failure!.message).toBe(`agent 'solo': port ${PORT + 2} is already in use by pid ${squatter.pid} (python3)`);
    expect(agentProcesses(JOB)).toEqual([]);
    // Readiness: the listener must be the agent's (its group, or marked as it).
    expect(() => servedByAgent(squatted, process.pid, () => false)).toThrow(`served by pid ${squatter.pid} (python3), not by the agent`);
    expect(() => servedByAgent(squatted, squatter.pid!, () => false)).not.toThrow();
  } finally {
    squatter.kill('SIGKILL');
  }
});

test('an agent that forks its server and exits: gc sees the server, and stop leaves nothing running', async () => {
  const forking = planAt(PORT + 3, '', 'forking.js');
  const started = await localRunner.startAgent({ job: JOB, agent: forking });
  expect(await waitPort(PORT + 3)).toBe(true);
  const [server] = agentProcesses(JOB);
  expect(server).not.toBe(started.pid); // the launcher is gone; its child serves
  // gc's view: the server, which leads no group, is listed as the agent's.
  expect(listMarkedAgents()).toEqual(expect.arrayContaining([{ pid: server, marker: `${JOB}/solo`, server: 'local-runner-it' }]));
  expect(await localRunner.stopAgent({ job: JOB, agent: forking })).toMatchObject({ wasRunning: true });
  expect(await waitClosed(PORT + 3)).toBe(true);
  expect(agentProcesses(JOB)).toEqual([]);
});

test("stop with the job's state folder deleted still stops the agent (found by its markers)", async () => {
  const started = await localRunner.startAgent({ job: JOB, agent });
  expect(await waitPort(PORT)).toBe(true);
  rmSync(agentDir(JOB, agent.id, home), { recursive: true, force: true });
  expect(await localRunner.stopAgent({ job: JOB, agent })).toMatchObject({ wasRunning: true });
  expect(await waitClosed(PORT)).toBe(true);
  expect(agentProcesses(JOB)).not.toContain(started.pid);
  expect(agentProcesses(JOB)).toEqual([]);
});

test('an agent whose markers cannot be read (it rewrote its environment area) is still known by its pid and start time', async () => {
  const WIPER_PORT = 19405;
  const wiper = planFromYaml(
    `job: { name: ${JOB} }
agents:
  - id: solo
    command: [python3, ${join(ROOT, 'test', 'fixtures', 'agents', 'environ_wiper.py')}]
    config: { port: ${WIPER_PORT}, health: { type: tcp } }
topology: { type: mesh, agents: [solo] }
`,
  ).agents.solo;
  const started = await localRunner.startAgent({ job: JOB, agent: wiper });
  expect(started.procStart).toMatch(/^\d+$/);
  // Healthy: the runner does not take the wiped process for a dead one.
  await localRunner.waitHealthy({ job: JOB, agent: wiper, pid: started.pid });
  expect(readFileSync(`/proc/${started.pid}/environ`, 'utf8')).not.toContain('A2A_DEPLOY');
  expect(agentProcesses(JOB)).toEqual([]); // no marker scan finds it
  rmSync(agentDir(JOB, wiper.id, home), { recursive: true, force: true });
  // Neither the ledger nor the markers find it: what the workflow knows does.
  const known = { pid: started.pid, procStart: started.procStart };
  // A pid with another start time (a reused pid) is never taken for it.
  expect(await localRunner.stopAgent({ job: JOB, agent: wiper, known: { ...known, procStart: '1' } })).toMatchObject({ wasRunning: false });
  expect(await portOpen(WIPER_PORT)).toBe(true);
  expect(await localRunner.stopAgent({ job: JOB, agent: wiper, known })).toMatchObject({ wasRunning: true });
  expect(await waitClosed(WIPER_PORT)).toBe(true);
});
