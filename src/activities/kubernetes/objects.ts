// The Kubernetes objects of an agent, from its plan: pure functions (unit-tested). Per agent a
// Deployment, a ClusterIP Service with a named port `a2a`, and a Secret when it has secrets;
// all labelled with the job, the agent and the server marker, and owned by the job's owner
// ConfigMap (deleting it collects everything through Kubernetes' garbage collector).
import { kubeName, kubeNamespace, type AgentPlan } from '../../job/plan';
import { sizeBytes } from '../../job/schema';
import { MARKER, markerOf, SERVER, SPEC } from '../markers';
import { LABEL_AGENT, LABEL_JOB, LABEL_SERVER, LABEL_SPEC } from '../docker/labels';

/** Label values are at most 63 characters of [A-Za-z0-9._-]; the server marker is a hash. */
const labelValue = (v: string) => v.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63);

export const jobSelector = (job: string, server: string) => `${LABEL_JOB}=${job},${LABEL_SERVER}=${labelValue(server)}`;
export const agentSelector = (job: string, agent: string, server: string) => `${jobSelector(job, server)},${LABEL_AGENT}=${agent}`;

export const ownerName = (job: string) => kubeName(job, '');

export function labels(job: string, server: string, agent?: string): Record<string, string> {
  return { [LABEL_JOB]: job, [LABEL_SERVER]: labelValue(server), ...(agent ? { [LABEL_AGENT]: agent } : {}) };
}

export interface Owner {
  name: string;
  uid: string;
}

const ownerRefs = (o: Owner) => [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.name, uid: o.uid, blockOwnerDeletion: true }];

/** The job's owner object. */
export function ownerConfigMap(job: string, server: string) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ownerName(job), labels: labels(job, server) }, data: { job } };
}

/** Kubernetes quantities: cpus as millicores, memory in bytes. */
export const cpuQuantity = (cpus: number) => `${Math.max(1, Math.round(cpus * 1000))}m`;
export const memoryQuantity = (memory: string) => String(sizeBytes(memory));

function probe(agent: AgentPlan) {
  const port = 'a2a';
  const timing = { periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 3 };
  if (agent.health.type === 'tcp') return { tcpSocket: { port }, ...timing };
  return { httpGet: { path: agent.health.path, port }, ...timing };
}

/**
 * The agent's Deployment. `env` is the plan's environment with the markers (never a secret
 * value: those come from the Secret by reference).
 */
export function deployment(job: string, agent: AgentPlan, server: string, owner: Owner, env: Record<string, string>) {
  const d = agent.deployment;
  const name = kubeName(job, agent.id);
  const secretNames = Object.keys(d.secrets ?? {});
  const limits = { ...(d.cpus ? { cpu: cpuQuantity(d.cpus) } : {}), ...(d.memory ? { memory: memoryQuantity(d.memory) } : {}) };
  const command = agent.run.command ?? [d.node, agent.run.module ?? ''];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: kubeNamespace(d),
      labels: labels(job, server, agent.id),
      annotations: { [LABEL_SPEC]: agent.specHash },
      ownerReferences: ownerRefs(owner),
    },
    spec: {
      replicas: d.replicas ?? 1,
      selector: { matchLabels: labels(job, server, agent.id) },
      // One extra pod during a rollout, none unavailable.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(job, server, agent.id), annotations: { [LABEL_SPEC]: agent.specHash } },
        spec: {
          // Restarts are the kubelet's (the workflow reads its counts).
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: Math.max(1, Math.ceil(agent.stopGraceMs / 1000)),
          enableServiceLinks: false,
          ...(d.serviceAccount ? { serviceAccountName: d.serviceAccount } : {}),
          ...(d.nodeSelector ? { nodeSelector: d.nodeSelector } : {}),
          containers: [
            {
              name: 'agent',
              image: d.image,
              imagePullPolicy: { always: 'Always', 'if-not-present': 'IfNotPresent', never: 'Never' }[d.pull],
              command: [...command, ...agent.run.args],
              ...(d.workdir ? { workingDir: d.workdir } : {}),
              ports: [{ name: 'a2a', containerPort: agent.port, protocol: 'TCP' }],
              env: [
                ...Object.entries(env).map(([n, value]) => ({ name: n, value })),
                ...secretNames.map((n) => ({ name: n, valueFrom: { secretKeyRef: { name, key: n } } })),
              ],
              readinessProbe: probe(agent),
              ...(Object.keys(limits).length ? { resources: { limits } } : {}),
            },
          ],
        },
      },
    },
  };
}

export function service(job: string, agent: AgentPlan, server: string, owner: Owner) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: kubeName(job, agent.id),
      namespace: kubeNamespace(agent.deployment),
      labels: labels(job, server, agent.id),
      ownerReferences: ownerRefs(owner),
    },
    spec: {
      type: 'ClusterIP',
      selector: labels(job, server, agent.id),
      ports: [{ name: 'a2a', port: agent.port, targetPort: 'a2a', protocol: 'TCP', appProtocol: 'a2a' }],
    },
  };
}

export function secret(job: string, agent: AgentPlan, server: string, owner: Owner, values: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: kubeName(job, agent.id),
      namespace: kubeNamespace(agent.deployment),
      labels: labels(job, server, agent.id),
      ownerReferences: ownerRefs(owner),
    },
    stringData: values,
  };
}

/** The markers every agent's environment carries (as the other runners' agents). */
export const markerEnv = (job: string, agent: AgentPlan, server: string) => ({
  [MARKER]: markerOf(job, agent.id),
  [SPEC]: agent.specHash,
  [SERVER]: server,
});
