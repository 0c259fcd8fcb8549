// What a container is made of, from an agent's plan (no engine needed).
import { bindOf, demuxLogs, memoryBytes } from '../../src/activities/docker';
import { containerOptions } from '../../src/activities/docker/spec';
import { describeExit } from '../../src/activities/docker/containers';
import { usageOfStats } from '../../src/activities/docker/usage';
import type { AgentPlan } from '../../src/job/plan';

const agent = (deployment: Partial<AgentPlan['deployment']>) =>
  ({
    id: 'weather',
    port: 9001,
    env: { AGENT_PORT: '9001' },
    stopGraceMs: 2500,
    baseDir: '/jobs',
    specHash: 'h1',
    deployment: { node: 'node', pull: 'never', volumes: [], image: 'img', ...deployment },
  }) as unknown as AgentPlan;

test('memory sizes and binds', () => {
  expect(memoryBytes('256m')).toBe(256 * 1024 ** 2);
  expect(memoryBytes('1G')).toBe(1024 ** 3);
  expect(memoryBytes('512')).toBe(512);
  expect(() => memoryBytes('lots')).toThrow(/not a size/);
  expect(bindOf('data:/data:ro', '/jobs')).toBe('/jobs/data:/data:ro');
  expect(bindOf('/abs:/x', '/jobs')).toBe('/abs:/x');
});

test('host networking: no published port; markers and labels', () => {
  const o = containerOptions('j', agent({}), 'a2a-j-weather', 'img', 'srv');
  expect(o.HostConfig?.NetworkMode).toBe('host');
  expect(o.HostConfig?.PortBindings).toBeUndefined();
  expect(o.Env).toEqual(['AGENT_PORT=9001', 'A2A_DEPLOY_AGENT=j/weather', 'A2A_DEPLOY_SPEC=h1', 'A2A_DEPLOY_SERVER=srv']);
  expect(o.Labels).toEqual({ 'a2a-deploy.job': 'j', 'a2a-deploy.agent': 'weather', 'a2a-deploy.spec': 'h1', 'a2a-deploy.server': 'srv' });
  expect(o.StopTimeout).toBe(3);
});

test('a job network: the port published on loopback only, the container name as alias', () => {
  const o = containerOptions('j', agent({ network: 'j-net', cpus: 0.5, memory: '64m', workdir: '/app' }), 'a2a-j-weather', 'img', 'srv');
  expect(o.HostConfig?.NetworkMode).toBe('j-net');
  expect(o.HostConfig?.PortBindings).toEqual({ '9001/tcp': [{ HostIp: '127.0.0.1', HostPort: '9001' }] });
  expect(o.NetworkingConfig?.EndpointsConfig?.['j-net'].Aliases).toEqual(['a2a-j-weather']);
  expect([o.HostConfig?.NanoCpus, o.HostConfig?.Memory, o.WorkingDir]).toEqual([5e8, 64 * 1024 ** 2, '/app']);
});

test('the engine log stream is split into stdout and stderr', () => {
  const frame = (stream: number, text: string) => {
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([head, Buffer.from(text)]);
  };
  const { stdout, stderr } = demuxLogs(Buffer.concat([frame(1, 'out1\n'), frame(2, 'err\n'), frame(1, 'out2\n')]));
  expect([stdout.toString(), stderr.toString()]).toEqual(['out1\nout2\n', 'err\n']);
});

test('limits: cpus, memory (swap held at the same limit) and pids', () => {
  const o = containerOptions('j', agent({ cpus: 0.25, memory: '128m', pids: 32 }), 'a2a-j-weather', 'img', 'srv');
  expect(o.HostConfig).toMatchObject({ NanoCpus: 2.5e8, Memory: 128 * 2 ** 20, MemorySwap: 128 * 2 ** 20, PidsLimit: 32 });
  expect(containerOptions('j', agent({}), 'a2a-j-weather', 'img', 'srv').HostConfig).not.toHaveProperty('PidsLimit');
});

test('an out-of-memory kill in the words every target uses; a plain exit as before', () => {
  const info = (state: object, memory?: number) =>
    ({ State: { ExitCode: 137, Error: '', ...state }, HostConfig: { Memory: memory } }) as never;
  expect(describeExit('hog', info({ OOMKilled: true }, 128 * 2 ** 20))).toBe(
    "agent 'hog' killed: out of memory (limit 128m) (exit code 137)",
  );
  expect(describeExit('hog', info({ OOMKilled: false, ExitCode: 3 }))).toBe("agent 'hog' exited with code 3");
});

test("usage from Docker's stats: memory without the page cache, CPU seconds, throttling, pids", () => {
  const u = usageOfStats({
    memory_stats: { usage: 50 * 2 ** 20, max_usage: 60 * 2 ** 20, limit: 128 * 2 ** 20, stats: { cache: 10 * 2 ** 20 } },
    cpu_stats: { cpu_usage: { total_usage: 3e9 }, throttling_data: { periods: 40, throttled_periods: 12, throttled_time: 6e8 } },
    pids_stats: { current: 4 },
  } as never);
  expect(u).toEqual({
    mechanism: 'docker',
    memoryBytes: 40 * 2 ** 20,
    memoryPeakBytes: 60 * 2 ** 20,
    memoryLimitBytes: 128 * 2 ** 20,
    cpuSeconds: 3,
    throttledPeriods: 12,
    throttledSeconds: 0.6,
    pids: 4,
  });
});
