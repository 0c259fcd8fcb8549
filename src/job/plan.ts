// Resolves a validated job into a deployment plan: stages, URLs, who calls whom, and the full
// runtime spec of every agent. The deploy workflow only walks this plan, so everything that
// needs judgement (or I/O, or hashing) happens here, outside the workflow.
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { bracketHost as hostForUrl } from '../common/host';
import { hostTaskQueue, WORKFLOW_TASK_QUEUE as MAIN_TASK_QUEUE } from '../config/names';
import { durationMs, sizeBytes, type AgentSpec, type JobFile, type Target, type TopologyType } from './schema';
import { readinessOf, type ReadinessType } from './readiness';
import { callGraph, mentionedAgents, stagesByHeight } from './topology';

export interface RestartPlan {
  policy: 'never' | 'on-failure' | 'always';
  maxRestarts: number;
  windowMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface AgentPlan {
  id: string;
  type?: string;
  target: Target;
  port: number;
  /** the URL the other agents call */
  url: string;
  /** where the deployer checks health, from the machine that runs the agent */
  healthUrl: string;
  stage: number;
  /** agents this one calls (their URLs are given to it) */
  connectsTo: string[];
  /** agents that must be healthy before this one starts (= connectsTo, except in a mesh) */
  dependsOn: string[];
  run: { module?: string; command?: string[]; args: string[] };
  /** the complete environment the agent gets on top of the runner's own */
  env: Record<string, string>;
  /** `type` is absent in plans made before readiness types (they meant http) */
  health: { type?: ReadinessType; path: string; timeoutMs: number; intervalMs: number };
  restart: RestartPlan;
  stopGraceMs: number;
  deployment: DeploymentPlan;
  /** the task queue whose worker runs this agent's activities */
  taskQueue: string;
  /** how long that worker may take to pick up work before the deploy fails */
  workerTimeoutMs: number;
  /** directory relative paths in the spec resolve against (the job file's folder) */
  baseDir: string;
  /** identifies this exact spec: same hash, same running agent */
  specHash: string;
}

export interface DeploymentPlan {
  /** secret references by variable name (file:PATH, env:NAME), resolved by the worker that starts the agent */
  secrets?: Record<string, string>;
  /** worker variables the agent inherits by name */
  inheritEnv?: string[];
  worker?: string;
  host?: string;
  user?: string;
  sshKey?: string;
  sshPort: number;
  knownHosts?: string;
  hostKey?: string;
  workdir?: string;
  node: string;
  image?: string;
  network?: string;
  pull: 'always' | 'if-not-present' | 'never';
  volumes: string[];
  cpus?: number;
  memory?: string;
  /** the most processes and threads (absent: not limited) */
  pids?: number;
  /** kubernetes: the namespace (default `default`), kubeconfig context, replicas, pod settings */
  namespace?: string;
  context?: string;
  replicas?: number;
  serviceAccount?: string;
  nodeSelector?: Record<string, string>;
  /** local agents' log rotation, only when the job file sets it (so other agents' spec hashes stay as they were) */
  logs?: { maxBytes: number; keep: number };
}

/** The task queue of the main worker, and of each host worker (defined in config/names). */
export { hostTaskQueue, MAIN_TASK_QUEUE };

export interface DeployPlan {
  job: string;
  description?: string;
  priority: string;
  topology: TopologyType;
  sourceFile: string;
  stages: string[][];
  /** agents in file order */
  agents: Record<string, AgentPlan>;
  /** the agent a user talks to: nobody calls it */
  entry: string;
}

/** The namespace of a kubernetes agent: the job file's, else `default`. */
export const kubeNamespace = (d: { namespace?: string }) => d.namespace ?? 'default';

/** A kubernetes agent's object name (Deployment, Service, Secret): a DNS-1035 label of at most
 *  63 characters, unique per job and agent (the hash, as in containerName). */
export function kubeName(job: string, agent: string): string {
  const hash = createHash('sha256').update(`${job}\0${agent}`).digest('hex').slice(0, 8);
  return `a2a-${`${job}-${agent}`.slice(0, 63 - 4 - 9)}-${hash}`;
}

/** An agent's container name (and its DNS name on a job network). Ids may hold '-', so job
 *  `a-b` with agent `c` and job `a` with agent `b-c` would both be `a2a-a-b-c`: a short hash of
 *  the pair keeps the names apart. */
export const containerName = (job: string, agent: string) =>
  `a2a-${job}-${agent}-${createHash('sha256').update(`${job}\0${agent}`).digest('hex').slice(0, 8)}`;

function agentUrl(job: string, a: AgentSpec): string {
  const port = a.config.port;
  switch (a.deployment.target) {
    case 'localhost':
      // A local process on a host worker's machine is reached at that machine's address.
      return `http://${hostForUrl(a.deployment.worker ? (a.deployment.host ?? a.deployment.worker) : '127.0.0.1')}:${port}`;
    case 'remote':
      return `http://${hostForUrl(a.deployment.host!)}:${port}`;
    case 'container':
      // On the host network a container is reached like a local process; on a job network
      // its peers reach it by container name.
      return !a.deployment.network || a.deployment.network === 'host'
        ? `http://127.0.0.1:${port}`
        : `http://${containerName(job, a.id)}:${port}`;
    case 'kubernetes':
      // The Service's cluster DNS name: stable across pods and replicas.
      return `http://${kubeName(job, a.id)}.${kubeNamespace(a.deployment)}.svc.cluster.local:${port}`;
  }
}

/** Where the agent listens: loopback alone unless others must reach it from elsewhere. */
function bindAddress(a: AgentSpec): string {
  const d = a.deployment;
  const isIp = (h?: string) => !!h && /^(\d{1,3}\.){3}\d{1,3}$/.test(h);
  if (d.target === 'kubernetes') return '0.0.0.0'; // the pod's own address
  if (d.target === 'container') return !d.network || d.network === 'host' ? '127.0.0.1' : '0.0.0.0';
  if (d.target === 'remote' || d.worker) return isIp(d.host) ? d.host! : '0.0.0.0';
  return '127.0.0.1';
}

export function resolvePlan(job: JobFile, sourceFile: string): DeployPlan {
  const name = job.job.name;
  const ids = job.agents.map((a) => a.id);
  const graph = callGraph(job.topology);
  const { stages, height } = stagesByHeight(ids, graph.ordered ? graph.calls : new Map());
  const urls = new Map(job.agents.map((a) => [a.id, agentUrl(name, a)]));
  const baseDir = dirname(resolve(sourceFile));

  const agents: Record<string, AgentPlan> = {};
  for (const a of job.agents) {
    const connectsTo = graph.calls.get(a.id) ?? [];
    const peers = Object.fromEntries(connectsTo.map((id) => [id, urls.get(id)!]));
    const url = urls.get(a.id)!;
    const userEnv = Object.fromEntries(Object.entries(a.deployment.environment).map(([k, v]) => [k, String(v)]));
    const env: Record<string, string> = {
      AGENT_HOST: bindAddress(a),
      ...userEnv,
      // The deployer's variables win: an agent's identity and wiring come from the plan.
      AGENT_ID: a.id,
      AGENT_PORT: String(a.config.port),
      AGENT_URL: url,
      CONNECTED_AGENTS: connectsTo.map((id) => urls.get(id)).join(','),
      A2A_PEERS: JSON.stringify(peers),
      A2A_JOB: name,
    };
    const d = a.deployment;
    const { type, path } = readinessOf(a.config.health);
    // An http check is recorded as plans recorded it before readiness types (no type): the
    // same job file keeps the same spec hash, so upgrading restarts nothing.
    const health = type === 'http' ? { path } : { type, path };
    const plan: Omit<AgentPlan, 'specHash'> = {
      id: a.id,
      ...(a.type ? { type: a.type } : {}),
      target: d.target,
      port: a.config.port,
      url,
      // Checked from the machine that runs the agent: a published container port or a
      // local process answers on loopback, except on a host worker bound to its address.
      healthUrl: `${d.target === 'remote' || (d.target === 'localhost' && d.worker) ? url : `http://127.0.0.1:${a.config.port}`}${health.path}`,
      stage: height.get(a.id) ?? 0,
      connectsTo,
      dependsOn: graph.ordered ? connectsTo : [],
      run: { ...(a.module ? { module: a.module } : {}), ...(a.command ? { command: a.command } : {}), args: a.args },
      env,
      health: {
        ...health,
        timeoutMs: durationMs(a.config.health.timeout),
        intervalMs: durationMs(a.config.health.interval),
      },
      restart: {
        policy: a.restart.policy,
        maxRestarts: a.restart.max_restarts,
        windowMs: durationMs(a.restart.window),
        backoffMs: durationMs(a.restart.backoff),
        maxBackoffMs: durationMs(a.restart.max_backoff),
      },
      stopGraceMs: durationMs(a.stop_grace),
      deployment: stripUndefined({
        // Only when used, so the spec hash of an agent without them is what it was before.
        secrets: Object.keys(d.secrets).length ? (d.target === 'remote' ? d.secrets : absoluteSecretRefs(d.secrets, baseDir)) : undefined,
        inheritEnv: d.inherit_env.length ? d.inherit_env : undefined,
        worker: d.worker,
        host: d.host,
        user: d.user,
        sshKey: d.ssh_key,
        sshPort: d.ssh_port,
        knownHosts: d.known_hosts,
        hostKey: d.host_key,
        workdir: d.workdir,
        node: d.node,
        image: d.image,
        network: d.network,
        pull: d.pull,
        volumes: d.volumes,
        cpus: d.cpus,
        memory: d.memory,
        pids: d.pids,
        namespace: d.namespace,
        context: d.context,
        replicas: d.replicas,
        serviceAccount: d.service_account,
        nodeSelector: d.node_selector,
        logs: d.logs ? { maxBytes: sizeBytes(d.logs.max_size)!, keep: d.logs.keep } : undefined,
      }) as DeploymentPlan,
      taskQueue: d.worker ? hostTaskQueue(d.worker) : MAIN_TASK_QUEUE,
      workerTimeoutMs: durationMs(d.worker_timeout),
      baseDir,
    };
    agents[a.id] = { ...plan, specHash: specHash(plan) };
  }

  return {
    job: name,
    ...(job.job.description ? { description: job.job.description } : {}),
    priority: job.job.priority,
    topology: job.topology.type,
    sourceFile: resolve(sourceFile),
    stages,
    agents,
    entry: entryAgent(job, graph.calls, height),
  };
}

/** The agent nobody calls (the highest such one), or the first member of a mesh. */
function entryAgent(job: JobFile, calls: Map<string, string[]>, height: Map<string, number>): string {
  if (job.topology.type === 'mesh') return job.topology.agents[0];
  if (job.topology.type === 'hierarchical') return job.topology.root;
  if (job.topology.type === 'hub-spoke') return job.topology.hub;
  const called = new Set([...calls.values()].flat());
  const candidates = mentionedAgents(job.topology).filter((id) => !called.has(id));
  return candidates.reduce((best, id) => ((height.get(id) ?? 0) > (height.get(best) ?? 0) ? id : best), candidates[0] ?? job.agents[0].id);
}

// What a person or a script reads from `plan --json`: exactly this shape.
export function planSummary(plan: DeployPlan) {
  return {
    job: plan.job,
    stages: plan.stages,
    agents: Object.fromEntries(Object.values(plan.agents).map((a) => [a.id, { target: a.target, url: a.url, connectsTo: a.connectsTo }])),
  };
}

function specHash(plan: Omit<AgentPlan, 'specHash'>): string {
  const { stage: _stage, ...spec } = plan; // the stage is where it starts, not what it runs
  return createHash('sha256').update(stableJson(spec)).digest('hex').slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `file:` references relative to the job file's folder, made absolute (as module paths are). */
/** `file:` references made absolute against the job file's folder: read on the worker's machine.
 *  A remote agent's stay as written: the SSH runner reads them on the host, relative to the
 *  agent's workdir there (as its module path), `~/` being the login home. */
function absoluteSecretRefs(refs: Record<string, string>, baseDir: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(refs).map(([k, ref]) => [k, ref.startsWith('file:') ? `file:${resolve(baseDir, ref.slice(5))}` : ref]),
  );
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
