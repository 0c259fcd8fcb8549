// The contract between the CLI and the deploy workflow: names, messages and status shapes.
// Imported by both sides (and bundled into workflow code), so it holds no Node-only code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { priorityKeyOf, SEARCH_ATTRIBUTE_NAMES, WORKFLOW_TASK_QUEUE, type JobPhase } from '../config/names';
import type { DeployPlan } from '../job/plan';
import type { Usage } from '../process/cgroups';

export { WORKFLOW_TASK_QUEUE, type JobPhase };
export const workflowIdFor = (job: string) => `a2a-job-${job}`;
export const jobFromWorkflowId = (id: string) => id.replace(/^a2a-job-/, '');

export const SA_JOB = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.job, SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.phase, SearchAttributeType.KEYWORD);
export const SA_TOPOLOGY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.topology, SearchAttributeType.KEYWORD);
export const SA_PAUSED = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.paused, SearchAttributeType.BOOL);
export type AgentState =
  | 'pending'
  | 'waiting' // for the agents it calls
  | 'starting'
  | 'checking' // started, waiting for its health check
  | 'healthy'
  | 'restarting' // crashed or unhealthy; a restart is under way or due (after backoff, or after resume)
  | 'exited' // ended by itself and its restart policy leaves it so
  | 'failed' // could not be started, or exhausted its restarts
  | 'stopping'
  | 'stopped';

export interface AgentStatus {
  id: string;
  stage: number;
  target: string;
  state: AgentState;
  url: string;
  pid?: number;
  /** containers only */
  containerId?: string;
  /** local agents: the process's start time, which with the pid names it (see StartedAgent.procStart) */
  procStart?: string;
  /** when the agent entered its current state (ISO time) */
  since: string;
  /** the last thing that went wrong (kept after a successful restart: the reason for it) */
  lastError?: string;
  /** when lastError happened (ISO time, workflow time) */
  lastErrorAt?: string;
  /** where its output goes, on the machine that runs it */
  logDir?: string;
  /** restarts so far (all time) */
  restarts: number;
  /** set by the CLI, not the workflow: what the agent waits for (e.g. a host's worker) */
  waitingFor?: string;
  /** set by the CLI, not the workflow: an agent with limits, what it uses now (read where it runs, when that is this machine) */
  usage?: Usage;
}

export interface JobStatus {
  job: string;
  topology: string;
  phase: JobPhase;
  entry: string;
  stages: string[][];
  agents: Record<string, AgentStatus>;
  error?: string;
  paused: boolean;
  /** the last request (a signal) that made no sense in the job's state, and why */
  refused?: RefusedRequest;
}

export interface RefusedRequest {
  /** e.g. "pause signal" */
  action: string;
  reason: string;
  /** ISO time */
  at: string;
}

/** The compact status the workflow keeps in its memo (key `status`), readable with no worker running. */
export interface StatusMemo {
  phase: JobPhase;
  paused: boolean;
  /** ISO time of this memo */
  updatedAt: string;
  agents: Record<string, { state: AgentState; pid?: number; url: string; restarts: number; lastError?: string; lastErrorAt?: string }>;
}

export interface DeployJobInput {
  plan: DeployPlan;
  /** state carried over by continue-as-new: the job is already deployed */
  carried?: CarriedState;
  /**
   * Tests only: continue-as-new once the history has this many events, as if Temporal had
   * suggested it (real jobs leave it unset and follow Temporal's suggestion). Carried over.
   */
  continueAsNewAfterEvents?: number;
}

export interface CarriedState {
  status: JobStatus;
  /** per agent, times (ms) of recent restarts, for the restart window */
  restartTimes: Record<string, number[]>;
}

export interface DeployJobResult {
  job: string;
  phase: 'stopped';
}

export interface StopRequest {
  force?: boolean;
}

export interface RestartRequest {
  /** agent ids; none or empty: every agent */
  agents?: string[];
}

export interface RestartResult {
  /** the agents restarted, callees first */
  restarted: string[];
  /** those that did not come back healthy (failed; the job is degraded) */
  failed: string[];
  error?: string;
}

export interface RedeployResult {
  applied: boolean;
  added: string[];
  removed: string[];
  changed: string[];
  /** when the change failed and the previous spec was restored */
  rolledBack?: boolean;
  error?: string;
}

// Message names and payloads. The Web UI lists them with the descriptions given in
// handlers.ts; README.md ("Signals, updates and queries") shows how to send each one.
export const statusQuery = defineQuery<JobStatus>('status');
/** The plan the job runs now (after any redeploys). */
export const planQuery = defineQuery<DeployPlan>('plan');
export const pauseUpdate = defineUpdate<JobPhase, []>('pause');
export const resumeUpdate = defineUpdate<JobPhase, []>('resume');
/** Applies a changed job file to the running job; completes when the change is rolled out or rolled back. */
export const redeployUpdate = defineUpdate<RedeployResult, [DeployPlan]>('redeploy');
/** Accepted at once (the validator refuses a job that is already stopping); teardown follows. No payload: graceful. */
export const stopUpdate = defineUpdate<JobPhase, [StopRequest | undefined]>('stop');
/** Restarts agents (none named: all) through the health gate, callees first; completes when they are back. */
export const restartUpdate = defineUpdate<RestartResult, [RestartRequest | undefined]>('restart');
// The same as the updates, for senders that cannot wait for an answer (the Web UI's signal
// form, `temporal workflow signal`). A refused one is recorded in the status (`refused`).
export const pauseSignal = defineSignal<[]>('pause');
export const resumeSignal = defineSignal<[]>('resume');
export const stopSignal = defineSignal<[StopRequest | undefined]>('stop');

/** How a job's workflow is started: by `start`, and by the benchmark, which must do the same
 *  (pure data, so this contract module stays importable by workflow code). */
export function deployJobStart(plan: DeployPlan) {
  const n = Object.keys(plan.agents).length;
  return {
    workflowId: workflowIdFor(plan.job),
    taskQueue: WORKFLOW_TASK_QUEUE,
    args: [{ plan }] as [{ plan: DeployPlan }],
    workflowIdConflictPolicy: 'FAIL' as const,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    // The job's priority orders its workflow tasks, and (inherited, and set again by the workflow
    // for each activity) its agents' starts, against other jobs' on saturated workers.
    priority: { priorityKey: priorityKeyOf(plan.priority) },
    // Listing does not return an execution's priority (describing does): `list` reads it here (and
    // filters on it); the workflow adds `status`.
    memo: { priority: plan.priority },
    typedSearchAttributes: [
      { key: SA_JOB, value: plan.job },
      { key: SA_PHASE, value: 'deploying' },
      { key: SA_TOPOLOGY, value: plan.topology },
    ],
    staticSummary: `a2a job ${plan.job}: ${n} agents, ${plan.topology}`,
    staticDetails: `${plan.description ?? ''}\n\nfrom ${plan.sourceFile}\nstages: ${plan.stages.map((s) => s.join(', ')).join(' -> ')}`,
  };
}
