// The shape of bench/results/*.json: what one benchmark run records (README "Performance").
import type { CpuSplit, HistorySize, PartialDeploy } from './a2a';
import type { Analysis, Payload } from './history';
import type { IdleResult } from './idle';
import type { Memory } from './procfs';
import type { Stats } from './stats';

export interface Timing {
  deployMs: number;
  teardownMs: number;
}

/** One repetition of a scenario: the floor and a2a-deploy on the same shape. */
export interface Run {
  floor?: Timing;
  floorError?: string;
  a2a?: Timing;
  history?: { atRunning: HistorySize & { worker: Memory }; atEnd: HistorySize };
  cpuS?: { deploy: CpuSplit; teardown: CpuSplit };
  analysis?: Analysis;
  error?: string;
  partial?: PartialDeploy;
}

export interface DeployStats {
  deploy: Stats;
  teardown: Stats;
}

export interface ScenarioResult {
  name: string;
  agents: number;
  jobs: number;
  levels: number;
  reps: number;
  loadavg: number[];
  floor: Partial<DeployStats>;
  a2a: Partial<DeployStats>;
  runs: Run[];
  failedRuns?: Run[];
  error?: string;
  partial?: PartialDeploy;
  planBytes?: number;
  idle?: IdleResult;
  history?: {
    perJob: boolean;
    eventsAtRunning: number;
    eventsAtEnd: number;
    bytesAtRunning: number;
    bytesAtEnd: number;
    eventsPerAgent: number;
    bytesPerAgent: number;
    runsPerJob: number;
    maxRunEvents: number;
    maxRunBytes: number;
    largestPayload?: Payload;
  };
  worker?: { rssMiB: number; hwmMiB: number; cpuDeployS: Stats; cpuTeardownS: Stats };
  server?: { cpuDeployS: Stats; cpuTeardownS: Stats };
  overhead?: { deployMs: number; teardownMs: number; perLevelMs: number; perExtraAgentMs?: number };
}

/** A scenario with every figure present: at least one run where both sides succeeded. */
export type CompletedScenario = ScenarioResult & {
  floor: DeployStats;
  a2a: DeployStats;
  history: NonNullable<ScenarioResult['history']>;
  worker: NonNullable<ScenarioResult['worker']>;
  server: NonNullable<ScenarioResult['server']>;
  overhead: NonNullable<ScenarioResult['overhead']>;
};

export interface ContainerScenario {
  name: string;
  agents: number;
  levels: number;
  runs: { compose: Timing; a2a: Timing }[];
  error?: string;
  compose?: DeployStats;
  a2a?: DeployStats;
}

export interface ContainersResult {
  skipped?: string;
  note?: string;
  scenarios?: ContainerScenario[];
}

/** Why a run stalled after its worker was killed, from its history (worker-restart.ts). */
export interface StallCause {
  timeline: string[];
  timedOut: string[];
  retriedActivities: string[];
  slowestWorkflowTaskPickupMs: number;
}

export interface RestartRun {
  disturbed: boolean;
  deployMs: number;
  killToNextAgentMs: number;
  workerRestartMs?: number;
  analysis?: StallCause;
}

export interface WorkerRestartResult {
  error?: string;
  runs: RestartRun[];
  killAfterMs?: number;
  delayMs?: number;
  workerRestartMs?: Stats;
  killToProgressMs?: Stats;
  undisturbedMs?: Stats;
  stallAddedMs?: Stats;
  deployAddedMs?: Stats;
}

export interface Target {
  target: string;
  value: string;
  status: string;
}

export interface Results {
  when: string;
  quick: boolean;
  healthInterval: string;
  delayMs: number;
  machine: { cpus: number; memGiB: number; loadavg: number[]; node: string };
  targets: { perLevelMs: number; perAgentMs: number };
  scenarios: ScenarioResult[];
  notes: string[];
  containers?: ContainersResult;
  workerRestart?: WorkerRestartResult;
  worker?: Memory & { pid?: number };
  elapsedS?: number;
  perLevelMs?: number;
  targetsEvaluated?: Target[];
}

/** The scenarios whose figures are all there. */
export const completed = (r: Results): CompletedScenario[] => r.scenarios.filter((s) => s.runs.length) as CompletedScenario[];
