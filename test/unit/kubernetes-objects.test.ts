// The kubernetes target's plan and objects, pure: names, URLs, ports, and what goes into the
// Deployment, Service and Secret (and what never does).
import { deployment, secret, service } from '../../src/activities/kubernetes/objects';
import { kubeName, resolvePlan } from '../../src/job/plan';
import { loadJobText } from '../../src/job/validate';

const yaml = (deploymentLines: string, port2 = 8080) => `job: { name: kube-unit }
agents:
  - id: front
    module: /app/dist/agents/text-stage.js
    config: { port: 8080 }
    deployment:
      target: kubernetes
      image: a2a-deploy/agent:test
${deploymentLines}
  - id: back
    command: [node, /app/dist/agents/weather.js]
    config: { port: ${port2}, health: { type: tcp } }
    deployment: { target: kubernetes, image: a2a-deploy/agent:test, namespace: agents }
topology: { type: pipeline, stages: [front, back] }
`;
const planOf = (text: string) => {
  const loaded = loadJobText('/jobs/k.yaml', text);
  expect(loaded.diagnostics).toEqual([]);
  return resolvePlan(loaded.job!, '/jobs/k.yaml');
};
const owner = { name: 'a2a-kube-unit--0', uid: 'uid-1' };

test('agents in a cluster may share a port; peers get the Services’ cluster DNS names', () => {
  const p = planOf(yaml('      replicas: 2'));
  expect(p.agents.back.url).toBe(`http://${kubeName('kube-unit', 'back')}.agents.svc.cluster.local:8080`);
  expect(JSON.parse(p.agents.front.env.A2A_PEERS)).toEqual({ back: p.agents.back.url });
  expect(p.agents.front.env.AGENT_HOST).toBe('0.0.0.0');
  expect(p.agents.front.url).toContain('.default.svc.cluster.local:8080');
});

test('object names are DNS labels of at most 63 characters, distinct per job and agent', () => {
  const long = kubeName('j'.repeat(63), 'a'.repeat(63));
  expect(long.length).toBeLessThanOrEqual(63);
  expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  expect(kubeName('a-b', 'c')).not.toBe(kubeName('a', 'b-c'));
});

test('the Deployment: replicas, limits, a readiness probe from the health settings, secrets by reference only', () => {
  const p = planOf(
    yaml('      replicas: 2\n      cpus: 0.25\n      memory: 64m\n      pull: never\n      secrets: { API_KEY: "env:SOME_VAR" }'),
  );
  const d = deployment('kube-unit', p.agents.front, 'srv', owner, { AGENT_PORT: '8080' });
  const c = d.spec.template.spec.containers[0];
  expect(d.spec.replicas).toBe(2);
  expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  expect(c.resources).toEqual({ limits: { cpu: '250m', memory: String(64 * 1024 * 1024) } });
  expect(c.imagePullPolicy).toBe('Never');
  expect(c.command).toEqual(['node', '/app/dist/agents/text-stage.js']);
  expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/.well-known/agent-card.json', port: 'a2a' } });
  expect(c.env).toContainEqual({ name: 'API_KEY', valueFrom: { secretKeyRef: { name: kubeName('kube-unit', 'front'), key: 'API_KEY' } } });
  expect(d.metadata.ownerReferences).toEqual([
    { apiVersion: 'v1', kind: 'ConfigMap', name: owner.name, uid: 'uid-1', blockOwnerDeletion: true },
  ]);
  expect(d.metadata.annotations['a2a-deploy.spec']).toBe(p.agents.front.specHash);
  expect(d.spec.selector.matchLabels).toEqual({ 'a2a-deploy.job': 'kube-unit', 'a2a-deploy.server': 'srv', 'a2a-deploy.agent': 'front' });

  const tcp = deployment('kube-unit', p.agents.back, 'srv', owner, {}).spec.template.spec.containers[0];
  expect(tcp.readinessProbe).toMatchObject({ tcpSocket: { port: 'a2a' } });
  expect(tcp.command).toEqual(['node', '/app/dist/agents/weather.js']);
});

test('the Service has a named port with appProtocol a2a; the Secret holds the values it is given', () => {
  const p = planOf(yaml(''));
  const s = service('kube-unit', p.agents.back, 'srv', owner);
  expect(s.metadata.namespace).toBe('agents');
  expect(s.spec.ports).toEqual([{ name: 'a2a', port: 8080, targetPort: 'a2a', protocol: 'TCP', appProtocol: 'a2a' }]);
  expect(secret('kube-unit', p.agents.front, 'srv', owner, { API_KEY: 'v' }).stringData).toEqual({ API_KEY: 'v' });
});

test('replicas must be a whole number of at least 1', () => {
  const ds = loadJobText('/jobs/k.yaml', yaml('      replicas: 0')).diagnostics;
  expect(ds.map((d) => d.message)).toEqual(['replicas must be a whole number: 1 or more']);
});
