// Deploying a job: submit its workflow, follow it until its agents are healthy (or it fails),
// and, for a job that already runs, roll out the changed spec. In the API, not in the `start`
// command (which prints what these report), so that JobManager and the CLI share one implementation.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { sleep } from '../common/sleep';
import { diffPlans, isEmptyDiff, type PlanDiff } from '../job/diff';
import type { DeployPlan } from '../job/plan';
import { payloadBytes } from '../temporal/codec';
import { keyRingFor } from '../temporal/codec-keys';
import { workflowUiUrl } from '../temporal/connection';
import { adoptionNote } from '../jobs/leftovers';
import { deployJob } from '../workflows';
import { deployJobStart, redeployUpdate, workflowIdFor, type AgentStatus, type JobStatus, type RedeployResult } from '../workflows/api';
import { InvalidInputError, JobFailedError, RefusedError } from './errors';
import { isNoWorker, jobPlan, jobStatus, refuseKeylessSubmit, workerPolls, type JobContext } from './jobs';
import { noteSlotWaits, QUEUED_HINT_MS } from './slot-waits';

/** What `start` reports while it works (all optional to listen to). */
export type StartProgress =
  /** the job's workflow is submitted */
  | { type: 'submitted'; job: string; workflowId: string; runId: string; ui: string; agents: number; stages: number }
  /** no worker runs: the job is submitted and deploys when one runs (said once) */
  | { type: 'no-worker'; job: string }
  /** an agent changed state (pending agents are not reported) */
  | { type: 'agent'; agent: AgentStatus; elapsedMs: number }
  /** the job's last run was terminated (or timed out) without its teardown: its agents still running with the same spec are adopted */
  | { type: 'adopting'; note: string }
  /** the job runs already with another spec: this change is rolled out */
  | { type: 'redeploying'; current: DeployPlan; next: DeployPlan; diff: PlanDiff };

export interface StartOptions {
  /** wait until every agent is healthy (the default), or return once the job is submitted */
  wait?: boolean;
  onProgress?: (event: StartProgress) => void;
}

export interface StartResult {
  job: string;
  workflowId: string;
  /** the run started (not set for a redeploy, which changes the running one) */
  runId?: string;
  /** the job's page in the Temporal Web UI */
  ui: string;
  /** when waited for: the job's status once healthy (phase running, or degraded) */
  status?: JobStatus;
  /** when waited for: how long the deploy took */
  elapsedMs?: number;
  /** when the job was running already: what the rollout did (applied false: rolled back, see error) */
  redeploy?: RedeployResult;
}

/**
 * Submits the job (or rolls out a changed spec of a running one) and, unless told not to, waits
 * until healthy. The caller has checked the plan's size (checkPlanSize) before connecting.
 */
export async function startJob(ctx: JobContext, plan: DeployPlan, opts: StartOptions = {}): Promise<StartResult> {
  const say = opts.onProgress ?? (() => {});
  const workflowId = workflowIdFor(plan.job);
  const ui = workflowUiUrl(ctx.cfg, workflowId);
  await refuseKeylessSubmit(ctx.client, keyRingFor(ctx.cfg));
  // Asked before the new run replaces the last one as the current run.
  const adopting = await adoptionNote(ctx.client, plan.job);
  let handle: WorkflowHandleWithFirstExecutionRunId;
  try {
    handle = await ctx.client.workflow.start(deployJob, deployJobStart(plan));
    if (adopting) say({ type: 'adopting', note: adopting });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { job: plan.job, workflowId, ui, redeploy: await redeploy(ctx, plan, say) };
    throw err;
  }
  const runId = handle.firstExecutionRunId;
  say({ type: 'submitted', job: plan.job, workflowId, runId, ui, agents: Object.keys(plan.agents).length, stages: plan.stages.length });
  let warned = false;
  const warnNoWorker = () => {
    if (!warned) say({ type: 'no-worker', job: plan.job });
    warned = true;
  };
  if (!(await workerPolls(ctx.client))) warnNoWorker();
  if (opts.wait === false) return { job: plan.job, workflowId, runId, ui };
  const t0 = Date.now();
  const status = await waitUntilHealthy(handle, plan, t0, say, warnNoWorker);
  return { job: plan.job, workflowId, runId, ui, status, elapsedMs: Date.now() - t0 };
}

