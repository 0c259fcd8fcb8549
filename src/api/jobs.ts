// Shared by everything that acts on a deployed job (the JobManager, and through it the CLI): find
// it, ask its workflow (which needs a worker), and, when no worker answers, what the server alone
// knows about it.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo, type WorkflowHandle } from '@temporalio/client';
import type { DeployPlan } from '../job/plan';
import { temporalConfig, type TemporalConfig } from '../temporal/connection';
import { connectForJobs } from '../temporal/embedded';
import { planQuery, SA_PHASE, statusQuery, WORKFLOW_TASK_QUEUE, workflowIdFor, type JobStatus } from '../workflows/api';
import { InvalidInputError, NoWorkerError, NotFoundError } from './errors';
import { ENCRYPTING_MARK } from '../temporal/codec';
import { KEY_FILE_HINT } from '../temporal/codec-keys';
import { priorityName } from '../config/names';

export interface JobContext {
  cfg: TemporalConfig;
  client: Client;
}

/**
 * Connects. In the embedded mode a missing worker is started in the background (needWorker);
 * elsewhere the commands find out themselves, per job, whether a worker answers.
 */
export async function jobContext(opts: {
  needWorker: boolean;
  quiet?: boolean;
  /** where progress lines go (default stderr, none when quiet) */
  say?: (line: string) => void;
  /** default: from the environment, as the CLI reads it */
  cfg?: TemporalConfig;
}): Promise<JobContext> {
  const cfg = opts.cfg ?? temporalConfig();
  const say = opts.quiet ? () => {} : opts.say;
  const client = await connectForJobs(cfg, { needWorker: opts.needWorker && cfg.embedded, ...(say ? { say } : {}) });
  return { cfg, client };
}

/** The job's workflow, and its current run's execution status (RUNNING, TERMINATED, ...: jobs/execution.ts). */
export async function jobHandle(ctx: JobContext, name: string): Promise<{ handle: WorkflowHandle; running: boolean; execution: string }> {
  const handle = ctx.client.workflow.getHandle(workflowIdFor(name));
  try {
    const d = await handle.describe();
    return { handle, running: d.status.name === 'RUNNING', execution: d.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new NotFoundError(`no job named '${name}'`, 'see `a2a-deploy list --all` for known jobs', name);
    }
    throw err;
  }
}

/**
 * A query is answered by a worker; with none, the server holds it for about 30 s. A loaded but
 * live worker answers well within this; past it, the commands say no worker runs.
 */
const QUERY_DEADLINE_MS = 3000;
/** A worker polls at least once a minute; a poller not seen for longer is gone. */
const POLLER_FRESH_MS = 70_000;

export const NO_WORKER_HINT = 'start one with `a2a-deploy worker` (or `a2a-deploy worker --detach`)';

export function noWorkerError(job: string, what = ''): NoWorkerError {
  return new NoWorkerError(`no worker is running for job '${job}'${what}`, NO_WORKER_HINT, job);
}

export const isNoWorker = (err: unknown): err is NoWorkerError => err instanceof NoWorkerError;

/** Whether a worker has polled the main task queue lately (a quick answer, from the server). */
export async function workerPolls(
  client: {
    workflowService: Client['workflowService'];
    options: { namespace: string };
  },
  freshMs = POLLER_FRESH_MS,
): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: WORKFLOW_TASK_QUEUE },
    taskQueueType: 1 /* workflow */,
  });
  const cutoff = Date.now() - freshMs;
  return (res.pollers ?? []).some((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= cutoff);
}

/**
 * Refuses to submit from a process without keys while the workers encrypt (their poller
 * identity says so, workers/worker.ts): the plan would travel in clear, and neither this
 * process nor the job's status could be read back here.
 */
