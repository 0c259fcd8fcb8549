// The watch loop every runner shares: liveness often, health less often, and a return only
// when some agent exited or failed its health checks `unhealthyAfter` times in a row. What
// "alive" means, and where stderr comes from, is the target's part.
//
// What it costs is the cost of watching idle agents, paid for as long as a job runs, so it is
// kept to what can be afforded for thousands of agents on a small machine (at most about 5% of a
// core per 1,000 agents): a liveness check is one small read per agent (a /proc file, a
// container inspect, one command per SSH host), once a second; a health check is an HTTP
// request (about 0.2-0.4 ms of CPU here, more than ten liveness checks), so each agent gets one
// every HEALTH_EVERY_MS, as Kubernetes probes by default, and the agents' checks are spread over
// the rounds in between instead of falling in one burst.
import { sleep } from '../common/sleep';
import { activityContext } from './context';
import { healthRound } from './health';
import type { AgentEvent, WatchedAgent, WatchOptions } from './types';

/** How often each watched agent's health is checked (unhealthy after `unhealthyAfter` misses: 30 s by default). */
export const HEALTH_EVERY_MS = 10_000;

export interface WatchProbe {
  /** time between liveness rounds */
  intervalMs: number;
  /** how often each agent's health is checked (HTTP from the worker); HEALTH_EVERY_MS unless set */
  healthEveryMs?: number;
  /** the watched agents still alive, and an 'exited' event for each of the others */
  liveness(agents: WatchedAgent[]): Promise<{ alive: WatchedAgent[]; events: AgentEvent[] }>;
  /** the last lines of an agent's stderr, for an 'unhealthy' event */
  stderrOf(agent: WatchedAgent): string | Promise<string>;
  /**
   * slow upkeep (log rotation, the one usage read of an agent with limits), run for each live
   * agent as often as its health check; it must not throw
   */
  upkeep?(agent: WatchedAgent): void | Promise<void>;
}

export async function watchLoop({ agents, unhealthyAfter = 3 }: WatchOptions, probe: WatchProbe): Promise<AgentEvent[]> {
  const ctx = activityContext();
  const misses = new Map<string, number>();
  // Agent i is checked in the rounds r with r ≡ i (mod slots): each agent every `slots` rounds.
  const slots = Math.max(1, Math.round((probe.healthEveryMs ?? HEALTH_EVERY_MS) / probe.intervalMs));
  const slotOf = new Map(agents.map((a, i) => [a.id, i % slots]));
  for (let round = 0; ; round++) {
    const { alive, events } = await probe.liveness(agents);
    const due = alive.filter((a) => slotOf.get(a.id) === round % slots);
    if (due.length) {
      events.push(...(await healthRound(due, misses, unhealthyAfter, probe.stderrOf)));
      if (probe.upkeep) await Promise.all(due.map(async (a) => probe.upkeep!(a)));
    }
    // Stamped when found: see AgentEvent.at.
    if (events.length > 0) return events.map((e) => ({ ...e, at: e.at ?? new Date().toISOString() }));
    ctx?.heartbeat({ round });
    await sleep(probe.intervalMs, ctx?.cancelled);
  }
}
