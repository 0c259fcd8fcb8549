// Resource limits of container agents on a real Docker engine: a memory hog is killed at its
// limit and reported as out of memory in the same words as the other targets, the OOM kill is
// counted, and pids reaches the container as PidsLimit. The hog is the test fixture, mounted
// read-only into the agent image (built by scripts/build-agent-image.sh when missing).
import { join } from 'node:path';
import type { AgentPlan } from '../../src/job/plan';
import { registry } from '../../src/metrics/instruments';
import { docker, dockerRunner, IMAGE, planFromYaml, prepareDocker, removeJob } from './support/docker';
import { ROOT } from './support/stack';

jest.setTimeout(90_000);
const JOB = 'limits-docker';

beforeAll(async () => {
  const images = await docker.listImages({ filters: { reference: [IMAGE] } });
  if (images.length === 0) prepareDocker();
  await removeJob(JOB);
}, 600_000);
afterAll(() => removeJob(JOB));

const agentOf = (id: string, port: number, deployment: string, env: Record<string, string>): AgentPlan =>
  planFromYaml(
    `job: { name: ${JOB} }
agents:
  - id: ${id}
    module: /fx/hog.js
    config: { port: ${port}, health: { timeout: 20s } }
    deployment:
      target: container
      image: ${IMAGE}
      pull: never
      volumes: ["${join(ROOT, 'test', 'fixtures', 'agents')}:/fx:ro"]
      environment: ${JSON.stringify(env)}
      ${deployment}
topology: { type: mesh, agents: [${id}] }
`,
  ).agents[id];

test('a container over its memory limit is killed and reported as out of memory; pids reaches Docker as PidsLimit', async () => {
  const a = agentOf('hog', 29231, 'memory: 96m\n      pids: 64', { HOG: 'memory', HOG_AFTER_MS: '1500' });
  const s = await dockerRunner.startAgent({ job: JOB, agent: a });
  const info = await docker.getContainer(s.containerId!).inspect();
  expect(info.HostConfig).toMatchObject({ Memory: 96 * 2 ** 20, PidsLimit: 64 });
  await dockerRunner.waitHealthy({ job: JOB, agent: a, pid: s.pid, containerId: s.containerId });
  const events = await dockerRunner.watchAgents({
    job: JOB,
    agents: [{ id: a.id, pid: s.pid, containerId: s.containerId, healthUrl: a.healthUrl, target: a.target, deployment: a.deployment }],
  });
  expect(events).toHaveLength(1);
  expect(events[0].detail).toBe("agent 'hog' killed: out of memory (limit 96m) (exit code 137)");
  expect(registry.render()).toContain(`a2a_agent_oom_kills_total{job="${JOB}",agent="hog",target="container"} 1`);
  await dockerRunner.stopAgent({ job: JOB, agent: a });
});