export async function refuseKeylessSubmit(client: Client, keys: unknown): Promise<void> {
  if (keys) return;
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: WORKFLOW_TASK_QUEUE },
    taskQueueType: 1 /* workflow */,
  });
  const cutoff = Date.now() - POLLER_FRESH_MS;
  const encrypting = (res.pollers ?? []).filter(
    (p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= cutoff && (p.identity ?? '').includes(ENCRYPTING_MARK),
  );
  if (encrypting.length > 0)
    throw new InvalidInputError(
      `the workers encrypt payloads (worker ${encrypting[0].identity}) and this process has no key: the job would be submitted in clear and its status could not be read here; nothing was submitted`,
      `give this process the workers' key file (A2A_DEPLOY_KEY_FILE); ${KEY_FILE_HINT}`,
    );
}

// `start` asks every 150 ms: the poller list is checked once in a while, not on every query.
const pollersSeenAt = new WeakMap<object, number>();

/** Runs a query, or throws noWorkerError (exit 4) within seconds when no worker answers it. */
async function askWorkflow<T>(handle: WorkflowHandle, ask: () => Promise<T>, deadlineMs = QUERY_DEADLINE_MS): Promise<T> {
  const job = handle.workflowId.replace(/^a2a-job-/, '');
  // A freshly killed worker stays in the poller list for a minute; only the deadline tells then.
  const seen = pollersSeenAt.get(handle.client) ?? 0;
  if (Date.now() - seen > 10_000) {
    if (!(await workerPolls(handle.client))) throw noWorkerError(job);
    pollersSeenAt.set(handle.client, Date.now());
  }
  try {
    return await handle.client.withDeadline(Date.now() + deadlineMs, ask);
  } catch (err) {
    // The server is up (it listed pollers), so a failed query means no worker could answer it:
    // out of time, or at once when the server knows the worker that had the job is gone.
    const cause = (err as { cause?: { code?: number; details?: string } }).cause;
    if ((err as Error).name !== 'ServiceError' || cause?.code === 14 /* UNAVAILABLE: the server itself */) throw err;
    const timedOut = cause?.code === 4 /* DEADLINE_EXCEEDED */ || cause?.code === 1; /* CANCELLED */
    throw noWorkerError(
      job,
      timedOut ? ` (none answered within ${deadlineMs / 1000} s)` : ` (its query failed: ${cause?.details ?? (err as Error).message})`,
    );
  }
}

export const jobStatus = (handle: WorkflowHandle): Promise<JobStatus> => askWorkflow(handle, () => handle.query(statusQuery));
export const jobPlan = (handle: WorkflowHandle): Promise<DeployPlan> => askWorkflow(handle, () => handle.query(planQuery));

/**
 * A control request (stop, pause, restart) asks first whether a worker answers, and records the
 * request for later when none does. A saturated worker (hundreds of agents booting on 2 cores)
 * took over 3 s to answer a query, and its stop was recorded as if no worker ran. A busy worker
 * still polls: its polls return at once with work, so the server saw one within seconds, while an
 * idle worker's long poll (up to a minute) or a killed worker's last poll is older. When the
 * query times out but a worker polled within BUSY_POLL_MS, it is asked again, for longer.
 */
const BUSY_WORKER_DEADLINE_MS = 30_000;
const BUSY_POLL_MS = 5_000;

/** Whether a worker answers the job's workflow now (within seconds either way, 30 s when it is busy). */
export async function workerAnswers(handle: WorkflowHandle): Promise<boolean> {
  try {
    await jobStatus(handle);
    return true;
  } catch (err) {
    if (!isNoWorker(err)) throw err;
  }
  if (!(await workerPolls(handle.client, BUSY_POLL_MS).catch(() => false))) return false;
  try {
    await askWorkflow(handle, () => handle.query(statusQuery), BUSY_WORKER_DEADLINE_MS);
    return true;
  } catch (err) {
    if (isNoWorker(err)) return false;
    throw err;
  }
}

/** Per agent, what the workflow last recorded in its memo (key `status`) for readers without a worker. */
export interface MemoAgent {
  state: string;
  pid?: number;
  url: string;
  restarts: number;
  lastError?: string;
  lastErrorAt?: string;
}

