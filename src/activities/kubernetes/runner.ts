// The kubernetes runner: each agent as a Deployment and a ClusterIP Service (and a Secret when
// it has secrets) in the cluster of the worker's kubeconfig (KUBECONFIG or ~/.kube/config, as
// kubectl finds it).
//
// The objects, found by their names (kubeName) and checked by their labels, are the truth about
// what runs: a start applies them with server-side apply, so a retried start, or one after a
// worker was SIGKILLed mid-start, updates the same objects and never makes a second Deployment.
// A Deployment whose spec-hash annotation matches is reused as it is.
//
// Health: the pods' readinessProbe comes from the agent's health settings; the gate opens when
// a2a-deploy's own readiness check passes through the API server's service proxy (a loopback
// forwarder, proxy.ts: the worker needs no route into the pod network) and the Deployment has
// all its replicas available. Pods that cannot run fail the gate with Kubernetes' reason.
import { ApplicationFailure } from '@temporalio/activity';
import { kubeName, kubeNamespace, type AgentPlan } from '../../job/plan';
import { lastLines } from '../../common/text-tail';
import { sleep } from '../../common/sleep';
import { activityContext, withHeartbeat } from '../context';
import { pollHealth } from '../health';
import { buildAgentEnv, resolveSecretsOrFail, scrub, scrubLogs, secretValues } from '../agent-env';
import type { AgentEvent, RunnerActivities, WatchedAgent } from '../types';
import { watchLoop } from '../watch';
import { LABEL_AGENT, LABEL_JOB, LABEL_SERVER, LABEL_SPEC } from '../docker/labels';
import { KubeApi } from './api';
import { loadClusterAccess } from './kubeconfig';
import {
  agentSelector,
  deployment,
  jobSelector,
  labels,
  markerEnv,
  ownerConfigMap,
  ownerName,
  secret,
  service,
  type Owner,
} from './objects';
import { isReady, listPods, podLog, podTrouble, troubleTail, type Pod } from './pods';
import { ServiceProxy } from './proxy';

export interface KubernetesRunnerDeps {
  serverMarker: string;
}

interface Meta {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string };
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

