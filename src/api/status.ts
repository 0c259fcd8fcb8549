// A job's status: the workflow's own when a worker answers, else what the server last recorded
// (the workflow's memo and its execution's status). In the API, not in the `status` command,
// so that JobManager and the CLI share one implementation.
import type { WorkflowHandle } from '@temporalio/client';
import Docker from 'dockerode';
import { machineAgents } from '../activities/machine-agents';
import { serverMarkerOf } from '../activities/markers';
import { hasEnded, teardownSkipped } from '../jobs/execution';
import { endedJobView } from '../jobs/leftovers';
import { containerName, MAIN_TASK_QUEUE, type DeployPlan } from '../job/plan';
import { agentUsage, limitsOf } from '../activities/limits';
import { containerUsage } from '../activities/docker/usage';
import { hasLimits } from '../process/cgroups';
import type { JobStatus } from '../workflows/api';
import { isNoWorker, jobPlan, jobStatus, serverView, type JobContext, type ServerView } from './jobs';
import { noteSlotWaits } from './slot-waits';

/** A job's status, and where it comes from. */
export type JobReport =
  /** a worker answered: the workflow's full status */
  | { source: 'workflow'; status: JobStatus; execution: string }
  /** the run ended without its teardown (terminated, timed out): what it last recorded, and what may be left */
  | { source: 'ended'; view: EndedView }
  /** no worker answered (reason says so): what the server last recorded */
  | { source: 'server'; view: ServerView; reason: string };

export type EndedView = Awaited<ReturnType<typeof endedJobView<ServerView>>>;

export async function jobReport(ctx: JobContext, handle: WorkflowHandle, name: string, execution: string): Promise<JobReport> {
  // A run that ended without its teardown (terminated, timed out) would still answer the query
  // "running" from its history: what the server says about the run comes first.
  if (hasEnded(execution)) {
    const view = await serverView(handle, name);
    // (A run that recorded nothing, e.g. one a worker could not decrypt, started no agent.)
    if (teardownSkipped(view.execution, view.phase) && view.agents)
      return {
        source: 'ended',
        view: await endedJobView(
          { client: ctx.client, server: await serverMarkerOf(ctx.client.workflowService, ctx.cfg), machine: machineAgents(new Docker()) },
          view,
        ),
      };
  }
  let status: JobStatus;
  try {
    status = await jobStatus(handle);
  } catch (err) {
    // An ended job the worker cannot answer for (e.g. one it could not decrypt): the server's view.
    if (!isNoWorker(err) && !hasEnded(execution)) throw err;
    return { source: 'server', view: await serverView(handle, name), reason: (err as Error).message };
  }
  // The plan, asked for once, and only when a note needs it.
  let plan: Promise<DeployPlan> | undefined;
  const planOnce = () => (plan ??= jobPlan(handle));
  await noteMissingHostWorkers(ctx, handle, status, planOnce);
  await noteUsage(ctx, status, planOnce);
  // A hint: the status stands without it if the server cannot say.
  await noteSlotWaits(handle, status, async () => {
    const p = await planOnce();
    return (id) => p.agents[id]?.taskQueue;
  }).catch(() => undefined);
  return { source: 'workflow', status, execution };
}

/**
 * What each agent with limits uses now, read where it runs when that is this machine: a local
 * agent's cgroups, a container's stats. (A host worker's agents are read by that worker, into
 * its /metrics.) Nothing is read for a job without limits.
 */
export async function noteUsage(ctx: JobContext, status: JobStatus, planOf: () => Promise<DeployPlan>) {
  const live = Object.values(status.agents).filter((a) => !['pending', 'waiting', 'stopped', 'failed', 'exited'].includes(a.state));
  if (live.length === 0) return;
  const plan = await planOf();
  const limited = live.filter((a) => {
    const p = plan.agents[a.id];
    return p && hasLimits(limitsOf(p.deployment)) && (p.target === 'container' || (p.target === 'localhost' && !p.deployment.worker));
  });
  if (limited.length === 0) return;
  const server = await serverMarkerOf(ctx.client.workflowService, ctx.cfg);
  const docker = limited.some((a) => plan.agents[a.id].target === 'container') ? new Docker() : undefined;
  await Promise.all(
    limited.map(async (a) => {
      const u =
        plan.agents[a.id].target === 'container'
          ? await containerUsage(docker!, a.containerId ?? containerName(status.job, a.id))
          : agentUsage({ server, job: status.job, agent: a.id });
      if (u) a.usage = u;
    }),
  );
}

/**
 * An agent whose host has no worker polling its queue cannot move: say so, by asking
 * Temporal who polls that host's queue (the workflow itself cannot see pollers).
 */
export async function noteMissingHostWorkers(
  ctx: JobContext,
  handle: WorkflowHandle,
  status: JobStatus,
  planOf: () => Promise<DeployPlan> = () => jobPlan(handle),
) {
  const stuck = Object.values(status.agents).filter((a) => ['starting', 'checking', 'restarting', 'stopping'].includes(a.state));
  if (stuck.length === 0) return;
  const plan = await planOf();
  const queues = new Map<string, boolean>();
  for (const a of stuck) {
    const p = plan.agents[a.id];
    if (!p || p.taskQueue === MAIN_TASK_QUEUE) continue;
    if (!queues.has(p.taskQueue)) {
      const res = await ctx.client.workflowService.describeTaskQueue({
        namespace: ctx.cfg.namespace,
        taskQueue: { name: p.taskQueue },
        taskQueueType: 2 /* activity */,
      });
      const cutoff = Date.now() - 70_000;
      queues.set(
        p.taskQueue,
        (res.pollers ?? []).some((x) => Number(x.lastAccessTime?.seconds ?? 0) * 1000 >= cutoff),
      );
    }
    if (!queues.get(p.taskQueue))
      a.waitingFor = `waiting for host ${p.deployment.worker}'s worker (a2a-deploy worker --host ${p.deployment.worker})`;
  }
}