/** What the server knows of a job without asking its workflow. */
export interface ServerView {
  job: string;
  /** the workflow execution's status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  workflow: string;
  /** the same: the name `status --json` and `list --json` use */
  execution: string;
  /** when the run ended (ISO time), if it has */
  closedAt?: string;
  /** the job file's priority, read back from the run's Temporal task priority */
  priority?: string;
  /** the phase the workflow last recorded (which a terminated run never got to update) */
  phase?: string;
  paused?: boolean;
  /** when the workflow last wrote its memo */
  updatedAt?: string;
  /** why the workflow ended, when it failed or was terminated */
  reason?: string;
  agents?: Record<string, MemoAgent>;
}

export async function serverView(handle: WorkflowHandle, job: string): Promise<ServerView> {
  const d = await handle.describe();
  let memo = d.memo?.status as Partial<ServerView> | string | undefined;
  if (typeof memo === 'string') {
    try {
      memo = JSON.parse(memo) as Partial<ServerView>;
    } catch {
      memo = undefined;
    }
  }
  const m = memo && typeof memo === 'object' ? memo : {};
  const priority = priorityName(d.priority?.priorityKey);
  const reason = ENDED_BADLY.includes(d.status.name) ? await closeReason(handle, d.runId) : undefined;
  // A job that ended so before its workflow recorded anything (e.g. it could not be decrypted)
  // failed, whatever phase `start` set in its search attributes.
  const phase = m.phase ?? (reason !== undefined ? 'failed' : d.typedSearchAttributes.get(SA_PHASE));
  return {
    job,
    workflow: d.status.name,
    execution: d.status.name,
    ...(d.closeTime ? { closedAt: d.closeTime.toISOString() } : {}),
    ...(priority ? { priority } : {}),
    ...(phase ? { phase } : {}),
    ...(reason ? { reason } : {}),
    ...(typeof m.paused === 'boolean' ? { paused: m.paused } : {}),
    ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}),
    ...(m.agents && typeof m.agents === 'object' ? { agents: m.agents } : {}),
  };
}

const ENDED_BADLY = ['FAILED', 'TERMINATED', 'TIMED_OUT'];

/** The reason on a workflow's close event (a termination's reason, a failure's message); '' if none. */
async function closeReason(handle: WorkflowHandle, runId: string): Promise<string> {
  const res = await handle.client.workflowService.getWorkflowExecutionHistory({
    namespace: handle.client.options.namespace,
    execution: { workflowId: handle.workflowId, runId },
    historyEventFilterType: 2 /* CLOSE_EVENT */,
  });
  const e = res.history?.events?.[0];
  return (
    e?.workflowExecutionTerminatedEventAttributes?.reason ??
    e?.workflowExecutionFailedEventAttributes?.failure?.message ??
    (e?.workflowExecutionTimedOutEventAttributes ? 'the workflow timed out' : '')
  );
}

/**
 * A listed job's priority: from the memo `start` writes (a listing carries no execution's
 * priority), else, for a job started before it did, by describing the run.
 */
export async function jobPriority(client: Client, wf: WorkflowExecutionInfo): Promise<string> {
  const given = wf.memo?.priority;
  if (typeof given === 'string') return given;
  const d = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
  return priorityName(d.priority?.priorityKey) ?? `key ${d.priority?.priorityKey}`;
}

/**
 * With no worker, a stop, pause or resume cannot be answered, but a signal is recorded in the
 * job's history at once and the workflow acts on it when a worker runs it again.
 */
export async function recordRequest(handle: WorkflowHandle, job: string, what: 'stop' | 'pause' | 'resume', force = false) {
  await handle.signal(what, ...(what === 'stop' ? [{ force }] : []));
  return new NoWorkerError(
    `no worker is running for job '${job}': the ${what}${force ? ' (forced)' : ''} request is recorded and applies when a worker runs`,
    NO_WORKER_HINT,
    job,
    what,
  );
}
