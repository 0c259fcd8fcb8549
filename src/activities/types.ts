// Inputs and outputs of the runner activities, shared by workflow code and the runners.
import type { AgentPlan } from '../job/plan';

export interface AgentRef {
  job: string;
  agent: AgentPlan;
}

export interface StartedAgent {
  pid: number;
  /** true when an identical agent was already running and was kept */
  reused: boolean;
  startedAt: string;
  logDir: string;
}

export interface StopOptions extends AgentRef {
  force?: boolean;
}

export interface StoppedAgent {
  /** false when nothing was running (stopping is idempotent) */
  wasRunning: boolean;
  forced: boolean;
}

/** The activities every runner offers, whatever it runs agents on. */
export interface RunnerActivities {
  startAgent(ref: AgentRef): Promise<StartedAgent>;
  waitHealthy(ref: AgentRef & { pid: number }): Promise<{ attempts: number; ms: number }>;
  stopAgent(opts: StopOptions): Promise<StoppedAgent>;
  /** Long-running: returns only when some watched agent exited or turned unhealthy. */
  watchAgents(opts: WatchOptions): Promise<AgentEvent[]>;
}

export interface WatchedAgent {
  id: string;
  pid: number;
  healthUrl: string;
}

export interface AgentEvent {
  id: string;
  kind: 'exited' | 'unhealthy';
  /** exit code when known (the worker that started it saw it end) */
  exitCode?: number | null;
  detail: string;
  stderr: string;
}

export interface WatchOptions {
  job: string;
  agents: WatchedAgent[];
  /** health failures in a row that make an agent unhealthy */
  unhealthyAfter?: number;
}