export function createKubernetesRunner({ serverMarker }: KubernetesRunnerDeps): RunnerActivities {
  const apis = new Map<string, KubeApi>();
  // One client per kubeconfig context, made on first use (a worker without a kubeconfig runs
  // every other target as before).
  const apiOf = (d: AgentPlan['deployment']) => {
    const key = d.context ?? '';
    let api = apis.get(key);
    if (!api) apis.set(key, (api = new KubeApi(loadClusterAccess(d.context))));
    return api;
  };
  const proxies = new Map<string, ServiceProxy>();
  const proxyOf = (d: AgentPlan['deployment']) => {
    const key = d.context ?? '';
    let p = proxies.get(key);
    if (!p) proxies.set(key, (p = new ServiceProxy(() => apiOf(d))));
    return p;
  };
  const paths = (job: string, agent: { id: string; deployment: AgentPlan['deployment'] }) => {
    const ns = kubeNamespace(agent.deployment);
    const name = kubeName(job, agent.id);
    return {
      ns,
      name,
      deployment: `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
      service: `/api/v1/namespaces/${ns}/services/${name}`,
      secret: `/api/v1/namespaces/${ns}/secrets/${name}`,
      owner: `/api/v1/namespaces/${ns}/configmaps/${ownerName(job)}`,
    };
  };
  const ours = (o: Meta | undefined, job: string, agent?: string) => {
    const l = o?.metadata?.labels ?? {};
    return (
      l[LABEL_JOB] === job &&
      l[LABEL_SERVER] === labels(job, serverMarker)[LABEL_SERVER] &&
      (agent === undefined || l[LABEL_AGENT] === agent)
    );
  };
  const scrubbed = (text: string, a: { id: string; deployment: AgentPlan['deployment'] }) =>
    scrub(text, secretValues(a.id, a.deployment.secrets, process.env));

  /** The job's owner ConfigMap in the namespace, made on first use. */
  async function ensureOwner(api: KubeApi, path: string, job: string, ns: string): Promise<Owner> {
    for (;;) {
      const got = await api.get<Meta>(path);
      if (got.status === 200) {
        if (!ours(got.body, job))
          throw ApplicationFailure.nonRetryable(`ConfigMap ${ns}/${ownerName(job)} exists and is not this job's`, 'NameTaken');
        return { name: ownerName(job), uid: got.body.metadata!.uid! };
      }
      const made = await api.call<Meta>('POST', `/api/v1/namespaces/${ns}/configmaps`, ownerConfigMap(job, serverMarker), { ok: [409] });
      if (made.status !== 409) return { name: ownerName(job), uid: made.body.metadata!.uid! };
    }
  }

  return {
    async startAgent({ job, agent }) {
      const d = agent.deployment;
      if (!d.image)
        throw ApplicationFailure.nonRetryable(`agent '${agent.id}' has target kubernetes but no deployment.image`, 'AgentSpecError');
      const api = apiOf(d);
      const p = paths(job, agent);
      return withHeartbeat(async () => {
        const startedAt = new Date().toISOString();
        const logDir = `kubernetes:${p.ns}/${p.name}`;
        const existing = await api.get<Meta>(p.deployment);
        if (existing.status === 200) {
          if (!ours(existing.body, job, agent.id)) {
            throw ApplicationFailure.nonRetryable(
              `Deployment ${p.ns}/${p.name} exists and is not agent '${agent.id}' of this job`,
              'NameTaken',
            );
          }
          // Idempotent: this exact spec is deployed already (a retried or replayed start).
          if (existing.body.metadata?.annotations?.[LABEL_SPEC] === agent.specHash) return { pid: 0, reused: true, startedAt, logDir };
        }
        const owner = await ensureOwner(api, p.owner, job, p.ns);
        // Secret values are read here, on the worker, and go only into the Secret object.
        const values = resolveSecretsOrFail(agent.id, d.secrets, process.env);
        if (Object.keys(values).length) await api.apply(p.secret, secret(job, agent, serverMarker, owner, values));
        else await deleteIfOurs(api, p.secret, job, agent.id);
        const env = buildAgentEnv({
          base: false,
          workerEnv: process.env,
          inherit: d.inheritEnv,
          planEnv: agent.env,
          markers: markerEnv(job, agent, serverMarker),
        });
        await api.apply(p.service, service(job, agent, serverMarker, owner));
        await api.apply(p.deployment, deployment(job, agent, serverMarker, owner, env));
        return { pid: 0, reused: false, startedAt, logDir };
      });
    },

    async waitHealthy({ job, agent }) {
      const api = apiOf(agent.deployment);
      const p = paths(job, agent);
      const ctx = activityContext();
      const selector = agentSelector(job, agent.id, serverMarker);
      const t0 = Date.now();
      let pods: Pod[] = [];
      let trouble: string | undefined;
      // tcp: the Service proxy speaks HTTP only; the pods' tcpSocket probe and availability decide.
      const probed: AgentPlan =
        agent.health.type === 'tcp' ? agent : { ...agent, healthUrl: await proxyOf(agent.deployment).url(p.ns, p.name, agent.health.path) };
      const result =
        agent.health.type === 'tcp'
          ? { attempts: 0, ms: 0 }
          : await pollHealth(probed, {
              alive: async () => {
                pods = await listPods(api, p.ns, selector);
                trouble = podTrouble(pods);
                return !trouble;
              },
              describeExit: () => `agent '${agent.id}' cannot run: ${trouble ?? 'its pods are gone'}`,
              stderr: async () => scrubbed(await troubleTail(api, p.ns, pods), agent),
              signal: ctx?.cancellationSignal ?? new AbortController().signal,
              heartbeat: (d) => ctx?.heartbeat(d),
            });
      // Every replica available, on the current spec (a rollout is done).
      for (let attempts = result.attempts; ; attempts++) {
        const dep = await api.get<Meta>(p.deployment);
        const want = dep.body?.spec?.replicas ?? 1;
        if (dep.status === 200 && (dep.body.status?.availableReplicas ?? 0) >= want && (dep.body.status?.updatedReplicas ?? 0) >= want) {
          return { attempts, ms: Date.now() - t0 };
        }
        pods = await listPods(api, p.ns, selector);
        trouble = podTrouble(pods);
        if (trouble || dep.status !== 200) {
          throw ApplicationFailure.nonRetryable(
            `agent '${agent.id}' cannot run: ${trouble ?? 'its Deployment is gone'}`,
            'AgentExited',
            scrubbed(await troubleTail(api, p.ns, pods), agent),
          );
        }
        if (Date.now() - t0 > agent.health.timeoutMs) {
          const avail = dep.body.status?.availableReplicas ?? 0;
          throw ApplicationFailure.nonRetryable(
            `agent '${agent.id}' has ${avail} of ${want} replicas available after ${agent.health.timeoutMs} ms`,
            'AgentUnhealthy',
            scrubbed(await troubleTail(api, p.ns, pods), agent),
          );
        }
        ctx?.heartbeat({ attempts });
        await sleep(100);
      }
    },

    async stopAgent({ job, agent, force }) {
      const api = apiOf(agent.deployment);
      const p = paths(job, agent);
      return withHeartbeat(async () => {
        const dep = await api.get<Meta>(p.deployment);
        const wasRunning = dep.status === 200 && ours(dep.body, job, agent.id);
        if (wasRunning) await api.delete(p.deployment, 'Foreground', force ? 0 : undefined);
        await deleteIfOurs(api, p.service, job, agent.id);
        await deleteIfOurs(api, p.secret, job, agent.id);
        const selector = agentSelector(job, agent.id, serverMarker);
        if (force)
          await api.call('DELETE', `/api/v1/namespaces/${p.ns}/pods?labelSelector=${encodeURIComponent(selector)}`, {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            gracePeriodSeconds: 0,
          });
        // Until its pods are gone (their grace period, plus a margin for the kubelet).
        const deadline = Date.now() + agent.stopGraceMs + 30_000;
        while ((await listPods(api, p.ns, selector)).length > 0 || (await api.get(p.deployment)).status === 200) {
          if (Date.now() > deadline)
            throw ApplicationFailure.retryable(
              `agent '${agent.id}': pods still terminating after ${agent.stopGraceMs + 30_000} ms`,
              'StopTimeout',
            );
          await sleep(200);
        }
        // The job's last agent in this namespace: its owner object goes too.
        const left = await api.call<{ items: unknown[] }>(
          'GET',
          `/apis/apps/v1/namespaces/${p.ns}/deployments?labelSelector=${encodeURIComponent(jobSelector(job, serverMarker))}`,
        );
        if (left.body.items.length === 0) await deleteIfOurs(api, p.owner, job);
        return { wasRunning, forced: !!force };
      });
    },

    async watchAgents(opts) {
      // One pod list per namespace and round for all the watched agents, and health checks
      // through the service proxy (the plan's URL is the in-cluster one).
      // (tcp agents: a connect to the forwarder, which always answers; their pods' tcpSocket probe
      // and the liveness below decide.)
      const agents = await Promise.all(
        opts.agents.map(async (a) => {
          const p = paths(opts.job, a);
          return { ...a, healthUrl: await proxyOf(a.deployment).url(p.ns, p.name, new URL(a.healthUrl).pathname) };
        }),
      );
      const podsOf = new Map<string, Pod[]>();
      const nsKey = (a: WatchedAgent) => `${a.deployment.context ?? ''}\0${kubeNamespace(a.deployment)}`;
      return watchLoop(
        { ...opts, agents },
        {
          intervalMs: 1000,
          liveness: async (live) => {
            const byNs = new Map<string, WatchedAgent[]>();
            for (const a of live) byNs.set(nsKey(a), [...(byNs.get(nsKey(a)) ?? []), a]);
            const alive: WatchedAgent[] = [];
            const events: AgentEvent[] = [];
            for (const group of byNs.values()) {
              const d = group[0].deployment;
              const pods = await listPods(apiOf(d), kubeNamespace(d), jobSelector(opts.job, serverMarker));
              for (const a of group) {
                const mine = pods.filter((p) => p.metadata.labels?.[LABEL_AGENT] === a.id);
                podsOf.set(a.id, mine);
                const trouble = podTrouble(mine);
                // A pod deleted by hand is replaced by its ReplicaSet: only no pods at all, or
                // pods that cannot run and none ready, end the agent.
                if (mine.length > 0 && (mine.some(isReady) || !trouble)) alive.push(a);
                else
                  events.push({
                    id: a.id,
                    kind: 'exited',
                    exitCode: null,
                    detail: `agent '${a.id}': ${trouble ?? 'its pods are gone'}`,
                    stderr: scrubbed(await troubleTail(apiOf(d), kubeNamespace(d), mine), a),
                  });
              }
            }
            return { alive, events };
          },
          stderrOf: async (a) => scrubbed(await troubleTail(apiOf(a.deployment), kubeNamespace(a.deployment), podsOf.get(a.id) ?? []), a),
        },
      );
    },

    async readLogs({ job, agent, tail, offsets }) {
      const api = apiOf(agent.deployment);
      const p = paths(job, agent);
      const pods = (await listPods(api, p.ns, agentSelector(job, agent.id, serverMarker))).sort((a, b) =>
        a.metadata.name.localeCompare(b.metadata.name),
      );
      // Every replica's log, each line prefixed with its pod when there are several; stdout and
      // stderr come merged from the kubelet.
      const parts = await Promise.all(
        pods.map(async (pod) => {
          const text = await podLog(api, p.ns, pod.metadata.name);
          return pods.length > 1 ? text.replace(/^(?=.)/gm, `[${pod.metadata.name}] `) : text;
        }),
      );
      const buf = Buffer.from(parts.join(''), 'utf8');
      const from = offsets && buf.length >= offsets.stdout ? offsets.stdout : 0;
      const stdout = offsets ? buf.subarray(from).toString('utf8') : tail > 0 ? lastLines(buf.toString('utf8'), tail) : '';
      return scrubLogs({ stdout, stderr: '', offsets: { stdout: buf.length, stderr: 0 } }, agent);
    },
  };
}

/** Deletes an object if it carries this job's (and agent's) labels; a missing one is fine. */
// Background: a Service, Secret or owner has no pods to wait for, and is gone at once (a
// Foreground delete would leave it listed until the garbage collector's next pass).
async function deleteIfOurs(api: KubeApi, path: string, job: string, agent?: string): Promise<void> {
  const got = await api.get<Meta>(path);
  if (got.status !== 200) return;
  const l = got.body.metadata?.labels ?? {};
  if (l[LABEL_JOB] !== job || (agent !== undefined && l[LABEL_AGENT] !== agent)) return;
  await api.delete(path, 'Background');
}
