// The contract between the CLI and the deploy workflow: names, messages and status shapes.
// Imported by both sides (and bundled into workflow code), so it holds no Node-only code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTE_NAMES, WORKFLOW_TASK_QUEUE, type JobPhase } from '../config/names';
import type { DeployPlan } from '../job/plan';

export { WORKFLOW_TASK_QUEUE, type JobPhase };
export const workflowIdFor = (job: string) => `a2a-job-${job}`;
export const jobFromWorkflowId = (id: string) => id.replace(/^a2a-job-/, '');

export const SA_JOB = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.job, SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.phase, SearchAttributeType.KEYWORD);
export const SA_TOPOLOGY = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.topology, SearchAttributeType.KEYWORD);
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
  /** when the agent entered its current state (ISO time) */
  since: string;
  lastError?: string;
  /** where its output goes, on the machine that runs it */
  logDir?: string;
  /** restarts so far (all time) */
  restarts: number;
  /** set by the CLI, not the workflow: what the agent waits for (e.g. a host's worker) */
  waitingFor?: string;
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
}

export interface DeployJobInput {
  plan: DeployPlan;
  /** state carried over by continue-as-new: the job is already deployed */
  carried?: CarriedState;
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

export interface RedeployResult {
  applied: boolean;
  added: string[];
  removed: string[];
  changed: string[];
  /** when the change failed and the previous spec was restored */
  rolledBack?: boolean;
  error?: string;
}

export const statusQuery = defineQuery<JobStatus>('status');
/** The plan the job runs now (after any redeploys). */
export const planQuery = defineQuery<DeployPlan>('plan');
export const pauseUpdate = defineUpdate<JobPhase, []>('pause');
export const resumeUpdate = defineUpdate<JobPhase, []>('resume');
/** Applies a changed job file to the running job; completes when the change is rolled out or rolled back. */
export const redeployUpdate = defineUpdate<RedeployResult, [DeployPlan]>('redeploy');
/** Accepted at once (the validator refuses a job that is already stopping); teardown follows. */
export const stopUpdate = defineUpdate<JobPhase, [StopRequest]>('stop');
