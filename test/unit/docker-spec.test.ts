// What a container is made of, from an agent's plan (no engine needed).
import { bindOf, demuxLogs, memoryBytes } from '../../src/activities/docker';
import { containerOptions } from '../../src/activities/docker/spec';
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
