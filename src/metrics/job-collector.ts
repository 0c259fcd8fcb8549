// Job-level metrics, read from the jobs' workflows rather than counted by this worker: every
// few seconds the main worker lists the running job workflows (visibility) and queries each for
// its status and plan, then replaces the job gauges with what it read. Nothing depends on a
// worker's memory or on workflow replay, so a worker restart or a replay cannot count anything
// twice, and a job deployed before this worker started is reported like any other.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { hostTaskQueue, type AgentPlan, type DeployPlan } from '../job/plan';
import { planQuery, statusQuery, WORKFLOW_TASK_QUEUE, type JobPhase, type JobStatus } from '../workflows/api';
import {
  agentRestarts,
  agentState,
  agentUp,
  collectorErrors,
  collectorLastSuccess,
  deployDurationSeconds,
  hostOf,
  hostWorkers,
  jobPaused,
  jobPhase,
  jobsByPhase,
} from './instruments';

const PHASES: JobPhase[] = ['deploying', 'running', 'degraded', 'stopping', 'stopped', 'failed'];
const QUERY_TIMEOUT_MS = 10_000;
const QUERY_CONCURRENCY = 16;
/** A live worker long-polls at least once a minute; the server keeps dead pollers listed longer. */
const POLLER_FRESH_MS = 70_000;

interface JobSnapshot {
  runId: string;
  startTime: Date;
  status: JobStatus;
  plan: DeployPlan;
}

export interface JobCollectorOptions {
  client: Client;
  namespace: string;
  intervalMs: number;
}

export class JobCollector {
  private snapshots = new Map<string, JobSnapshot>();
  private readonly seenDeploying = new Set<string>();
  private readonly deployObserved = new Set<string>();
  private readonly startedAt = Date.now();
  private errors = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly opts: JobCollectorOptions) {}

  start() {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.opts.client
        .withAbortSignal(this.abort.signal, () => this.collectOnce())
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    tick();
  }

  /** Ends collection; a round waiting on a query no worker answers (this one is stopping) is cancelled. */
  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }

  /** One read of every running job; on a failed read the job keeps its last values. */
  async collectOnce(): Promise<void> {
    let executions: WorkflowExecutionInfo[];
    try {
      executions = await this.listRunningJobs();
    } catch {
      collectorErrors.set({}, ++this.errors);
      return;
    }
    const next = new Map<string, JobSnapshot>();
    let failed = false;
    for (let i = 0; i < executions.length; i += QUERY_CONCURRENCY) {
      await Promise.all(
        executions.slice(i, i + QUERY_CONCURRENCY).map(async (e) => {
          try {
            next.set(e.workflowId, await this.readJob(e));
          } catch {
            failed = true;
            const previous = this.snapshots.get(e.workflowId);
            if (previous?.runId === e.runId) next.set(e.workflowId, previous);
          }
        }),
      );
    }
    const hosts = await this.countHostWorkers(next);
    this.snapshots = next;
    this.observeDeploys(next);
    this.publish(next, hosts);
    if (failed) collectorErrors.set({}, ++this.errors);
    else collectorLastSuccess.set({}, Date.now() / 1000);
  }

  private async listRunningJobs(): Promise<WorkflowExecutionInfo[]> {
    const out: WorkflowExecutionInfo[] = [];
    const query = `ExecutionStatus = 'Running' AND WorkflowType = 'deployJob' AND TaskQueue = '${WORKFLOW_TASK_QUEUE}'`;
    for await (const e of this.opts.client.workflow.list({ query })) out.push(e);
    return out;
  }

  private async readJob(e: WorkflowExecutionInfo): Promise<JobSnapshot> {
    const handle = this.opts.client.workflow.getHandle(e.workflowId, e.runId);
    // A deadline on the calls themselves, so an unanswered query ends (and frees its connection).
    const [status, plan] = await this.opts.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      Promise.all([handle.query(statusQuery), handle.query(planQuery)]),
    );
    return { runId: e.runId, startTime: e.startTime, status, plan };
  }

  /** Pollers per host task queue, for the hosts that running jobs place agents on. */
  private async countHostWorkers(jobs: Map<string, JobSnapshot>): Promise<Map<string, number>> {
    const hosts = new Set<string>();
    for (const j of jobs.values()) for (const a of Object.values(j.plan.agents)) if (a.deployment.worker) hosts.add(a.deployment.worker);
    const counts = new Map<string, number>();
    await Promise.all(
      [...hosts].map(async (host) => {
        try {
          const res = await this.opts.client.workflowService.describeTaskQueue({
            namespace: this.opts.namespace,
            taskQueue: { name: hostTaskQueue(host) },
            taskQueueType: 2, // activity pollers: a host worker runs activities only
          });
          const cutoff = Date.now() - POLLER_FRESH_MS;
          counts.set(host, (res.pollers ?? []).filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= cutoff).length);
        } catch {
          /* unknown this round: the series is left out rather than reported as 0 */
        }
      }),
    );
    return counts;
  }

  /**
   * Observes each run's first deploy once in this process: when the run was seen deploying, or
   * was submitted after this worker started (a deploy quicker than one collection interval).
   * A run deployed before this worker started was observed, if at all, by the worker then alive.
   */
  private observeDeploys(jobs: Map<string, JobSnapshot>) {
    for (const j of jobs.values()) {
      const { phase } = j.status;
      if (phase === 'deploying') this.seenDeploying.add(j.runId);
      if ((phase !== 'running' && phase !== 'degraded') || this.deployObserved.has(j.runId)) continue;
      if (!this.seenDeploying.has(j.runId) && j.startTime.getTime() < this.startedAt) continue;
      this.deployObserved.add(j.runId);
      const healthyAt = Object.values(j.status.agents)
        .map((a) => Date.parse(a.since))
        .filter((t) => Number.isFinite(t));
      const end = healthyAt.length ? Math.max(...healthyAt) : Date.now();
      deployDurationSeconds.observe({ job: j.status.job }, Math.max(0, end - j.startTime.getTime()) / 1000);
    }
    const live = new Set([...jobs.values()].map((j) => j.runId));
    for (const set of [this.seenDeploying, this.deployObserved]) for (const r of set) if (!live.has(r)) set.delete(r);
  }

  /** Replaces every job gauge at once: a stopped job's series disappear. */
  private publish(jobs: Map<string, JobSnapshot>, hosts: Map<string, number>) {
    for (const g of [agentUp, agentState, agentRestarts, jobPhase, jobPaused, jobsByPhase, hostWorkers]) g.reset();
    const perPhase = new Map<JobPhase, number>(PHASES.map((p) => [p, 0]));
    for (const { status, plan } of jobs.values()) {
      const job = status.job;
      perPhase.set(status.phase, (perPhase.get(status.phase) ?? 0) + 1);
      jobPhase.set({ job, phase: status.phase }, 1);
      jobPaused.set({ job }, status.paused ? 1 : 0);
      for (const a of Object.values(status.agents)) {
        const agentPlan = plan.agents[a.id] as AgentPlan | undefined;
        agentUp.set(
          { job, agent: a.id, target: a.target, host: agentPlan ? hostOf(agentPlan) : 'localhost' },
          a.state === 'healthy' ? 1 : 0,
        );
        agentState.set({ job, agent: a.id, state: a.state }, 1);
        agentRestarts.set({ job, agent: a.id }, a.restarts);
      }
    }
    for (const [phase, n] of perPhase) jobsByPhase.set({ phase }, n);
    for (const [host, n] of hosts) hostWorkers.set({ host }, n);
  }
}
