// Where the time went, read from the workflow's own history (server timestamps, ms): per agent,
// the steps between "its callees are healthy" and "it is healthy", and the teardown's steps.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { DeployPlan } from '../../src/job/plan';
import { runsOf, type JobHandle } from './a2a';
import { sum, summary, type Summary } from './stats';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
export const EventType = temporal.api.enums.v1.EventType;

/** Milliseconds since the epoch of a protobuf timestamp. */
export const eventMs = (ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number =>
  ts ? Number(ts.seconds ?? 0) * 1000 + (ts.nanos ?? 0) / 1e6 : NaN;
/** An event's type in lower case without the prefix, e.g. activity_task_scheduled. */
export const eventName = (e: HistoryEvent): string =>
  (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace('EVENT_TYPE_', '').toLowerCase();

const payloadBytes = (payloads: Payloads) =>
  sum((payloads?.payloads ?? []).map((p) => (p.data?.length ?? 0) + sum(Object.values(p.metadata ?? {}).map((m) => m.length))));
function decode(payloads: Payloads): unknown {
  try {
    return JSON.parse(Buffer.from(payloads!.payloads![0].data!).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The gap pollHealth (src/activities/health.ts) waited before its attempt number `attempts`. */
function healthGapBefore(attempts: number, intervalMs: number): number {
  let wait = 5;
  let gap = 0;
  let elapsed = 0; // probes themselves take ~1 ms on loopback: left out
  for (let a = 2; a <= attempts; a++) {
    gap = wait;
    elapsed += wait;
    wait = Math.min(intervalMs, Math.max(5, Math.round(elapsed / 10)));
  }
  return gap;
}

interface HealthResult {
  attempts?: number;
  ms?: number;
}
interface Activity {
  name: string;
  scheduled: number;
  started?: number;
  completed?: number;
  attempt?: number;
  agent?: string;
  bytes: number;
  result?: { health?: HealthResult } & HealthResult;
}
interface WorkflowTask {
  scheduled: number;
  started?: number;
  completed?: number;
}
export interface Payload {
  bytes: number;
  what: string;
}

/** One run's history, digested: activities by scheduled event, workflow tasks, landmarks. */
function digest(events: HistoryEvent[]) {
  const acts = new Map<number, Activity>();
  const wfts = new Map<number, WorkflowTask>();
  const d = { acts, wfts, started: NaN, runningAt: NaN, accepted: NaN, ended: NaN, events: events.length };
  let largest: Payload = { bytes: 0, what: '' };
  const countByType: Record<string, number> = {};
  for (const e of events) {
    const id = Number(e.eventId);
    const t = eventMs(e.eventTime);
    const name = EventType[e.eventType ?? 0] ?? String(e.eventType);
    countByType[name] = (countByType[name] ?? 0) + 1;
    const attrs = Object.values(e).find((v) => v && typeof v === 'object' && !('seconds' in v) && ('input' in v || 'result' in v)) as
      { input?: Payloads; result?: Payloads } | undefined;
    const bytes = attrs ? payloadBytes(attrs.input ?? attrs.result) : 0;
    if (bytes > largest.bytes) {
      const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
      largest = { bytes, what: eventName(e) + (e.activityTaskScheduledEventAttributes ? ` (${activity})` : '') };
    }
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        d.started = t;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wfts.set(id, { scheduled: t });
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const w = wfts.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId));
        if (w) w.started = t;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const w = wfts.get(Number(e.workflowTaskCompletedEventAttributes!.scheduledEventId));
        if (w) w.completed = t;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const a = e.activityTaskScheduledEventAttributes!;
        const input = decode(a.input) as { agent?: { id?: string } } | undefined;
        acts.set(id, { name: a.activityType?.name ?? '', scheduled: t, agent: input?.agent?.id, bytes });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = acts.get(Number(e.activityTaskStartedEventAttributes!.scheduledEventId));
        if (a) {
          a.started = t;
          a.attempt = e.activityTaskStartedEventAttributes!.attempt ?? undefined;
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const a = acts.get(Number(e.activityTaskCompletedEventAttributes!.scheduledEventId));
        if (a) {
          a.completed = t;
          a.result = decode(e.activityTaskCompletedEventAttributes!.result) as Activity['result'];
        }
        break;
      }
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const phase = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.A2APhase;
        if (Number.isNaN(d.runningAt) && phase && decode({ payloads: [phase] }) === 'running') d.runningAt = t;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        if (Number.isNaN(d.accepted)) d.accepted = t;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        d.ended = t;
        break;
    }
  }
  return { ...d, largest, countByType };
}

export interface Teardown {
  acceptedToFirstStopMs: number;
  stopActivityMs: Summary;
  lastStopToEndMs: number;
  acceptedToEndMs: number;
}

export interface Analysis {
  runs: number;
  eventsPerRun: number[];
  events: number;
  eventsByType: Record<string, number>;
  largestPayload: Payload;
  submitToFirstStartMs: number;
  startToRunningMs: number;
  workflowTasks: { count: number; queueMs: Summary; runMs: Summary };
  steps: Record<string, Summary>;
  teardown?: Teardown;
}

/**
 * Where the time went, over every run of the job (the deploy is in the first; a big job
 * continues-as-new once running): for every agent, the latency of each step between "its
 * callees are healthy" and "it is healthy", and the teardown's steps.
 */
export async function analyseHistory(client: Client, handle: JobHandle, plan: DeployPlan): Promise<Analysis> {
  const runs: ReturnType<typeof digest>[] = [];
  for (const r of await runsOf(client, handle.workflowId)) runs.push(digest((await r.fetchHistory()).events ?? []));
  const first = runs[0];
  const acts = runs.flatMap((r) => [...r.acts.values()]);
  // An agent's first start and check (a restart would schedule more).
  const byAgent = (name: string) => {
    const m = new Map<string, Activity>();
    for (const a of acts) if (a.name === name && a.agent && !m.has(a.agent)) m.set(a.agent, a);
    return m;
  };
  // Since the workflow's one-activity-per-agent patch, deployAgent starts an agent and waits
  // for its health; its result says how long the health wait took. Older runs: two activities.
  const deploys = byAgent('deployAgent');
  const starts = byAgent('startAgent');
  const checks = byAgent('waitHealthy');
  const healthyAt = (id: string) => (deploys.get(id) ?? checks.get(id))?.completed ?? NaN;
  const steps: Record<string, number[]> = {
    startQueue: [],
    startRun: [],
    betweenActivities: [],
    checkQueue: [],
    checkRun: [],
    healthPollGap: [],
    reaction: [],
  };
  for (const a of Object.values(plan.agents)) {
    const d = deploys.get(a.id);
    const s = d ?? starts.get(a.id);
    const c = checks.get(a.id);
    if (!s || (!d && !c)) continue;
    steps.startQueue.push(s.started! - s.scheduled);
    if (d) {
      const healthMs = d.result?.health?.ms ?? NaN;
      steps.startRun.push(d.completed! - d.started! - healthMs);
      steps.betweenActivities.push(0);
      steps.checkQueue.push(0);
      steps.checkRun.push(healthMs);
    } else {
      steps.startRun.push(s.completed! - s.started!);
      steps.betweenActivities.push(c!.scheduled - s.completed!);
      steps.checkQueue.push(c!.started! - c!.scheduled);
      steps.checkRun.push(c!.completed! - c!.started!);
    }
    const attempts = d ? d.result?.health?.attempts : c!.result?.attempts;
    if (attempts) steps.healthPollGap.push(healthGapBefore(attempts, a.health.intervalMs));
    // From the last callee turning healthy (its check completing) to this agent's start being scheduled.
    const ready = a.dependsOn.length ? Math.max(...a.dependsOn.map(healthyAt)) : first.started;
    steps.reaction.push(s.scheduled - ready);
  }
  // Teardown: the stop update accepted → stopAgent activities (stage by stage) → workflow end.
  const last = runs[runs.length - 1];
  const stops = acts.filter((a) => (a.name === 'stopAgent' || a.name === 'stopAgents') && a.completed);
  const teardown =
    stops.length && !Number.isNaN(last.accepted)
      ? {
          acceptedToFirstStopMs: Math.min(...stops.map((a) => a.scheduled)) - last.accepted,
          stopActivityMs: summary(stops.map((a) => a.completed! - a.scheduled)),
          lastStopToEndMs: last.ended - Math.max(...stops.map((a) => a.completed!)),
          acceptedToEndMs: last.ended - last.accepted,
        }
      : undefined;
  const wftList = runs.flatMap((r) => [...r.wfts.values()]).filter((w) => w.completed);
  const countByType: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.countByType)) countByType[k] = (countByType[k] ?? 0) + v;
  return {
    runs: runs.length,
    eventsPerRun: runs.map((r) => r.events),
    events: sum(runs.map((r) => r.events)),
    eventsByType: countByType,
    largestPayload: runs.map((r) => r.largest).reduce((a, b) => (b.bytes > a.bytes ? b : a)),
    submitToFirstStartMs: Math.min(...[...starts.values()].map((s) => s.scheduled)) - first.started,
    startToRunningMs: first.runningAt - first.started,
    workflowTasks: {
      count: wftList.length,
      queueMs: summary(wftList.map((w) => w.started! - w.scheduled)),
      runMs: summary(wftList.map((w) => w.completed! - w.started!)),
    },
    steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summary(v)])),
    teardown,
  };
}
