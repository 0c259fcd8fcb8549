// Inputs and outputs of the runner activities, shared by workflow code and the runners.
import type { ReadinessType } from './readiness';
import type { AgentPlan, DeploymentPlan } from '../job/plan';

export interface AgentRef {
  job: string;
  agent: AgentPlan;
}

export interface StartedAgent {
  /** the agent's process id (for containers: the container's main process on the Docker host) */
  pid: number;
  /** containers only */
  containerId?: string;
  /** true when an identical agent was already running and was kept */
  reused: boolean;
  startedAt: string;
  /**
   * local agents: the process's start time as the kernel counts it (/proc/PID/stat). The pid
   * and this name the agent even when its environment markers cannot be read (a program that
   * rewrites its environment area for its title, as setproctitle does).
   */
  procStart?: string;
  logDir: string;
}

export interface StopOptions extends AgentRef {
  force?: boolean;
  /**
   * What the workflow knows of the running agent: stop acts on it too when neither the agent's
   * state folder nor a marker scan finds it (the pid only when its start time matches).
   */
  known?: KnownProcess;
}

/** A running agent as the workflow recorded it from its start. */
export interface KnownProcess {
  pid?: number;
  procStart?: string;
  containerId?: string;
}

export interface StoppedAgent {
  /** false when nothing was running (stopping is idempotent) */
  wasRunning: boolean;
  forced: boolean;
}

/** The activities every runner offers, whatever it runs agents on. */
export interface RunnerActivities {
  startAgent(ref: AgentRef): Promise<StartedAgent>;
  waitHealthy(ref: AgentRef & { pid: number; containerId?: string; procStart?: string }): Promise<{ attempts: number; ms: number }>;
  /** The last `tail` lines (or the bytes after `offsets`) of the agent's stdout and stderr. */
  readLogs(req: LogRequest): Promise<LogChunk>;
  stopAgent(opts: StopOptions): Promise<StoppedAgent>;
  /** Long-running: returns only when some watched agent exited or turned unhealthy. */
  watchAgents(opts: WatchOptions): Promise<AgentEvent[]>;
}

/** What `deployAgent` (start, then wait until healthy, in one activity) returns. */
export interface DeployedAgent extends StartedAgent {
  health: { attempts: number; ms: number };
}

/** Several agents of one job, on one worker and target, stopped by one activity (stopAgents). */
export interface StopBatch {
  job: string;
  force?: boolean;
  agents: { agent: AgentPlan; known?: KnownProcess }[];
  /**
   * A whole teardown in one batch: each agent's level (0 first), in the agents' order. Agents of
   * one level stop side by side, a level only once the one before it is down (callers first).
   * Absent: every agent of the batch at once.
   */
  levels?: number[];
}

/** Each agent's stop, in the batch's order: what stopAgent returned, or why it failed. */
export type StopBatchResult = ({ id: string } & ({ stopped: StoppedAgent } | { error: string }))[];

/** The activities a worker registers: every runner's, plus the ones composed from them. */
export interface JobActivities extends RunnerActivities {
  deployAgent(ref: AgentRef): Promise<DeployedAgent>;
  stopAgents(batch: StopBatch): Promise<StopBatchResult>;
}

export interface WatchedAgent {
  id: string;
  /** process id (local, remote) or container id (container) as startAgent returned it */
  pid: number;
  containerId?: string;
  /** local agents: the process's start time (see StartedAgent.procStart) */
  procStart?: string;
  healthUrl: string;
  /** how the watch probes it (absent in older workflows: a plain HTTP check of healthUrl) */
  readiness?: { type: ReadinessType; agentUrl: string };
  target: AgentPlan['target'];
  deployment: DeploymentPlan;
}

export interface AgentEvent {
  id: string;
  kind: 'exited' | 'unhealthy';
  /** exit code when known (the worker that started it saw it end) */
  exitCode?: number | null;
  detail: string;
  stderr: string;
  /** when the watch found it (ISO time, the worker's clock): the workflow's own clock can lag
   *  behind right after a worker restart (issue 23), so the time of the error comes from here */
  at?: string;
}

export interface WatchOptions {
  job: string;
  agents: WatchedAgent[];
  /** health failures in a row that make an agent unhealthy */
  unhealthyAfter?: number;
}

export interface LogRequest extends AgentRef {
  tail: number;
  /** for following: byte offsets already read, per stream */
  offsets?: { stdout: number; stderr: number };
}

export interface LogChunk {
  stdout: string;
  stderr: string;
  offsets: { stdout: number; stderr: number };
  /** more is waiting beyond this chunk (a follower reads again at once instead of sleeping) */
  more?: boolean;
}
