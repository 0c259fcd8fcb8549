// Leaves a deployed job alone for IDLE_S: does watching it add history, and what does it cost?
import { statusQuery } from '../../src/workflows/api';
import { historyOf, type JobHandle } from './a2a';
import type { BenchStack } from './bench-stack';
import { say } from './format';
import { eventName } from './history';
import { cpuSeconds, memory } from './procfs';
import { IDLE_S } from './scenarios';
import { sleep } from './stats';

export interface IdleResult {
  addedByType: Record<string, number>;
  failures: Record<string, number>;
  agentRestarts: number;
  seconds: number;
  eventsBefore: number;
  eventsAfter: number;
  eventsAdded: number;
  workerCpuPct: number;
  serverCpuPct: number;
  workerRssMiB: number;
}

export async function idleCheck(stack: BenchStack, handles: JobHandle[]): Promise<IdleResult> {
  say(`  idle check: leaving ${handles.length > 1 ? `${handles.length} jobs` : 'the job'} alone for ${IDLE_S} s …`);
  const length = async () => (await historyOf(stack.client, handles)).historyLength;
  // Start from a settled job: right after "running" the workflow may still be starting its
  // watch, or continuing-as-new; those events are the deploy's, not the idle watch's.
  let before = await length();
  for (let same = 0, i = 0; same < 3 && i < 30; i++) {
    await sleep(1000);
    const now = await length();
    same = now === before ? same + 1 : 0;
    before = now;
  }
  const workerPid = stack.workerPid();
  const cpu0 = { worker: cpuSeconds(workerPid), server: cpuSeconds(stack.serverPid) };
  await sleep(IDLE_S * 1000);
  const after = await length();
  const cpu1 = { worker: cpuSeconds(workerPid), server: cpuSeconds(stack.serverPid) };
  // What the added events are, and why: failed or timed-out activities say so in their failure.
  const added: Record<string, number> = {};
  const reasons = new Map<string, number>();
  let restarts = 0;
  for (const h of handles) {
    const events = (await h.fetchHistory()).events ?? []; // the latest run: where an idle watch would add events
    const start = events.length - (after - before) / handles.length; // same count per job when they idle alike
    for (const e of events.slice(Math.max(0, Math.floor(start)))) {
      const name = eventName(e);
      added[name] = (added[name] ?? 0) + 1;
      const failure = (e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes)?.failure;
      if (failure) {
        const why = `${name}: ${(failure.cause?.message ?? failure.message ?? '').split('\n')[0].slice(0, 160)}`;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
      const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (e.activityTaskScheduledEventAttributes) added[`scheduled ${scheduled}`] = (added[`scheduled ${scheduled}`] ?? 0) + 1;
    }
    try {
      const st = await h.query(statusQuery);
      restarts += Object.values(st.agents).reduce((a, x) => a + x.restarts, 0);
    } catch {
      /* no answer: leave it out */
    }
  }
  return {
    addedByType: added,
    failures: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 6)),
    agentRestarts: restarts,
    seconds: IDLE_S,
    eventsBefore: before,
    eventsAfter: after,
    eventsAdded: after - before,
    workerCpuPct: (100 * (cpu1.worker - cpu0.worker)) / IDLE_S,
    serverCpuPct: (100 * (cpu1.server - cpu0.server)) / IDLE_S,
    workerRssMiB: memory(stack.workerPid()).rssMiB,
  };
}
