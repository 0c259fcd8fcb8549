// Starting jobs on the test environment and waiting for what their status shows.
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { statusQuery, type DeployJobInput, type JobStatus, type StatusMemo } from '../../../src/workflows/api';
import type { deployJob } from '../../../src/workflows';
import { makePlan, type AgentSketch } from './fake-job';
import type { WorkflowTestEnv } from './env';

export type JobHandle = WorkflowHandleWithFirstExecutionRunId<typeof deployJob>;

export async function startJob(
  t: WorkflowTestEnv,
  job: string,
  agents: AgentSketch[],
  { priority, ...extra }: Omit<DeployJobInput, 'plan'> & { priority?: string } = {},
): Promise<JobHandle> {
  // The workflow is started without a Temporal priority: what its activities carry is the workflow's doing.
  const plan = makePlan(job, agents, t.taskQueue, priority);
  return t.env.client.workflow.start<typeof deployJob>('deployJob', {
    taskQueue: t.taskQueue,
    workflowId: `a2a-job-${job}`,
    args: [{ plan, ...extra }],
  });
}

/** Polls the status query (real time; no time is skipped) until `ok` holds. */
export async function waitStatus(handle: JobHandle, what: string, ok: (s: JobStatus) => boolean, timeoutMs = 8_000): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: JobStatus | undefined;
  for (;;) {
    last = await handle.query(statusQuery);
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(last, null, 1)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const agentState = (s: JobStatus, id: string) => s.agents[id]?.state;

/**
 * Polls the job's memo (as `describe` shows it, as the CLI reads it with no worker running)
 * until `ok` holds. The Java test server does not answer queries to a run that began by
 * continue-as-new, so tests that cross one read the memo.
 */
export async function waitMemo(
  handle: JobHandle,
  what: string,
  ok: (m: StatusMemo, runId: string) => boolean,
  timeoutMs = 8_000,
): Promise<{ memo: StatusMemo; runId: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await handle.describe();
    const memo = d.memo?.status as StatusMemo | undefined;
    if (memo && ok(memo, d.runId)) return { memo, runId: d.runId };
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; memo: ${JSON.stringify(memo, null, 1)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
