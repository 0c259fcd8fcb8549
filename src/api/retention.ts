// Forgetting finished jobs: `delete` removes one job's runs from Temporal, `prune` every job that
// finished before a cutoff. A running job is never touched. (The embedded server also forgets
// runs by itself after the namespace's retention period, A2A_DEPLOY_RETENTION.)
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { waitUntil } from '../common/wait';
import { jobFromWorkflowId, workflowIdFor } from '../workflows/api';
import { NotFoundError, RefusedError } from './errors';
import { logSessionPrefix } from './logs';

/** One workflow run of a job. */
interface Run {
  workflowId: string;
  runId: string;
  status: string;
  closed?: Date;
}

export interface DeleteResult {
  job: string;
  /** how many runs (the first deploy, redeploys that started afresh, ...) were removed */
  runs: number;
}

export interface PruneResult {
  /** jobs whose last run closed before this (ISO time) */
  cutoff: string;
  dryRun: boolean;
  /** the jobs removed (with dryRun: that would be) */
  jobs: { job: string; runs: number; closed: string }[];
}

async function runsOf(client: Client, query: string): Promise<Run[]> {
  const runs: Run[] = [];
  for await (const wf of client.workflow.list({ query }))
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name, ...(wf.closeTime ? { closed: wf.closeTime } : {}) });
  return runs;
}

/** Removes every run of a finished job; RefusedError while it runs, NotFoundError when there is none. */
export async function deleteJob(client: Client, name: string): Promise<DeleteResult> {
  const workflowId = workflowIdFor(name);
  let current;
  try {
    current = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new NotFoundError(`no job named '${name}'`, 'see `a2a-deploy list --all` for known jobs', name);
    throw err;
  }
  if (current.status.name === 'RUNNING')
    throw new RefusedError(
      `job '${name}' is running; only a finished job's runs can be deleted`,
      `job '${name}' is running`,
      `stop it first with \`a2a-deploy stop ${name}\``,
    );
  // The current run is known even if visibility lags behind; older runs come from visibility.
  const runs = await runsOf(client, `WorkflowId = '${workflowId}'`);
  if (!runs.some((r) => r.runId === current.runId)) runs.push({ workflowId, runId: current.runId, status: current.status.name });
  await deleteRuns(client, [...runs, ...(await logSessionsOf(client, [name]))]);
  return { job: name, runs: runs.length };
}

/** Removes the jobs whose last run finished before `olderThanMs` ago (none of whose runs still runs). */
export async function pruneJobs(client: Client, olderThanMs: number, dryRun = false): Promise<PruneResult> {
  const cutoff = new Date(Date.now() - olderThanMs);
  const byJob = new Map<string, Run[]>();
  for (const run of await runsOf(client, `WorkflowType = 'deployJob'`)) {
    const list = byJob.get(run.workflowId) ?? [];
    list.push(run);
    byJob.set(run.workflowId, list);
  }
  const jobs: PruneResult['jobs'] = [];
  const doomed: Run[] = [];
  for (const [workflowId, runs] of [...byJob].sort(([a], [b]) => a.localeCompare(b))) {
    if (runs.some((r) => r.status === 'RUNNING' || !r.closed)) continue;
    const last = Math.max(...runs.map((r) => r.closed!.getTime()));
    if (last >= cutoff.getTime()) continue;
    jobs.push({ job: jobFromWorkflowId(workflowId), runs: runs.length, closed: new Date(last).toISOString() });
    doomed.push(...runs);
  }
  if (!dryRun)
    await deleteRuns(client, [
      ...doomed,
      ...(await logSessionsOf(
        client,
        jobs.map((j) => j.job),
      )),
    ]);
  return { cutoff: cutoff.toISOString(), dryRun, jobs };
}

/** The `logs` sessions of these jobs still known to Temporal (api/logs.ts: each command deletes its own). */
async function logSessionsOf(client: Client, jobs: string[]): Promise<Run[]> {
  const found: Run[] = [];
  for (const job of jobs.filter((j) => /^[a-z0-9-]+$/.test(j)))
    // a job name, safe in the query
    found.push(...(await runsOf(client, `WorkflowType = 'agentLogsSession' AND WorkflowId STARTS_WITH '${logSessionPrefix(job)}'`)));
  return found;
}

/**
 * Deletes runs and waits until the server no longer knows them, so that a `status` right after
 * says "not found": the server deletes asynchronously, once the run's close is acknowledged
 * (within a second on the embedded server, up to about 30 s on a default-configured one).
 */
async function deleteRuns(client: Client, runs: Run[]): Promise<void> {
  const namespace = client.options.namespace;
  for (const r of runs) {
    try {
      await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: r.workflowId, runId: r.runId } });
    } catch (err) {
      if ((err as { code?: number }).code !== 5 /* NOT_FOUND: gone already */) throw err;
    }
  }
  const gone = async (r: Run) => {
    try {
      await client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: r.workflowId, runId: r.runId } });
      return false;
    } catch (err) {
      if ((err as { code?: number }).code === 5) return true;
      throw err;
    }
  };
  // One deadline for all: past it, the deletes were asked and the server finishes them on its own.
  const deadline = Date.now() + 45_000;
  for (const r of runs) if (!(await waitUntil(() => gone(r), Math.max(0, deadline - Date.now()), { fastPollMs: 200, pollMs: 200 }))) return;
}
