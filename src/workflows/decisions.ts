// The deploy workflow's decisions, as pure functions of its state: when to restart a crashed
// agent and after what backoff, when to give up, which phase the job settles in, which requests
// make sense in the current phase (and why not), how a redeploy reshapes the status, and what
// the Web UI and the memo show. The workflow (deploy-job.ts) only wires messages and activities
// to these, so each can be tested without Temporal (test/unit/workflow-decisions.test.ts).
import type { AgentEvent } from '../activities/types';
import type { PlanDiff } from '../job/diff';
import type { AgentPlan, DeployPlan, RestartPlan } from '../job/plan';
import type { AgentStatus, JobPhase, JobStatus, RedeployResult, RestartRequest, RestartResult, StatusMemo, StopRequest } from './api';

/** Everything the workflow keeps between activations; the handlers and the main loop share it. */
export interface JobState {
  plan: DeployPlan;
  status: JobStatus;
  /** per agent, times (ms, workflow time) of recent restarts, for the restart window */
  restartTimes: Record<string, number[]>;
  stopRequest?: StopRequest;
  pendingRedeploy?: { plan: DeployPlan; done: (r: RedeployResult) => void };
  pendingRestart?: { ids: string[]; done: (r: RestartResult) => void };
  /** bumped whenever the set of agents to watch changes, so the watch is renewed */
  watchEpoch: number;
  /** crash restarts under way */
  inFlight: number;
  /** since the job-priority patch: its activities carry the job's Temporal task priority */
  prioritized?: boolean;
}

export const freshAgent = (a: AgentPlan, since: string): AgentStatus => ({
  id: a.id,
  stage: a.stage,
  target: a.target,
  state: 'pending',
  url: a.url,
  since,
  restarts: 0,
});

export const initialStatus = (plan: DeployPlan, since: string): JobStatus => ({
  job: plan.job,
  topology: plan.topology,
  phase: 'deploying',
  entry: plan.entry,
  stages: plan.stages,
  paused: false,
  agents: Object.fromEntries(Object.values(plan.agents).map((a) => [a.id, freshAgent(a, since)])),
});

/** The job is on its way out: a stop was asked for, or it is stopping or over. */
export const isEnding = (job: Pick<JobState, 'status' | 'stopRequest'>) =>
  job.stopRequest !== undefined || job.status.phase === 'stopping' || job.status.phase === 'stopped' || job.status.phase === 'failed';

/** Running, or degraded while some agent is down for good; other phases stay as they are. */
export function settledPhase(status: JobStatus): JobPhase {
  if (status.phase !== 'running' && status.phase !== 'degraded') return status.phase;
  return Object.values(status.agents).some((a) => a.state === 'failed' || a.state === 'exited') ? 'degraded' : 'running';
}

// Why a request is refused in the current state (undefined: it is accepted). The update
// validators throw these; the signals record them in the status.

export function refuseStop(job: JobState): string | undefined {
  if (!isEnding(job)) return undefined;
  const { phase } = job.status;
  return `job ${job.plan.job} is already ${phase === 'failed' ? 'failed and torn down' : phase === 'stopped' ? 'stopped' : 'stopping'}`;
}

export function refusePause(job: JobState): string | undefined {
  if (isEnding(job)) return `job ${job.plan.job} is ${job.status.phase}; there is nothing to pause`;
  if (job.status.paused) return `job ${job.plan.job} is already paused`;
  return undefined;
}

export const refuseResume = (job: JobState): string | undefined => (job.status.paused ? undefined : `job ${job.plan.job} is not paused`);

export function refuseRedeploy(job: JobState, next: DeployPlan): string | undefined {
  const { plan, status } = job;
  if (next.job !== plan.job) return `this is job ${plan.job}, not ${next.job}`;
  if (status.phase !== 'running' && status.phase !== 'degraded') return `job ${plan.job} is ${status.phase}; a redeploy needs it running`;
  if (status.paused) return `job ${plan.job} is paused; resume it first`;
  if (job.pendingRedeploy) return `a redeploy of ${plan.job} is already under way`;
  return undefined;
}

export function refuseRestart(job: JobState, req: RestartRequest | undefined): string | undefined {
  const { plan, status } = job;
  if (job.stopRequest || (status.phase !== 'running' && status.phase !== 'degraded'))
    return `job ${plan.job} is ${job.stopRequest ? 'stopping' : status.phase}; a restart needs it running`;
  if (status.paused) return `job ${plan.job} is paused; resume it first`;
  if (job.pendingRedeploy) return `a redeploy of ${plan.job} is under way; restart after it`;
  if (job.pendingRestart) return `a restart in ${plan.job} is already under way`;
  const unknown = (req?.agents ?? []).filter((id) => typeof id !== 'string' || !plan.agents[id]);
  if (unknown.length > 0) return `job ${plan.job} has no agent ${unknown.join(', ')} (its agents: ${Object.keys(plan.agents).join(', ')})`;
  return undefined;
}

/** The agents a restart request names (none: all), callees first (stage order). */
export const restartTargets = (plan: DeployPlan, req: RestartRequest | undefined): string[] =>
  plan.stages.flat().filter((id) => !req?.agents?.length || req.agents.includes(id));

/** What a crash leaves in the agent's status: the watch's words and the last stderr lines. */
export const crashReport = (ev: AgentEvent): string =>
  `${ev.detail}${ev.stderr ? `\n--- last lines of ${ev.id}'s stderr ---\n${ev.stderr}` : ''}`;

export type CrashDecision =
  /** the restart policy leaves it down: exited (cleanly) or failed */
  | { action: 'leave'; state: 'exited' | 'failed'; lastError: string }
  /** too many restarts within the window: failed for good */
  | { action: 'give-up'; lastError: string; restartTimes: number[] }
  | { action: 'restart'; backoffMs: number; lastError: string; restartTimes: number[] };

