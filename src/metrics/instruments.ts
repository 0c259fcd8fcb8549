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
