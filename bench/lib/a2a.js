// Drives a2a-deploy for real through its compiled client-side code: starts deploy workflows the
// way `a2a-deploy start` does, waits until each job says it is running, stops it with the stop
// update, and reads the workflow's history to see where the time went.
'use strict';
const { temporal } = require('@temporalio/proto');
const { dist, sleep, cpuSeconds, memory, markedProcesses, killMarked } = require('./common');

const api = () => dist('workflows/api');
const EventType = temporal.api.enums.v1.EventType;
// How often the harness asks whether a job is running. describe() is answered by the server
// alone (the phase is a search attribute), so polling does not load the worker under test.
const POLL_MS = 10;

/** Starts a job exactly as `a2a-deploy start --detach` does (the same start options). */
async function startJob(client, plan) {
  const { deployJobStart } = dist('cli/commands/start');
  return client.workflow.start('deployJob', deployJobStart(plan));
}

/** Resolves with the time (performance.now()) each job was first seen running. */
async function waitRunning(handles, timeoutMs, check = () => {}) {
  const { SA_PHASE, statusQuery } = api();
  const seen = new Map();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < handles.length) {
    check(); // e.g. the worker died: no point waiting
    const pending = handles.filter((h) => !seen.has(h.workflowId));
    const descs = await Promise.all(pending.map((h) => h.describe()));
    const now = performance.now();
    for (const [i, d] of descs.entries()) {
      const phase = d.typedSearchAttributes.get(SA_PHASE);
      if (phase === 'running') seen.set(pending[i].workflowId, { at: now, desc: d });
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
async function runsOf(client, workflowId) {
  const ids = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    ids.push({ runId: w.runId, start: w.startTime.getTime() });
  ids.sort((a, b) => a.start - b.start);
  return ids.map(({ runId }) => client.workflow.getHandle(workflowId, runId));
}

/** History size of these jobs: summed over every run of every job, and the largest single run. */
async function historyOf(client, handles) {
  const runs = [];
  for (const h of handles) for (const r of await runsOf(client, h.workflowId)) runs.push(await r.describe());
  return {
    historyLength: sum(runs.map((d) => d.historyLength)),
    historyBytes: sum(runs.map((d) => d.historySize ?? NaN)),
    runs: runs.length,
    maxRunLength: Math.max(...runs.map((d) => d.historyLength)),
    maxRunBytes: Math.max(...runs.map((d) => d.historySize ?? NaN)),
  };
}

/**
 * One measured run: submit every plan at once, wait until all run, optionally do something
 * while they run (`whileRunning`), then stop them all and wait for the workflows to end.
 */
async function deployAndTeardown(stack, plans, { whileRunning, timeoutMs = 600_000 } = {}) {
  const { stopUpdate } = api();
  const workerPid = stack.worker.pid;
  const serverPid = stack.server.pid;
  const cpu0 = { worker: cpuSeconds(workerPid), server: cpuSeconds(serverPid) };
  const t0 = performance.now();
  const handles = await Promise.all(plans.map((p) => startJob(stack.client, p)));
  let running;
  try {
    running = await waitRunning(handles, timeoutMs, () => stack.checkWorker());
  } catch (err) {
    // Keep what a failed deploy still tells (how far it got, how big its history was), then
    // end the workflows; the caller kills the agents they left.
    const descs = await Promise.all(handles.map((h) => h.describe().catch(() => undefined)));
    err.partial = {
      afterMs: performance.now() - t0,
      historyLength: sum(descs.map((d) => d?.historyLength ?? 0)),
      historyBytes: sum(descs.map((d) => d?.historySize ?? 0)),
      worker: memory(workerPid),
      cpu: { worker: cpuSeconds(workerPid) - cpu0.worker, server: cpuSeconds(serverPid) - cpu0.server },
    };
    await Promise.all(handles.map((h) => h.terminate('bench: the deploy failed').catch(() => {})));
    throw err;
  }
  const deployMs = Math.max(...[...running.values()].map((r) => r.at)) - t0;
  const cpu1 = { worker: cpuSeconds(workerPid), server: cpuSeconds(serverPid) };
  const atRunning = { ...(await historyOf(stack.client, handles)), worker: memory(workerPid) };
  const during = whileRunning ? await whileRunning(handles) : undefined;

  const cpu2 = { worker: cpuSeconds(workerPid), server: cpuSeconds(serverPid) };
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
  const cpu3 = { worker: cpuSeconds(workerPid), server: cpuSeconds(serverPid) };
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
    cpu: {
      deploy: { worker: cpu1.worker - cpu0.worker, server: cpu1.server - cpu0.server },
      teardown: { worker: cpu3.worker - cpu2.worker, server: cpu3.server - cpu2.server },
    },
    during,
  };
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const ms = (ts) => (ts ? Number(ts.seconds ?? 0) * 1000 + (ts.nanos ?? 0) / 1e6 : NaN);
const payloadBytes = (payloads) =>
  sum((payloads?.payloads ?? []).map((p) => (p.data?.length ?? 0) + sum(Object.values(p.metadata ?? {}).map((m) => m.length))));
const decode = (payloads) => {
  try {
    return JSON.parse(Buffer.from(payloads.payloads[0].data).toString('utf8'));
  } catch {
    return undefined;
  }
};
const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (xs) => ({ median: median(xs), max: xs.length ? Math.max(...xs) : NaN, n: xs.length });

/** The gap pollHealth (src/activities/health.ts) waited before its attempt number `attempts`. */
function healthGapBefore(attempts, intervalMs) {
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

/** One run's history, digested: activities by scheduled event, workflow tasks, landmarks. */
function digest(events) {
  const acts = new Map(); // scheduledEventId -> activity
  const wfts = new Map(); // scheduledEventId -> workflow task
  const d = {
    acts,
    wfts,
    started: NaN,
    runningAt: NaN,
    accepted: NaN,
    ended: NaN,
    largest: { bytes: 0, what: '' },
    countByType: {},
    events: events.length,
  };
  for (const e of events) {
    const id = Number(e.eventId);
    const t = ms(e.eventTime);
    const name = EventType[e.eventType] ?? String(e.eventType);
    d.countByType[name] = (d.countByType[name] ?? 0) + 1;
    const attrs = Object.values(e).find((v) => v && typeof v === 'object' && !('seconds' in v) && ('input' in v || 'result' in v));
    const bytes = attrs ? payloadBytes(attrs.input ?? attrs.result) : 0;
    if (bytes > d.largest.bytes)
      d.largest = {
        bytes,
        what:
          name.replace('EVENT_TYPE_', '').toLowerCase() +
          (e.activityTaskScheduledEventAttributes ? ` (${e.activityTaskScheduledEventAttributes.activityType?.name})` : ''),
      };
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        d.started = t;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wfts.set(id, { scheduled: t });
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const w = wfts.get(Number(e.workflowTaskStartedEventAttributes.scheduledEventId));
        if (w) w.started = t;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const w = wfts.get(Number(e.workflowTaskCompletedEventAttributes.scheduledEventId));
        if (w) w.completed = t;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const a = e.activityTaskScheduledEventAttributes;
        const input = decode(a.input);
        acts.set(id, { name: a.activityType.name, scheduled: t, agent: input?.agent?.id, bytes });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = acts.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId));
        if (a) {
          a.started = t;
          a.attempt = e.activityTaskStartedEventAttributes.attempt;
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const a = acts.get(Number(e.activityTaskCompletedEventAttributes.scheduledEventId));
        if (a) {
          a.completed = t;
          a.result = decode(e.activityTaskCompletedEventAttributes.result);
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
  return d;
}

/**
 * Where the time went, from the workflow's own history (server timestamps, ms), over every run
 * of the job (the deploy is in the first; a big job continues-as-new once running): for every
 * agent, the latency of each step between "its callees are healthy" and "it is healthy", and
 * the teardown's steps.
 */
async function analyseHistory(client, handle, plan) {
  const runs = [];
  for (const r of await runsOf(client, handle.workflowId)) runs.push(digest((await r.fetchHistory()).events));
  const first = runs[0];
  const all = (f) => runs.flatMap((r) => [...r[f].values()]);
  const acts = all('acts');
  // An agent's first start and check (a restart would schedule more).
  const byAgent = (name) => {
    const m = new Map();
    for (const a of acts) if (a.name === name && a.agent && !m.has(a.agent)) m.set(a.agent, a);
    return m;
  };
  // Since the workflow's one-activity-per-agent patch, deployAgent starts an agent and waits
  // for its health; its result says how long the health wait took. Older runs: two activities.
  const deploys = byAgent('deployAgent');
  const starts = byAgent('startAgent');
  const checks = byAgent('waitHealthy');
  const healthyAt = (id) => (deploys.get(id) ?? checks.get(id))?.completed ?? NaN;
  const steps = { startQueue: [], startRun: [], betweenActivities: [], checkQueue: [], checkRun: [], healthPollGap: [], reaction: [] };
  for (const a of Object.values(plan.agents)) {
    const d = deploys.get(a.id);
    const s = d ?? starts.get(a.id);
    const c = checks.get(a.id);
    if (!s || (!d && !c)) continue;
    steps.startQueue.push(s.started - s.scheduled);
    if (d) {
      const healthMs = d.result?.health?.ms ?? NaN;
      steps.startRun.push(d.completed - d.started - healthMs);
      steps.betweenActivities.push(0);
      steps.checkQueue.push(0);
      steps.checkRun.push(healthMs);
    } else {
      steps.startRun.push(s.completed - s.started);
      steps.betweenActivities.push(c.scheduled - s.completed);
      steps.checkQueue.push(c.started - c.scheduled);
      steps.checkRun.push(c.completed - c.started);
    }
    const attempts = d ? d.result?.health?.attempts : c.result?.attempts;
    if (attempts) steps.healthPollGap.push(healthGapBefore(attempts, a.health.intervalMs));
    // From the last callee turning healthy (its check completing) to this agent's start being scheduled.
    const ready = a.dependsOn.length ? Math.max(...a.dependsOn.map(healthyAt)) : first.started;
    steps.reaction.push(s.scheduled - ready);
  }
  // Teardown: the stop update accepted → stopAgent activities (stage by stage) → workflow end.
  const last = runs[runs.length - 1];
  const stops = acts.filter((a) => a.name === 'stopAgent' && a.completed);
  const teardown =
    stops.length && !Number.isNaN(last.accepted)
      ? {
          acceptedToFirstStopMs: Math.min(...stops.map((a) => a.scheduled)) - last.accepted,
          stopActivityMs: summary(stops.map((a) => a.completed - a.scheduled)),
          lastStopToEndMs: last.ended - Math.max(...stops.map((a) => a.completed)),
          acceptedToEndMs: last.ended - last.accepted,
        }
      : undefined;
  const wftList = all('wfts').filter((w) => w.completed);
  const countByType = {};
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
      queueMs: summary(wftList.map((w) => w.started - w.scheduled)),
      runMs: summary(wftList.map((w) => w.completed - w.started)),
    },
    steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summary(v)])),
    teardown,
  };
}

module.exports = { startJob, waitRunning, deployAndTeardown, analyseHistory, historyOf };
