// An agent can stay 'starting' for minutes with nothing wrong but a full worker: its start is a
// Temporal activity task waiting in the queue until one of the worker's activity slots frees
// (A2A_DEPLOY_MAX_ACTIVITIES; each running job's watch holds one per machine and target). The
// workflow cannot see that (to it the activity is simply not done yet), so `status` and `start`
// ask the server which of the job's start activities are scheduled and still not picked up, and
// say so instead of leaving the user to guess (issue 23: three jobs on one slot, the third
// "starting" for over 60 s with no hint).
import type { WorkflowHandle } from '@temporalio/client';
import type { JobStatus } from '../workflows/api';

/** A start queued for less than this is just being picked up: no hint. */
export const QUEUED_HINT_MS = 5_000;
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED */
const SCHEDULED = 1;
/** The activities an agent in 'starting' (or, in older histories, 'checking') waits on. */
const START_ACTIVITIES = new Set(['deployAgent', 'startAgent', 'waitHealthy']);
const WAITING_STATES = new Set(['starting', 'checking']);

/** What DescribeWorkflowExecution says of a pending activity (the fields used here). */
export interface PendingActivity {
  activityType?: { name?: string | null } | null;
  state?: number | null;
  scheduledTime?: { seconds?: number | string | { toNumber(): number } | null; nanos?: number | null } | null;
  lastStartedTime?: unknown;
  /** a retry's next attempt: in its backoff until then, not waiting for a slot */
  nextAttemptScheduleTime?: PendingActivity['scheduledTime'];
  activityOptions?: { taskQueue?: { name?: string | null } | null } | null;
}

const millis = (t: PendingActivity['scheduledTime']): number | undefined => {
  if (!t || t.seconds === undefined || t.seconds === null) return undefined;
  const s = typeof t.seconds === 'object' ? t.seconds.toNumber() : Number(t.seconds);
  return s * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
};

/**
 * Per agent waiting for a slot, what to tell the user. `queueOf` gives an agent's task queue (from
 * its plan); a pending activity whose queue the server does not report counts for every queue.
 */
export function slotWaitNotes(
  status: JobStatus,
  pending: readonly PendingActivity[],
  queueOf: (agentId: string) => string | undefined,
  nowMs: number,
): Map<string, string> {
  const queued = pending
    .filter((p) => p.state === SCHEDULED && !p.lastStartedTime && START_ACTIVITIES.has(p.activityType?.name ?? ''))
    .map((p) => {
      // A retried start waits from its next attempt's time (before that it is in its backoff).
      const times = [millis(p.scheduledTime), millis(p.nextAttemptScheduleTime)].filter((t): t is number => t !== undefined);
      return { queue: p.activityOptions?.taskQueue?.name || undefined, sinceMs: times.length ? Math.max(...times) : undefined };
    })
    .filter((q): q is { queue: string | undefined; sinceMs: number } => q.sinceMs !== undefined && nowMs - q.sinceMs >= QUEUED_HINT_MS);
  const notes = new Map<string, string>();
  if (queued.length === 0) return notes;
  const waiting = new Map<string, string[]>();
  for (const a of Object.values(status.agents)) {
    if (!WAITING_STATES.has(a.state) || a.waitingFor) continue;
    const q = queueOf(a.id);
    if (q) waiting.set(q, [...(waiting.get(q) ?? []), a.id]);
  }
  for (const [queue, ids] of waiting) {
    const here = queued.filter((q) => q.queue === undefined || q.queue === queue);
    if (here.length === 0) continue;
    const secs = Math.round((nowMs - Math.min(...here.map((q) => q.sinceMs))) / 1000);
    // Which of the starting agents are the queued ones the server does not say: with fewer
    // queued than starting, the note says how many.
    const who = here.length >= ids.length ? '' : `${here.length} of these ${ids.length} starting agents `;
    const note =
      `${who}queued ${secs} s for a free activity slot: the workers of task queue ${queue} run as many activities as they may ` +
      `(A2A_DEPLOY_MAX_ACTIVITIES; each running job's watch holds one); it starts when one frees`;
    for (const id of ids) notes.set(id, note);
  }
  return notes;
}

/**
 * Marks the agents of `status` whose start waits for a worker's free slot (waitingFor). One
 * describe of the workflow, only when some agent is starting; the plan is asked only when a start
 * is queued.
 */
export async function noteSlotWaits(
  handle: Pick<WorkflowHandle, 'describe'>,
  status: JobStatus,
  queueOf: () => Promise<(agentId: string) => string | undefined>,
  nowMs = Date.now(),
): Promise<void> {
  if (!Object.values(status.agents).some((a) => WAITING_STATES.has(a.state) && !a.waitingFor)) return;
  const pending = ((await handle.describe()).raw.pendingActivities ?? []) as PendingActivity[];
  if (!pending.some((p) => p.state === SCHEDULED)) return;
  const notes = slotWaitNotes(status, pending, await queueOf(), nowMs);
  for (const [id, note] of notes) status.agents[id].waitingFor = note;
}
