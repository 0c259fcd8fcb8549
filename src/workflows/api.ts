// The contract between the CLI and the deploy workflow: names, messages and status shapes.
// Imported by both sides (and bundled into workflow code), so it holds no Node-only code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DeployPlan } from '../job/plan';

export const WORKFLOW_TASK_QUEUE = 'a2a-deploy';
export const workflowIdFor = (job: string) => `a2a-job-${job}`;
export const jobFromWorkflowId = (id: string) => id.replace(/^a2a-job-/, '');

export const SA_JOB = defineSearchAttributeKey('A2AJobName', SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey('A2APhase', SearchAttributeType.KEYWORD);
export const SA_TOPOLOGY = defineSearchAttributeKey('A2ATopology', SearchAttributeType.KEYWORD);

export type JobPhase = 'deploying' | 'running' | 'degraded' | 'stopping' | 'stopped' | 'failed';
export type AgentState = 'pending' | 'waiting' | 'starting' | 'checking' | 'healthy' | 'failed' | 'stopping' | 'stopped';

export interface AgentStatus {
  id: string;
  stage: number;
  target: string;
  state: AgentState;
  url: string;
  pid?: number;
  /** when the agent entered its current state (ISO time) */
  since: string;
  lastError?: string;
  /** where its output goes, on the machine that runs it */
  logDir?: string;
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
}

export interface DeployJobResult {
  job: string;
  phase: 'stopped';
}

export interface StopRequest {
  force?: boolean;
}

export const statusQuery = defineQuery<JobStatus>('status');
/** Accepted at once (the validator refuses a job that is already stopping); teardown follows. */
export const stopUpdate = defineUpdate<JobPhase, [StopRequest]>('stop');
