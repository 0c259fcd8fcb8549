// Drives a2a-deploy for real through its public workflow contract (src/workflows/api.ts):
// starts deploy workflows exactly as `a2a-deploy start` does, waits until each job says it is
// running, stops it with the stop update, and measures time, history, CPU and memory.
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type { DeployPlan } from '../../src/job/plan';
import type { deployJob } from '../../src/workflows';
import { deployJobStart, SA_PHASE, statusQuery, stopUpdate } from '../../src/workflows/api';
import type { BenchStack } from './bench-stack';
import { cpuSeconds, killMarked, markedProcesses, memory, type Memory } from './procfs';
import { sleep, sum } from './stats';

export type JobHandle = WorkflowHandle<typeof deployJob>;

// How often the harness asks whether a job is running. describe() is answered by the server
// alone (the phase is a search attribute), so polling does not load the worker under test.
const POLL_MS = 10;

/** Starts a job exactly as `a2a-deploy start --detach` does (the same start options). */
export function startJob(client: Client, plan: DeployPlan): Promise<JobHandle> {
  return client.workflow.start<typeof deployJob>('deployJob', deployJobStart(plan));
}

/** Resolves with the time (performance.now()) each job was first seen running. */
export async function waitRunning(handles: JobHandle[], timeoutMs: number, check: () => void = () => {}): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < handles.length) {
    check(); // e.g. the worker died: no point waiting
    const pending = handles.filter((h) => !seen.has(h.workflowId));
    const descs = await Promise.all(pending.map((h) => h.describe()));
    const now = performance.now();
    for (const [i, d] of descs.entries()) {
      const phase = d.typedSearchAttributes.get(SA_PHASE);
      if (phase === 'running') seen.set(pending[i].workflowId, now);
      else if (phase !== 'deploying' || d.status.name !== 'RUNNING') {
        let why = `phase ${phase}, workflow ${d.status.name}`;
        try {
          why += `: ${(await pending[i].query(statusQuery)).error ?? ''}`;
        } catch {
          /* ended: no query */
        }
        throw new Error(`${pending[i].workflowId} did not deploy (${why})`);
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${handles.length - seen.size} jobs still deploying`);
    if (seen.size < handles.length) await sleep(POLL_MS);
  }
  return seen;
}

/**
 * The runs of a job's workflow, oldest first: a big job continues-as-new once deployed (when
 * Temporal suggests it), so its history is a chain of runs. Each run's limits apply to it alone.
 */
export async function runsOf(client: Client, workflowId: string): Promise<JobHandle[]> {
  const ids: { runId: string; start: number }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    ids.push({ runId: w.runId, start: w.startTime.getTime() });
  ids.sort((a, b) => a.start - b.start);
  return ids.map(({ runId }) => client.workflow.getHandle<typeof deployJob>(workflowId, runId));
}

export interface HistorySize {
  historyLength: number;
  historyBytes: number;
  runs: number;
  maxRunLength: number;
  maxRunBytes: number;
}

const bytesOf = (d: WorkflowExecutionDescription) => Number(d.historySize ?? NaN);

/** History size of these jobs: summed over every run of every job, and the largest single run. */
export async function historyOf(client: Client, handles: JobHandle[]): Promise<HistorySize> {
  const runs: WorkflowExecutionDescription[] = [];
  for (const h of handles) for (const r of await runsOf(client, h.workflowId)) runs.push(await r.describe());
  return {
    historyLength: sum(runs.map((d) => d.historyLength)),
    historyBytes: sum(runs.map(bytesOf)),
    runs: runs.length,
    maxRunLength: Math.max(...runs.map((d) => d.historyLength)),
    maxRunBytes: Math.max(...runs.map(bytesOf)),
  };
}

export interface CpuSplit {
  worker: number;
  server: number;
}

/** What a failed deploy still tells: how far it got and how big its history was. */
export interface PartialDeploy {
  afterMs: number;
  historyLength: number;
  historyBytes: number;
  worker: Memory;
  cpu: CpuSplit;
}

export class DeployFailed extends Error {
  constructor(
    message: string,
    readonly partial: PartialDeploy,
  ) {
    super(message);
  }
}

export interface Measured<T> {
  deployMs: number;
  teardownMs: number;
  handles: JobHandle[];
  atRunning: HistorySize & { worker: Memory };
  atEnd: HistorySize;
  cpu: { deploy: CpuSplit; teardown: CpuSplit };
  during?: T;
}

/**
 * One measured run: submit every plan at once, wait until all run, optionally do something
 * while they run (`whileRunning`), then stop them all and wait for the workflows to end.
 */
export async function deployAndTeardown<T>(
  stack: BenchStack,
  plans: DeployPlan[],
  { whileRunning, timeoutMs = 600_000 }: { whileRunning?: (handles: JobHandle[]) => Promise<T>; timeoutMs?: number } = {},
): Promise<Measured<T>> {
  const workerPid = stack.workerPid();
  const cpu = (): CpuSplit => ({ worker: cpuSeconds(workerPid), server: cpuSeconds(stack.serverPid) });
  const minus = (a: CpuSplit, b: CpuSplit): CpuSplit => ({ worker: a.worker - b.worker, server: a.server - b.server });
  const cpu0 = cpu();
  const t0 = performance.now();
  const handles = await Promise.all(plans.map((p) => startJob(stack.client, p)));
  let running: Map<string, number>;
  try {
    running = await waitRunning(handles, timeoutMs, () => stack.checkWorker());
  } catch (err) {
    // Keep what a failed deploy still tells, then end the workflows; the caller kills the agents they left.
    const descs = await Promise.all(handles.map((h) => h.describe().catch(() => undefined)));
    const partial: PartialDeploy = {
      afterMs: performance.now() - t0,
      historyLength: sum(descs.map((d) => d?.historyLength ?? 0)),
      historyBytes: sum(descs.map((d) => (d ? bytesOf(d) : 0))),
      worker: memory(workerPid),
      cpu: minus(cpu(), cpu0),
    };
    await Promise.all(handles.map((h) => h.terminate('bench: the deploy failed').catch(() => {})));
    throw new DeployFailed((err as Error).message, partial);
  }
  const deployMs = Math.max(...running.values()) - t0;
  const cpu1 = cpu();
  const atRunning = { ...(await historyOf(stack.client, handles)), worker: memory(workerPid) };
  const during = whileRunning ? await whileRunning(handles) : undefined;

  const cpu2 = cpu();
  const t1 = performance.now();
  // A dead worker would leave the stop hanging: fail at once instead.
  let stopped = false;
  await Promise.race([
    Promise.all(
      handles.map(async (h) => {
        await h.executeUpdate(stopUpdate, { args: [{}] });
        await h.result();
      }),
    ).finally(() => (stopped = true)),
    (async () => {
      while (!stopped) {
        stack.checkWorker();
        await sleep(100);
      }
    })(),
  ]);
  const teardownMs = performance.now() - t1;
  const cpu3 = cpu();
  const atEnd = await historyOf(stack.client, handles);
  // Teardown means every agent process is gone; anything left would also block the next run's ports.
  const left = plans.flatMap((p) => markedProcesses(`${p.job}/`));
  if (left.length) {
    for (const p of plans) killMarked(`${p.job}/`);
    throw new Error(`${left.length} agent processes survived the teardown of ${plans.map((p) => p.job).join(', ')}`);
  }
  return {
    deployMs,
    teardownMs,
    handles,
    atRunning,
    atEnd,
    cpu: { deploy: minus(cpu1, cpu0), teardown: minus(cpu3, cpu2) },
    during,
  };
}
