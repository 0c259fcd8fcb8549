import { join } from 'node:path';
import { planToMermaid } from '../../src/job/mermaid';
import { containerName, planSummary, resolvePlan, type DeployPlan } from '../../src/job/plan';
import { loadJobFile, loadJobText } from '../../src/job/validate';

const examples = join(__dirname, '..', '..', 'jobs', 'examples');
function planOf(file: string): DeployPlan {
  const loaded = loadJobFile(join(examples, file));
  expect(loaded.diagnostics).toEqual([]);
  return resolvePlan(loaded.job!, join(examples, file));
}
const calls = (p: DeployPlan) => Object.fromEntries(Object.values(p.agents).map((a) => [a.id, a.connectsTo]));

describe('plans: callees deploy before their callers', () => {
  test('hub-spoke: spokes first, the hub calls every spoke', () => {
    const p = planOf('simple-weather.yaml');
    expect(planSummary(p)).toEqual({
      job: 'simple-weather',
      stages: [['weather', 'maps'], ['controller']],
      agents: {
        controller: { target: 'localhost', url: 'http://127.0.0.1:19100', connectsTo: ['weather', 'maps'] },
        weather: { target: 'localhost', url: 'http://127.0.0.1:19101', connectsTo: [] },
        maps: { target: 'localhost', url: 'http://127.0.0.1:19102', connectsTo: [] },
      },
    });
    expect(p.entry).toBe('controller');
    expect(p.agents.controller.env).toMatchObject({
      AGENT_ID: 'controller',
      AGENT_PORT: '19100',
      AGENT_URL: 'http://127.0.0.1:19100',
      CONNECTED_AGENTS: 'http://127.0.0.1:19101,http://127.0.0.1:19102',
    });
    expect(JSON.parse(p.agents.controller.env.A2A_PEERS)).toEqual({ weather: 'http://127.0.0.1:19101', maps: 'http://127.0.0.1:19102' });
    expect(p.agents.weather.health).toEqual({ path: '/health', timeoutMs: 20000, intervalMs: 100 });
  });

  test('pipeline: the last stage deploys first, each stage calls the next', () => {
    const p = planOf('pipeline.yaml');
    expect(p.stages).toEqual([['output'], ['transform'], ['validate'], ['ingest']]);
    expect(calls(p)).toEqual({ ingest: ['validate'], validate: ['transform'], transform: ['output'], output: [] });
    expect(p.entry).toBe('ingest');
    expect(p.agents.transform.env.STAGE_OP).toBe('uppercase');
  });

  test('dag: sinks first, stage = height', () => {
    const p = planOf('distributed-dag.yaml');
    expect(p.stages).toEqual([['collector'], ['stats', 'trend', 'words'], ['aggregator'], ['report']]);
    expect(p.entry).toBe('report');
    expect(p.agents.aggregator.dependsOn).toEqual(['stats', 'trend', 'words']);
  });

  test('dag: an agent waits for its highest callee (height, not depth)', () => {
    const text = [
      'job: { name: skew }',
      'agents:',
      ...['a', 'b', 'c', 'd'].map((id, i) => `  - { id: ${id}, module: x, config: { port: ${2000 + i} } }`),
      'topology:',
      '  type: dag',
      '  connections: [{from: a, to: b}, {from: b, to: c}, {from: a, to: d}]',
    ].join('\n');
    const loaded = loadJobText('skew.yaml', text);
    const p = resolvePlan(loaded.job!, 'skew.yaml');
    expect(p.stages).toEqual([['c', 'd'], ['b'], ['a']]);
  });

  test('mesh: everyone starts together and knows everyone else', () => {
    const p = planOf('collaborative-mesh.yaml');
    expect(p.stages).toEqual([['planner', 'researcher', 'critic', 'writer']]);
    expect(p.agents.critic.connectsTo).toEqual(['planner', 'researcher', 'writer']);
    expect(p.agents.critic.dependsOn).toEqual([]);
    expect(p.entry).toBe('planner');
  });

  test('hierarchical: leaves first, root last', () => {
    const p = planOf('hierarchical-tree.yaml');
    expect(p.stages).toEqual([['paris', 'berlin', 'new-york', 'sao-paulo'], ['europe', 'americas'], ['global']]);
    expect(calls(p).europe).toEqual(['paris', 'berlin']);
    expect(p.entry).toBe('global');
  });

  test('URLs follow the target: remote host, container on a job network or the host network', () => {
    const text = [
      'job: { name: mixed }',
      'agents:',
      '  - { id: local, module: x, config: { port: 3001 } }',
      '  - { id: far, module: x, config: { port: 3002 }, deployment: { target: remote, host: 10.0.0.5 } }',
      '  - { id: boxed, config: { port: 3003 }, deployment: { target: container, image: img, network: jobnet } }',
      '  - { id: hostnet, config: { port: 3004 }, deployment: { target: container, image: img } }',
      'topology: { type: hub-spoke, hub: local, spokes: [far, hostnet] }',
    ].join('\n');
    const loaded = loadJobText('mixed.yaml', text);
    expect(loaded.diagnostics.map((d) => d.severity)).toEqual(['warning']); // boxed is not in the topology
    const s = planSummary(resolvePlan(loaded.job!, 'mixed.yaml'));
    expect(Object.fromEntries(Object.entries(s.agents).map(([id, a]) => [id, a.url]))).toEqual({
      local: 'http://127.0.0.1:3001',
      far: 'http://10.0.0.5:3002',
      boxed: `http://${containerName('mixed', 'boxed')}:3003`,
      hostnet: 'http://127.0.0.1:3004',
    });
  });

  test('the spec hash changes with what runs, not with where it sits in the plan', () => {
    const a = planOf('simple-weather.yaml');
    const b = planOf('simple-weather.yaml');
    expect(a.agents.weather.specHash).toBe(b.agents.weather.specHash);
    expect(a.agents.weather.specHash).not.toBe(a.agents.maps.specHash);
  });

  test('mermaid output draws stages and calls', () => {
    const m = planToMermaid(planOf('simple-weather.yaml'));
    expect(m.split('\n')).toEqual([
      'graph LR',
      '  subgraph stage0["stage 0"]',
      '    a_weather["weather<br/>localhost :19101"]',
      '    a_maps["maps<br/>localhost :19102"]',
      '  end',
      '  subgraph stage1["stage 1"]',
      '    a_controller["controller<br/>localhost :19100"]',
      '  end',
      '  a_controller -->|calls| a_weather',
      '  a_controller -->|calls| a_maps',
    ]);
  });

  test('the multi-target example spans a container, an SSH host and a host worker', () => {
    const p = planOf('multi-target.yaml');
    expect(Object.values(p.agents).map((a) => [a.id, a.target, a.taskQueue])).toEqual([
      ['controller', 'localhost', 'a2a-deploy'],
      ['weather', 'container', 'a2a-deploy'],
      ['maps', 'remote', 'a2a-deploy'],
      ['paris', 'localhost', 'a2a-deploy-host-h1'],
    ]);
    expect(p.agents.paris.url).toBe('http://10.203.0.11:19183');
    expect(p.agents.paris.env.AGENT_HOST).toBe('10.203.0.11');
    expect(p.stages).toEqual([['weather', 'maps', 'paris'], ['controller']]);
    // The SSH host's workdir is the user's to give, not one checkout's path.
    const given = loadJobFile(join(examples, 'multi-target.yaml'), { vars: { A2A_EXAMPLE_WORKDIR: '/srv/a2a' } });
    expect(resolvePlan(given.job!, join(examples, 'multi-target.yaml')).agents.maps.deployment.workdir).toBe('/srv/a2a');
    const missing = loadJobFile(join(examples, 'multi-target.yaml'), { vars: {} });
    expect(missing.diagnostics.map((d) => d.message)).toEqual([
      'variable A2A_EXAMPLE_WORKDIR is not set: a folder on the SSH host where a2a-deploy is installed',
    ]);
  });
});
