// The container runner against a real Docker engine: the example agents' image (built from
// this machine's node and the project's dist/ by scripts/build-agent-image.sh), containers on
// host networking and on a job bridge network, agents on loopback ports 19600-19649.
//
// The runner's activities are called directly: outside an activity they skip heartbeats and
// cancellation (as gc does), so no Temporal server or worker is needed here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { containerName, type AgentPlan } from '../../src/job/plan';
import { createDockerRunner } from '../../src/activities/docker';
import { IMAGE, docker, dockerRunner, listJobContainers, planFromYaml, prepareDocker, removeJob, sendText } from './support/docker';

jest.setTimeout(60_000);

const JOB = 'dkr-it';
const NET_JOB = 'dkr-it-net';
// Job `dkr-it-c-x` with agent `y`, and job `dkr-it-c` with agent `x-y`: once both `a2a-dkr-it-c-x-y`.
const NEAR_JOBS = ['dkr-it-c-x', 'dkr-it-c'];
const NETWORK = 'dkr-it-net-net';
const LOOPBACK_IMAGE = '127.0.0.1:5999/a2a-deploy-agent:test'; // a "registry" on loopback that refuses: pulls fail fast, offline
const MISSING_IMAGE = '127.0.0.1:5999/a2a-deploy-missing:none';
const WEATHER = '/app/dist/agents/weather.js';

let workDir: string;

/** One agent of a one-agent job; `deployment` and `extra` are YAML lines indented for the agent. */
function agentPlan(
  id: string,
  port: number,
  opts: { run?: string; image?: string; pull?: string; deployment?: string[]; extra?: string[] } = {},
): AgentPlan {
  const yaml = [
    `job: { name: ${JOB} }`,
    'agents:',
    `  - id: ${id}`,
    `    ${opts.run ?? `module: ${WEATHER}`}`,
    `    config: { port: ${port}, health: { timeout: 20s } }`,
    ...(opts.extra ?? []).map((l) => `    ${l}`),
    '    deployment:',
    '      target: container',
    `      image: ${opts.image ?? IMAGE}`,
    `      pull: ${opts.pull ?? 'never'}`,
    ...(opts.deployment ?? []).map((l) => `      ${l}`),
    'topology:',
    `  type: mesh`,
    `  agents: [${id}]`,
  ].join('\n');
  return planFromYaml(yaml, workDir).agents[id];
}

/** The runner's failure, for assertions on its type, message and details. */
async function failureOf(p: Promise<unknown>): Promise<{ message: string; type?: string; nonRetryable?: boolean; details?: unknown[] }> {
  try {
    await p;
  } catch (e) {
    return e as { message: string; type?: string; nonRetryable?: boolean; details?: unknown[] };
  }
  throw new Error('expected a failure');
}