/**
 * Applies an agent's restart policy to a crash at `nowMs`, given its earlier restart times.
 * Restarts older than the window are forgotten; the backoff doubles with each recent one.
 */
export function decideCrash(ev: AgentEvent, restart: RestartPlan, restartTimes: number[], nowMs: number): CrashDecision {
  const lastError = crashReport(ev);
  const cleanExit = ev.kind === 'exited' && ev.exitCode === 0;
  if (restart.policy === 'never' || (restart.policy === 'on-failure' && cleanExit))
    return { action: 'leave', state: cleanExit ? 'exited' : 'failed', lastError };
  const recent = restartTimes.filter((t) => nowMs - t < restart.windowMs);
  if (recent.length >= restart.maxRestarts)
    return {
      action: 'give-up',
      lastError: `${lastError}\n(gave up after ${recent.length} restarts within ${restart.windowMs / 1000}s)`,
      restartTimes: recent,
    };
  return {
    action: 'restart',
    backoffMs: Math.min(restart.maxBackoffMs, restart.backoffMs * 2 ** recent.length),
    lastError,
    restartTimes: [...recent, nowMs],
  };
}

/** Reshapes the status for the new plan of a redeploy (removed agents are dropped after their teardown). */
export function adoptPlan(status: JobStatus, next: DeployPlan, d: PlanDiff, since: string): void {
  status.stages = next.stages;
  status.entry = next.entry;
  for (const id of d.added) status.agents[id] = freshAgent(next.agents[id], since);
  for (const id of d.changed)
    Object.assign(status.agents[id], { stage: next.agents[id].stage, url: next.agents[id].url, target: next.agents[id].target });
}

/** Rolls the status back to the previous plan after a failed redeploy; restart counts survive. */
export function restorePlan(status: JobStatus, before: DeployPlan, d: PlanDiff, since: string): void {
  for (const id of d.added) delete status.agents[id];
  status.stages = before.stages;
  status.entry = before.entry;
  for (const id of [...d.changed, ...d.removed])
    status.agents[id] = { ...freshAgent(before.agents[id], since), restarts: status.agents[id]?.restarts ?? 0 };
}

/** What the Web UI shows for the job, in words (the workflow's current details). */
export function describeJob(plan: DeployPlan, status: JobStatus): string {
  const agents = Object.values(status.agents);
  const healthy = agents.filter((a) => a.state === 'healthy').length;
  const lines = [
    `**${plan.job}**: ${status.phase}${status.paused ? ' (paused)' : ''}, ${healthy}/${agents.length} agents healthy (${plan.topology}, entry agent ${plan.entry})`,
    '',
    ...plan.stages.map(
      (stage, i) =>
        `stage ${i}: ${stage.map((id) => `${id} ${status.agents[id].state}${status.agents[id].restarts ? ` (${status.agents[id].restarts} restarts)` : ''}`).join(', ')}`,
    ),
    ...(status.error ? ['', `error: ${status.error}`] : []),
    ...(status.refused ? ['', `refused ${status.refused.action} at ${status.refused.at}: ${status.refused.reason}`] : []),
  ];
  return lines.join('\n');
}

/** A memo is stored in every upsert event: errors are cut so a big job's memo stays small. */
const MEMO_ERROR_CHARS = 300;

/** The compact status kept in the workflow memo, readable without a worker. */
export function statusMemo(status: JobStatus, updatedAt: string): StatusMemo {
  const agents: StatusMemo['agents'] = {};
  for (const a of Object.values(status.agents))
    agents[a.id] = {
      state: a.state,
      ...(a.pid !== undefined ? { pid: a.pid } : {}),
      url: a.url,
      restarts: a.restarts,
      ...(a.lastError
        ? { lastError: a.lastError.length > MEMO_ERROR_CHARS ? `${a.lastError.slice(0, MEMO_ERROR_CHARS)}…` : a.lastError }
        : {}),
      ...(a.lastError && a.lastErrorAt ? { lastErrorAt: a.lastErrorAt } : {}),
    };
  return { phase: status.phase, paused: status.paused, updatedAt, agents };
}

/** While agents come and go in bulk (deploying, stopping), the memo was rewritten at most this often (older histories). */
export const MEMO_BULK_INTERVAL_MS = 5_000;

/**
 * Since the memo-by-changes patch: while agents come and go in bulk, the memo is rewritten after
 * this many agent state changes (a tenth of the job, at least 10). A count of changes is the same
 * on every replay; the workflow clock between two memo writes was not (a job whose workflow
 * task timed out under load failed its replay with a nondeterminism error).
 */
export const memoBulkChanges = (agents: number) => Math.max(10, Math.ceil(agents / 10));

/**
 * Whether the memo should be rewritten: always when the phase or pause changed; on an agent
 * change at once while the job runs or is paused, and only every `bulkEvery` while it deploys or
 * stops (a 1,000-agent deploy would otherwise write a 100 KB memo per activation). `now` and
 * `last.atMs` count in the unit of `bulkEvery`: milliseconds of workflow time in histories
 * recorded before the memo-by-changes patch, agent state changes since (memoBulkChanges).
 */
export function memoDue(
  last: { memo: StatusMemo; atMs: number } | undefined,
  next: StatusMemo,
  now: number,
  bulkEvery = MEMO_BULK_INTERVAL_MS,
): boolean {
  if (!last) return true;
  if (last.memo.phase !== next.phase || last.memo.paused !== next.paused) return true;
  if (JSON.stringify(last.memo.agents) === JSON.stringify(next.agents)) return false;
  return next.phase === 'running' || next.phase === 'degraded' || next.paused || now - last.atMs >= bulkEvery;
}
