// Resource limits of SSH agents, against the test sshd on 127.0.0.1 (this machine plays the
// remote host, logged into as root, cgroup v1): the start script makes the agent's groups and
// its wrapper joins them before the agent starts; a memory hog is killed at its limit and
// reported as out of memory; stop removes the groups. The runner is called directly.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentPlan } from '../../src/job/plan';
import { cgroupLayout, forgetLayout, groupDirs, serverKey } from '../../src/process/cgroups';
import { closeSshConnections, remoteAgent, ROOT, sshRunner, startSshd, type Sshd } from './support/sshd';

jest.setTimeout(90_000);
const SSH_PORT = 29222;
const JOB = 'limits-ssh';
const SERVER = 'ssh-runner-it'; // the marker support/sshd's runner was built with
const HOG = join(ROOT, 'test', 'fixtures', 'agents', 'hog.js');
let tmp: string;
let sshd: Sshd;
const started: AgentPlan[] = [];

const agent = (id: string, port: number, deployment: Partial<AgentPlan['deployment']>, env: Record<string, string>) => {
  const a = remoteAgent(sshd, id, port, { workdir: join(tmp, 'work'), module: HOG, env, deployment });
  started.push(a);
  return a;
};
const gone = (id: string) => groupDirs(cgroupLayout(), SERVER, JOB, id).every((d) => !existsSync(d));

beforeAll(() => {
  delete process.env.A2A_CGROUP_ROOT;
  forgetLayout();
  tmp = mkdtempSync(join(tmpdir(), 'a2a-limits-ssh-'));
  mkdirSync(join(tmp, 'work'));
  sshd = startSshd(join(tmp, 'sshd'), SSH_PORT);
});
afterAll(async () => {
  for (const a of started) await sshRunner.stopAgent({ job: JOB, agent: a, force: true }).catch(() => undefined);
  await closeSshConnections();
  sshd?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('an SSH agent is in its groups (its wrapper joined them first), and a memory hog is killed at its limit and reported as out of memory', async () => {
  const a = agent('hog', 29211, { memory: '96m', cpus: 1, pids: 64 }, { HOG: 'memory', HOG_AFTER_MS: '1500' });
  const s = await sshRunner.startAgent({ job: JOB, agent: a });
  // Healthy: the agent, the wrapper's child, runs; the wrapper joined the groups before it started it.
  await sshRunner.waitHealthy({ job: JOB, agent: a, pid: s.pid });
  const leaf = `/a2a-deploy/${serverKey(SERVER)}/${JOB}.hog`;
  const own = readFileSync(`/proc/${s.pid}/cgroup`, 'utf8');
  for (const c of ['memory', 'cpu', 'pids'])
    expect(own).toMatch(new RegExp(`:[a-z,]*\\b${c}\\b[a-z,]*:${leaf.replace(/\./g, '\\.')}$`, 'm'));
  const events = await sshRunner.watchAgents({
    job: JOB,
    agents: [{ id: a.id, pid: s.pid, healthUrl: a.healthUrl, target: a.target, deployment: a.deployment }],
  });
  expect(events).toHaveLength(1);
  expect(events[0].detail).toMatch(/^agent 'hog' killed: out of memory \(limit 96m, peak 9[0-9]m\) on 127\.0\.0\.1:29222$/);
  await sshRunner.stopAgent({ job: JOB, agent: a });
  expect(gone('hog')).toBe(true);
});

test('a host without a cgroup tree refuses an SSH agent with limits, with the reason', async () => {
  process.env.A2A_CGROUP_ROOT = join(tmp, 'no-cgroups');
  try {
    const a = agent('refused', 29212, { memory: '64m' }, { HOG: 'none' });
    await expect(sshRunner.startAgent({ job: JOB, agent: a })).rejects.toThrow(
      `cannot start 'refused' on 127.0.0.1:${SSH_PORT}: there is no cgroup tree at ${join(tmp, 'no-cgroups')} on the host`,
    );
  } finally {
    delete process.env.A2A_CGROUP_ROOT;
  }
});
