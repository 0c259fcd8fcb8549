// The a2a_* metrics of one worker process, and the hooks the activities call to feed them.
// The hooks are cheap no-ops in effect when no /metrics server runs (the values are only kept).
import type { AgentPlan } from '../job/plan';
import { Gauge, Histogram, ObservedCounter, Registry } from './registry';

/** Seconds: from a fraction of a second (a quick local agent) to minutes (an image pull). */
const START_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const PROBE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];
const DEPLOY_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export const registry = new Registry();

export const agentUp = registry.register(
  new Gauge('a2a_agent_up', 'Whether the agent is healthy (1) or not (0), as its job workflow last saw it', [
    'job',
    'agent',
    'target',
    'host',
  ]),
);
export const agentState = registry.register(
  new Gauge('a2a_agent_state', "The agent's current state: 1 on the series of that state (only that one is exported)", [
    'job',
    'agent',
    'state',
  ]),
);
export const agentRestarts = registry.register(
  new ObservedCounter('a2a_agent_restarts_total', 'Restarts of the agent since its job was submitted, as the job workflow counts them', [
    'job',
    'agent',
  ]),
);
export const agentStartSeconds = registry.register(
  new Histogram(
    'a2a_agent_start_seconds',
    'Time from starting an agent until its health check passed, measured by the worker that started it',
    START_BUCKETS,
    ['job', 'agent', 'target'],
  ),
);
export const healthProbeSeconds = registry.register(
  new Histogram('a2a_health_probe_seconds', 'Duration of one health check of an agent, by target and result (ok, fail)', PROBE_BUCKETS, [
    'target',
    'result',
  ]),
);
export const deployDurationSeconds = registry.register(
  new Histogram(
    'a2a_deploy_duration_seconds',
    'Time from submitting a job until every agent was healthy (first deploy of each run)',
    DEPLOY_BUCKETS,
    ['job'],
  ),
);
export const jobsByPhase = registry.register(new Gauge('a2a_jobs', 'Jobs whose workflow is running, by phase', ['phase']));
export const jobPhase = registry.register(
  new Gauge('a2a_job_phase', "The job's phase: 1 on the series of its current phase", ['job', 'phase']),
);
export const jobPaused = registry.register(new Gauge('a2a_job_paused', 'Whether the job is paused (1) or not (0)', ['job']));
export const hostWorkers = registry.register(
  new Gauge('a2a_host_workers', "Workers that polled the host's task queue within the last 70 s, for hosts that running jobs use", [
    'host',
  ]),
);
export const collectorErrors = registry.register(
  new ObservedCounter('a2a_metrics_collect_errors_total', 'Failed reads of job state by this worker since it started'),
);
export const collectorLastSuccess = registry.register(
  new Gauge('a2a_metrics_last_collect_timestamp_seconds', 'When this worker last read every running job successfully (Unix time)'),
);

/** The `host` label of an agent: the worker or SSH host it runs on, else this machine. */
export const hostOf = (agent: Pick<AgentPlan, 'deployment'>) => agent.deployment.worker ?? agent.deployment.host ?? 'localhost';

/** Hook for deployAgent: a start that reused an agent already running is not a start. */
export function recordAgentStart(ref: { job: string; agent: Pick<AgentPlan, 'id' | 'target'> }, startedAtMs: number, reused: boolean) {
  if (reused) return;
  agentStartSeconds.observe({ job: ref.job, agent: ref.agent.id, target: ref.agent.target }, (Date.now() - startedAtMs) / 1000);
}

/** Hook around one health check: times it and passes its result through (`passed` says whether it passed). */
export async function timedProbe<T>(target: string, probe: () => Promise<T>, passed: (r: T) => boolean = (r) => r === true): Promise<T> {
  const t0 = performance.now();
  const result = await probe();
  healthProbeSeconds.observe({ target, result: passed(result) ? 'ok' : 'fail' }, (performance.now() - t0) / 1000);
  return result;
}

// Resource usage of agents with limits (their cgroups, or Docker's container state), read by the
// worker that runs them, in its watch round: each worker exports the agents it watches.
export const agentMemoryBytes = registry.register(
  new Gauge('a2a_agent_memory_bytes', "The agent's memory use now (its cgroup's, with every process it started)", ['job', 'agent']),
);
export const agentMemoryPeakBytes = registry.register(
  new Gauge('a2a_agent_memory_peak_bytes', "The agent's highest memory use since its last start", ['job', 'agent']),
);
export const agentMemoryLimitBytes = registry.register(
  new Gauge('a2a_agent_memory_limit_bytes', "The agent's memory limit (deployment.memory)", ['job', 'agent']),
);
export const agentCpuSeconds = registry.register(
  new ObservedCounter('a2a_agent_cpu_seconds_total', 'CPU time the agent used since its last start (user and system)', ['job', 'agent']),
);
export const agentThrottledSeconds = registry.register(
  new ObservedCounter('a2a_agent_cpu_throttled_seconds_total', 'Time the agent was held back by its cpus limit since its last start', [
    'job',
    'agent',
  ]),
);
export const agentThrottledPeriods = registry.register(
  new ObservedCounter('a2a_agent_cpu_throttled_periods_total', 'Scheduling periods (100 ms) in which the agent hit its cpus limit', [
    'job',
    'agent',
  ]),
);
export const agentOomKills = registry.register(
  new ObservedCounter('a2a_agent_oom_kills_total', 'Times the agent was killed for going over its memory limit, seen by this worker', [
    'job',
    'agent',
    'target',
  ]),
);

/** Out-of-memory kills this worker has seen, per agent (the groups' own counters start again at each start). */
const oomKills = new Map<string, number>();

/** Hook for the runners: an agent's exit was an out-of-memory kill. */
export function recordOomKill(job: string, agent: string, target: string) {
  const key = JSON.stringify([job, agent, target]);
  const n = (oomKills.get(key) ?? 0) + 1;
  oomKills.set(key, n);
  agentOomKills.set({ job, agent, target }, n);
}

/** Hook for a start with a memory limit: the series exists at its count (0 at first), so the first kill is an increase. */
export function primeOomKills(job: string, agent: string, target: string) {
  agentOomKills.set({ job, agent, target }, oomKills.get(JSON.stringify([job, agent, target])) ?? 0);
}

/** Hook for the watch round: one usage read of an agent. */
export function recordUsage(
  job: string,
  agent: string,
  u: {
    memoryBytes?: number;
    memoryPeakBytes?: number;
    memoryLimitBytes?: number;
    cpuSeconds?: number;
    throttledSeconds?: number;
    throttledPeriods?: number;
  },
) {
  const l = { job, agent };
  const put = (g: Gauge, v: number | undefined) => (v === undefined ? g.remove(l) : g.set(l, v));
  put(agentMemoryBytes, u.memoryBytes);
  put(agentMemoryPeakBytes, u.memoryPeakBytes);
  put(agentMemoryLimitBytes, u.memoryLimitBytes);
  put(agentCpuSeconds, u.cpuSeconds);
  put(agentThrottledSeconds, u.throttledSeconds);
  put(agentThrottledPeriods, u.throttledPeriods);
}

/** Hook for a stop: the agent's usage series go (its kills stay counted). */
export function forgetAgentUsage(job: string, agent: string) {
  for (const g of [
    agentMemoryBytes,
    agentMemoryPeakBytes,
    agentMemoryLimitBytes,
    agentCpuSeconds,
    agentThrottledSeconds,
    agentThrottledPeriods,
  ])
    g.remove({ job, agent });
}