const health = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`)).json();

beforeAll(async () => {
  const t0 = Date.now();
  const lines = prepareDocker();
  console.log(`${lines.join('\n')}\n(prepared in ${Date.now() - t0} ms)`);
  for (const job of [JOB, NET_JOB, ...NEAR_JOBS]) await removeJob(job);
  await docker.getImage(IMAGE).tag({ repo: LOOPBACK_IMAGE.split(':').slice(0, 2).join(':'), tag: 'test' });
  workDir = mkdtempSync(`${tmpdir()}/a2a-docker-it-`);
}, 600_000);

afterAll(async () => {
  for (const job of [JOB, NET_JOB, ...NEAR_JOBS]) await removeJob(job);
  await docker
    .getImage(LOOPBACK_IMAGE)
    .remove()
    .catch(() => undefined);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('host networking', () => {
  const port = 19600;

  test('a container agent starts, turns healthy on loopback, and a second start reuses it', async () => {
    const agent = agentPlan('weather', port);
    const first = await dockerRunner.startAgent({ job: JOB, agent });
    expect(first).toMatchObject({ reused: false, logDir: `docker:${containerName(JOB, 'weather')}` });
    expect(first.pid).toBeGreaterThan(0);
    expect(first.containerId).toMatch(/^[0-9a-f]{64}$/);

    const h = await dockerRunner.waitHealthy({ job: JOB, agent, pid: first.pid, containerId: first.containerId });
    expect(h.attempts).toBeGreaterThanOrEqual(1);
    expect(await health(port)).toEqual({ status: 'ok', agent: 'weather' });

    // Labels and the marker are what later starts, stops and gc go by.
    const info = await docker.getContainer(first.containerId!).inspect();
    expect(info.Name).toBe(`/${containerName(JOB, 'weather')}`);
    expect(info.Config.Labels).toMatchObject({ 'a2a-deploy.job': JOB, 'a2a-deploy.agent': 'weather', 'a2a-deploy.spec': agent.specHash });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        `A2A_DEPLOY_AGENT=${JOB}/weather`,
        `A2A_DEPLOY_SPEC=${agent.specHash}`,
        `AGENT_PORT=${port}`,
        'AGENT_HOST=127.0.0.1',
      ]),
    );
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.Config.Cmd).toEqual(['node', WEATHER]);
    expect(await listJobContainers(JOB)).toEqual([
      expect.objectContaining({ name: containerName(JOB, 'weather'), job: JOB, agent: 'weather', spec: agent.specHash, state: 'running' }),
    ]);

    const again = await dockerRunner.startAgent({ job: JOB, agent });
    expect(again).toMatchObject({ reused: true, containerId: first.containerId, pid: first.pid, startedAt: first.startedAt });

    // Logs: a tail, then (following from the returned offsets) nothing new until it writes again.
    const logs = await dockerRunner.readLogs({ job: JOB, agent, tail: 5 });
    expect(logs.stdout).toContain(`[weather] weather agent listening on 127.0.0.1:${port}`);
    expect(logs.offsets.stdout).toBeGreaterThan(0);
    const more = await dockerRunner.readLogs({ job: JOB, agent, tail: 5, offsets: logs.offsets });
    expect(more).toEqual({ stdout: '', stderr: '', offsets: logs.offsets });
  });

  test('a changed spec replaces the container (with limits and volumes applied)', async () => {
    const before = await docker.getContainer(containerName(JOB, 'weather')).inspect();
    const agent = agentPlan('weather', port, {
      deployment: ['environment: { FLAVOUR: new }', 'cpus: 0.5', 'memory: 128m', 'volumes: ["./data:/data:ro"]'],
    });
    const s = await dockerRunner.startAgent({ job: JOB, agent });
    expect(s.reused).toBe(false);
    expect(s.containerId).not.toBe(before.Id);
    await dockerRunner.waitHealthy({ job: JOB, agent, pid: s.pid, containerId: s.containerId });

    const info = await docker.getContainer(s.containerId!).inspect();
    expect(info.Config.Env).toContain('FLAVOUR=new');
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(128 * 1024 * 1024);
    expect(info.HostConfig.Binds).toEqual([`${workDir}/data:/data:ro`]);
    // The old one is gone: one container per agent.
    expect((await listJobContainers(JOB)).map((c) => c.id)).toEqual([s.containerId]);
  });

  test('a stop sends SIGTERM and removes the container; stopping again is a no-op', async () => {
    const agent = agentPlan('weather', port, {
      deployment: ['environment: { FLAVOUR: new }', 'cpus: 0.5', 'memory: 128m', 'volumes: ["./data:/data:ro"]'],
    });
    const t0 = Date.now();
    expect(await dockerRunner.stopAgent({ job: JOB, agent })).toEqual({ wasRunning: true, forced: false });
    expect(Date.now() - t0).toBeLessThan(5000); // the agent exits on SIGTERM, well within its 10 s grace
    expect(await listJobContainers(JOB)).toEqual([]);
    expect(await dockerRunner.stopAgent({ job: JOB, agent })).toEqual({ wasRunning: false, forced: false });
    expect(await dockerRunner.readLogs({ job: JOB, agent, tail: 5 })).toEqual({
      stdout: '',
      stderr: '',
      offsets: { stdout: 0, stderr: 0 },
    });
  });

  test('an exited container with the same spec is started afresh', async () => {
    const agent = agentPlan('blip', 19601, { run: "command: [node, -e, 'setTimeout(() => {}, 300)']" });
    const first = await dockerRunner.startAgent({ job: JOB, agent });
    await docker.getContainer(first.containerId!).wait();
    const second = await dockerRunner.startAgent({ job: JOB, agent });
    expect(second.reused).toBe(false);
    expect(second.containerId).not.toBe(first.containerId);
    await dockerRunner.stopAgent({ job: JOB, agent });
  });

  // An agent that ignores SIGTERM (PID 1 under docker-init, which forwards the signal).
  const stubborn = 'command: [node, -e, \'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); setInterval(() => {}, 1000)\']';

  test('a forced stop kills at once; an unforced one kills after the grace period', async () => {
    const agent = agentPlan('stubborn', 19602, { run: stubborn, extra: ['stop_grace: 30s'] });
    await dockerRunner.startAgent({ job: JOB, agent });
    let t0 = Date.now();
    expect(await dockerRunner.stopAgent({ job: JOB, agent, force: true })).toEqual({ wasRunning: true, forced: true });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await listJobContainers(JOB)).toEqual([]);

    const quick = agentPlan('stubborn', 19602, { run: stubborn, extra: ['stop_grace: 700ms'] });
    await dockerRunner.startAgent({ job: JOB, agent: quick });
    await new Promise((r) => setTimeout(r, 500)); // let node install its handler
    t0 = Date.now();
    expect(await dockerRunner.stopAgent({ job: JOB, agent: quick })).toEqual({ wasRunning: true, forced: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('a container that exits at once fails the health gate with its exit code and stderr', async () => {
    const agent = agentPlan('crasher', 19603, { run: 'command: [node, -e, \'console.error("boom: no config"); process.exit(3)\']' });
    const s = await dockerRunner.startAgent({ job: JOB, agent });
    const err = await failureOf(dockerRunner.waitHealthy({ job: JOB, agent, pid: s.pid, containerId: s.containerId }));
    expect(err.type).toBe('AgentExited');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe("agent 'crasher' exited with code 3 before becoming healthy");
    expect(err.details).toEqual(['boom: no config']);
    await dockerRunner.stopAgent({ job: JOB, agent });
  });

  test('a watch reports a container that exits, and one that stops answering health checks', async () => {
    const dying = agentPlan('dying', 19604, {
      run: 'command: [node, -e, \'setTimeout(() => { console.error("bye now"); process.exit(4) }, 1500)\']',
    });
    const quiet = agentPlan('quiet', 19605, { run: stubborn });
    const a = await dockerRunner.startAgent({ job: JOB, agent: dying });
    const b = await dockerRunner.startAgent({ job: JOB, agent: quiet });
    const watched = (p: AgentPlan, s: { pid: number; containerId?: string }) => ({
      id: p.id,
      pid: s.pid,
      containerId: s.containerId,
      healthUrl: p.healthUrl,
      target: p.target,
      deployment: p.deployment,
    });
    // `quiet` never listens: two missed health checks (HEALTH_EVERY_MS, 10 s, apart) make it unhealthy,
    // after `dying` has exited at 1.5 s.
    const exited = await dockerRunner.watchAgents({ job: JOB, agents: [watched(dying, a), watched(quiet, b)], unhealthyAfter: 2 });
    expect(exited).toEqual([
      { id: 'dying', kind: 'exited', exitCode: 4, detail: "agent 'dying' exited with code 4", stderr: 'bye now', at: expect.any(String) },
    ]);
    const unhealthy = await dockerRunner.watchAgents({ job: JOB, agents: [watched(quiet, b)], unhealthyAfter: 2 });
    expect(unhealthy).toEqual([
      expect.objectContaining({
        id: 'quiet',
        kind: 'unhealthy',
        detail: expect.stringContaining('failed 2 health checks in a row at http://127.0.0.1:19605/'),
      }),
    ]);
    await dockerRunner.stopAgent({ job: JOB, agent: dying });
    await dockerRunner.stopAgent({ job: JOB, agent: quiet, force: true });
  });
});

test('job a-b with agent c and job a with agent b-c get containers of their own', async () => {
  const y = agentPlan('y', 19620);
  const xy = agentPlan('x-y', 19621);
  expect(containerName(NEAR_JOBS[0], 'y')).not.toBe(containerName(NEAR_JOBS[1], 'x-y'));
  const first = await dockerRunner.startAgent({ job: NEAR_JOBS[0], agent: y });
  const second = await dockerRunner.startAgent({ job: NEAR_JOBS[1], agent: xy });
  expect(second.containerId).not.toBe(first.containerId);
  // Starting the second removed nothing of the first; stopping it leaves the first running.
  expect(await dockerRunner.stopAgent({ job: NEAR_JOBS[1], agent: xy })).toMatchObject({ wasRunning: true });
  expect((await docker.getContainer(first.containerId!).inspect()).State.Running).toBe(true);
  expect(await dockerRunner.stopAgent({ job: NEAR_JOBS[0], agent: y })).toMatchObject({ wasRunning: true });
});

test("another server's container of the same job and agent is neither reused nor removed", async () => {
  const agent = agentPlan('solo', 19622);
  const other = createDockerRunner({ docker, serverMarker: 'another-install' });
  const theirs = await other.startAgent({ job: NEAR_JOBS[1], agent });
  const failure = await failureOf(dockerRunner.startAgent({ job: NEAR_JOBS[1], agent }));
  expect(failure).toMatchObject({ nonRetryable: true, type: 'AgentStartError' });
  expect(failure.message).toContain('of server another-install');
  expect(await dockerRunner.stopAgent({ job: NEAR_JOBS[1], agent })).toEqual({ wasRunning: false, forced: false });
  expect((await docker.getContainer(theirs.containerId!).inspect()).State.Running).toBe(true);
  await other.stopAgent({ job: NEAR_JOBS[1], agent });
});

describe('images and pull policies', () => {
  test('a missing image that cannot be pulled fails without retries, naming image and agent', async () => {
    const never = agentPlan('ghost', 19606, { image: MISSING_IMAGE });
    const e1 = await failureOf(dockerRunner.startAgent({ job: JOB, agent: never }));
    expect(e1.type).toBe('ImageNotFound');
    expect(e1.nonRetryable).toBe(true);
    expect(e1.message).toContain(`image '${MISSING_IMAGE}' of agent 'ghost' is not on this Docker engine and pull is never`);
    expect(e1.message).toContain('docker image ls');

    const ifNotPresent = agentPlan('ghost', 19606, { image: MISSING_IMAGE, pull: 'if-not-present' });
    const e2 = await failureOf(dockerRunner.startAgent({ job: JOB, agent: ifNotPresent }));
    expect(e2.type).toBe('ImageNotFound');
    expect(e2.message).toMatch(/pulling it failed: .*connection refused/);
    expect(await listJobContainers(JOB)).toEqual([]);
  });

  test('pull: always uses the local copy when the registry cannot be reached', async () => {
    const agent = agentPlan('weather', 19607, { image: LOOPBACK_IMAGE, pull: 'always' });
    const s = await dockerRunner.startAgent({ job: JOB, agent });
    await dockerRunner.waitHealthy({ job: JOB, agent, pid: s.pid, containerId: s.containerId });
    expect(await health(19607)).toEqual({ status: 'ok', agent: 'weather' });
    await dockerRunner.stopAgent({ job: JOB, agent });
  });

  test('without module or command the image CMD runs (the weather agent)', async () => {
    const agent = agentPlan('weather', 19608, { run: '# no module, no command' });
    const s = await dockerRunner.startAgent({ job: JOB, agent });
    await dockerRunner.waitHealthy({ job: JOB, agent, pid: s.pid, containerId: s.containerId });
    expect(await health(19608)).toEqual({ status: 'ok', agent: 'weather' });
    await dockerRunner.stopAgent({ job: JOB, agent });
  });
});

describe('a job network', () => {
  // controller (hub) -> weather (spoke): the hub reaches the spoke by container name.
  const yaml = (network: string) => `