/** Follows a deploy until every agent is healthy; JobFailedError when it fails (its agents are stopped by then). */
async function waitUntilHealthy(
  handle: WorkflowHandle,
  plan: DeployPlan,
  t0: number,
  say: (e: StartProgress) => void,
  warnNoWorker: () => void,
): Promise<JobStatus> {
  const job = plan.job;
  const shown = new Map<string, string>();
  const queuedSaid = new Set<string>();
  let slotsAskedAt = Date.now();
  for (;;) {
    let status: JobStatus;
    try {
      status = await jobStatus(handle);
    } catch (err) {
      if (isNoWorker(err)) {
        // Ended without answering a query (e.g. ended by a worker that cannot decrypt it,
        // undecryptable.ts): its result says why.
        if ((await handle.describe()).status.name !== 'RUNNING') {
          try {
            await handle.result();
          } catch (e) {
            throw deployFailed(job, e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : String(e));
          }
        }
        // Submitted all the same: keep waiting, so a worker started now deploys it under our eyes.
        warnNoWorker();
        await sleep(1000);
        continue;
      }
      // The workflow may have ended (failed) between two polls; its result says why.
      try {
        await handle.result();
      } catch (e) {
        throw deployFailed(job, e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : String(e));
      }
      throw err;
    }
    // A start queued behind a full worker is said once per agent (the server is asked every few seconds).
    if (Date.now() - slotsAskedAt >= QUEUED_HINT_MS) {
      slotsAskedAt = Date.now();
      await noteSlotWaits(handle, status, () => Promise.resolve((id) => plan.agents[id]?.taskQueue)).catch(() => undefined);
    }
    for (const a of Object.values(status.agents)) {
      const newlyQueued = a.waitingFor !== undefined && !queuedSaid.has(a.id);
      if ((shown.get(a.id) === a.state && !newlyQueued) || a.state === 'pending') continue;
      shown.set(a.id, a.state);
      if (a.waitingFor !== undefined) queuedSaid.add(a.id);
      say({ type: 'agent', agent: a, elapsedMs: Date.now() - t0 });
    }
    if (status.phase === 'running' || status.phase === 'degraded') return status;
    if (status.phase === 'failed' || status.phase === 'stopped' || (status.phase === 'stopping' && status.error)) {
      // Wait for the teardown to finish so that the caller sees a clean end state.
      try {
        await handle.result();
      } catch {
        /* reported below */
      }
      throw deployFailed(job, status.error ?? `job ended while deploying (${status.phase})`);
    }
    await sleep(150);
  }
}

const deployFailed = (job: string, error: string) =>
  new JobFailedError(`job ${job} failed; every agent it had started was stopped: ${error.split('\n')[0]}`, job, undefined, error);

/** `start` on a running job: refuse an identical spec, roll out a changed one. */
async function redeploy(ctx: JobContext, plan: DeployPlan, say: (e: StartProgress) => void): Promise<RedeployResult> {
  const handle = ctx.client.workflow.getHandle(workflowIdFor(plan.job));
  const current = await jobPlan(handle);
  const d = diffPlans(current, plan);
  if (isEmptyDiff(d)) {
    throw new RefusedError(
      `job '${plan.job}' is already running with this exact spec`,
      'already running with this exact spec',
      `see \`a2a-deploy status ${plan.job}\`, or stop it first with \`a2a-deploy stop ${plan.job}\``,
    );
  }
  say({ type: 'redeploying', current, next: plan, diff: d });
  try {
    return await handle.executeUpdate(redeployUpdate, { args: [plan] });
  } catch (err) {
    const reason = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new RefusedError(`cannot redeploy ${plan.job}: ${reason}`, reason);
  }
}

// The plan travels in the workflow's input (and in each continue-as-new), and Temporal refuses
// any payload over 2 MiB. Say so before contacting the server, with what to do about it. The
// payload codec compresses it (about 60 bytes per agent instead of 930), so with encryption on
// the file size limit comes first (README, Performance).
const PLAN_LIMIT = 1.5 * 2 ** 20;
export function checkPlanSize(ctx: Pick<JobContext, 'cfg'>, plan: DeployPlan, file: string) {
  const bytes = payloadBytes(plan, keyRingFor(ctx.cfg));
  if (bytes <= PLAN_LIMIT) return;
  const n = Object.keys(plan.agents).length;
  throw new InvalidInputError(
    `${file}: the plan of job '${plan.job}' is ${(bytes / 2 ** 20).toFixed(1)} MiB (${n} agents, ${Math.round(bytes / n)} bytes each); one job's plan must stay under ${PLAN_LIMIT / 2 ** 20} MiB to fit Temporal's 2 MiB payload limit`,
    'split the job into several jobs (for example one per host or per subtree), shorten environments and peer lists, or set A2A_DEPLOY_KEY_FILE: the payload codec compresses the plan',
  );
}
