// Kills the worker (SIGKILL) in the middle of a 5-agent pipeline's deploy, at a known point:
// KILL_AFTER_MS after the third agent to start (stage 2) appeared (its health check is then
// under way, its start-up taking RESTART_DELAY_MS), restarts it, and measures how long until
// the job makes progress again (the fourth agent's process appears), against the same moment
// in an undisturbed run of the same job.
import { stopUpdate } from '../../src/workflows/api';
import { startJob, waitRunning, type JobHandle } from './a2a';
import { ensureWorker, type BenchStack } from './bench-stack';
import { f0, say } from './format';
import { eventMs, eventName, EventType } from './history';
import { loadPlan } from './plan-file';
import { killMarked, markedProcesses } from './procfs';
import type { RestartRun, StallCause, WorkerRestartResult } from './results';
import { jobFiles, type RunContext } from './scenarios';
import { sleep, stats } from './stats';
import { pipeline } from './topologies';

const RESTART_DELAY_MS = 1000;
const KILL_AFTER_MS = 200;

/** Resolves with the ms from `since` until an agent with this marker runs. */
async function appeared(marker: string, since: number, timeoutMs = 120_000): Promise<number> {
  for (;;) {
    if (markedProcesses(marker).length) return performance.now() - since;
    if (performance.now() - since > timeoutMs) throw new Error(`${marker} never started`);
    await sleep(5);
  }
}

export async function runWorkerRestart(ctx: RunContext, stack: BenchStack): Promise<WorkerRestartResult> {
  const n = ctx.opts.reps ?? (ctx.opts.quick ? 1 : 2);
  say(
    `\n## worker-restart: SIGKILL the worker ${KILL_AFTER_MS} ms after the 3rd agent of a 5-pipeline started (DELAY_MS=${RESTART_DELAY_MS}), restart it, ${n} runs`,
  );
  const sc = { shape: () => pipeline(5) };
  const runs: RestartRun[] = [];
  try {
    for (let rep = 1; rep <= n; rep++) {
      for (const disturbed of [false, true]) {
        const plan = loadPlan(jobFiles(ctx, sc, `rs${disturbed ? 'k' : 'u'}-r${rep}`, { delayMs: RESTART_DELAY_MS })[0]);
        // A pipeline starts from its end: the agent nobody else calls is the last to start.
        const [third, fourth] = [plan.stages[2][0], plan.stages[3][0]];
        const t0 = performance.now();
        const handle = await startJob(stack.client, plan);
        await appeared(`${plan.job}/${third}`, t0);
        await sleep(KILL_AFTER_MS);
        const tKill = performance.now();
        const killedAt = Date.now();
        let restartMs: number | undefined;
        if (disturbed) {
          await stack.killWorker('SIGKILL');
          restartMs = await stack.startWorker();
        }
        const nextMs = await appeared(`${plan.job}/${fourth}`, tKill);
        await waitRunning([handle], 120_000);
        const deployMs = performance.now() - t0;
        await handle.executeUpdate(stopUpdate, { args: [{}] });
        await handle.result();
        const r: RestartRun = { disturbed, deployMs, killToNextAgentMs: nextMs, ...(disturbed ? { workerRestartMs: restartMs } : {}) };
        if (disturbed) r.analysis = await stallCause(handle, killedAt);
        runs.push(r);
        say(
          `  run ${rep} ${disturbed ? 'worker killed' : 'undisturbed '}: next agent started ${f0(nextMs)} ms after the kill point${disturbed ? ` (worker back in ${f0(restartMs)} ms)` : ''}; whole deploy ${f0(deployMs)} ms`,
        );
        await sleep(500);
      }
    }
  } catch (err) {
    const message = (err as Error).message;
    say(`  FAILED: ${message}`);
    killMarked(ctx.prefix);
    await ensureWorker(stack, say);
    return { error: message, runs };
  }
  const k = runs.filter((r) => r.disturbed);
  const u = runs.filter((r) => !r.disturbed);
  return {
    killAfterMs: KILL_AFTER_MS,
    delayMs: RESTART_DELAY_MS,
    workerRestartMs: stats(k.map((r) => r.workerRestartMs!)),
    killToProgressMs: stats(k.map((r) => r.killToNextAgentMs)),
    undisturbedMs: stats(u.map((r) => r.killToNextAgentMs)),
    stallAddedMs: stats(k.map((r, i) => r.killToNextAgentMs - u[i].killToNextAgentMs)),
    deployAddedMs: stats(k.map((r, i) => r.deployMs - u[i].deployMs)),
    runs,
  };
}

/** What the history shows about a stall: timeouts, retries, and the events after the kill. */
async function stallCause(handle: JobHandle, killedAt: number): Promise<StallCause> {
  const events = (await handle.fetchHistory()).events ?? [];
  const t = (e: (typeof events)[number]) => eventMs(e.eventTime);
  const timedOut = events.filter(
    (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT || e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
  );
  const retried = events.filter(
    (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && (e.activityTaskStartedEventAttributes?.attempt ?? 0) > 1,
  );
  const wftGaps: number[] = [];
  const scheduled = new Map<number, number>();
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) scheduled.set(Number(e.eventId), t(e));
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
      wftGaps.push(t(e) - scheduled.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId))!);
  }
  // The first events after the kill, with their time since it: the stall reads off this list.
  const timeline = events
    .filter((e) => t(e) >= killedAt - 50)
    .slice(0, 14)
    .map((e) => {
      const sched = e.activityTaskScheduledEventAttributes;
      const started = e.activityTaskStartedEventAttributes;
      const activityTimeout = e.activityTaskTimedOutEventAttributes;
      const taskTimeout = e.workflowTaskTimedOutEventAttributes;
      return (
        `+${f0(t(e) - killedAt)} ms ${eventName(e)}` +
        (sched ? ` ${sched.activityType?.name}` : '') +
        (started ? ` (attempt ${started.attempt})` : '') +
        (activityTimeout ? ` (${JSON.stringify(activityTimeout.failure?.timeoutFailureInfo?.timeoutType)})` : '') +
        (taskTimeout ? ` (timeout type ${taskTimeout.timeoutType})` : '')
      );
    });
  return {
    timeline,
    timedOut: timedOut.map(eventName),
    retriedActivities: retried.map((e) => `attempt ${e.activityTaskStartedEventAttributes!.attempt}`),
    slowestWorkflowTaskPickupMs: Math.max(...wftGaps),
  };
}