job: { name: ${NET_JOB} }
agents:
  - id: controller
    module: /app/dist/agents/coordinator.js
    config: { port: 19610 }
    deployment: { target: container, image: ${IMAGE}, pull: never, network: ${network} }
  - id: weather
    module: ${WEATHER}
    config: { port: 19611 }
    deployment: { target: container, image: ${IMAGE}, pull: never, network: ${network} }
topology: { type: hub-spoke, hub: controller, spokes: [weather] }
`;

  test("Docker's built-in bridge network is refused (no names there)", async () => {
    const plan = planFromYaml(yaml('bridge'), workDir);
    const e = await failureOf(dockerRunner.startAgent({ job: NET_JOB, agent: plan.agents.weather }));
    expect(e.type).toBe('AgentSpecError');
    expect(e.message).toContain("network 'bridge' is one of Docker's built-in networks");
  });

  test('peers call each other by container name; ports are published on 127.0.0.1 only', async () => {
    const plan = planFromYaml(yaml(NETWORK), workDir);
    expect(plan.agents.weather.url).toBe(`http://${containerName(NET_JOB, 'weather')}:19611`);
    for (const id of plan.stages.flat()) {
      const agent = plan.agents[id];
      const s = await dockerRunner.startAgent({ job: NET_JOB, agent });
      await dockerRunner.waitHealthy({ job: NET_JOB, agent, pid: s.pid, containerId: s.containerId });
    }
    const net = await docker.getNetwork(NETWORK).inspect();
    expect(net.Labels).toEqual({ 'a2a-deploy.job': NET_JOB });
    const info = await docker.getContainer(containerName(NET_JOB, 'weather')).inspect();
    expect(info.NetworkSettings.Ports['19611/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '19611' }]);
    expect(info.NetworkSettings.Networks[NETWORK].Aliases).toContain(containerName(NET_JOB, 'weather'));

    const r = await sendText('http://127.0.0.1:19610', 'What is the weather in Tokyo?');
    expect(r.text).toContain('weather: tokyo 24°C humid');
    expect(r.data.result).toEqual({ asked: ['weather'], answered: ['weather'], failed: [] });

    // The network goes with the job's last container.
    for (const id of ['controller', 'weather'])
      expect(await dockerRunner.stopAgent({ job: NET_JOB, agent: plan.agents[id] })).toEqual({ wasRunning: true, forced: false });
    expect(await listJobContainers(NET_JOB)).toEqual([]);
    expect(await docker.listNetworks({ filters: { name: [NETWORK] } })).toEqual([]);
  });
});
