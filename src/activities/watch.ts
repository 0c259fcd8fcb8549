// The watch loop every runner shares: liveness often, health less often, and a return only
// when some agent exited or failed its health checks `unhealthyAfter` times in a row. What
// "alive" means, and where stderr comes from, is the target's part.
import { sleep } from '../common/sleep';
import { activityContext } from './context';
import { healthRound } from './health';
import type { AgentEvent, WatchedAgent, WatchOptions } from './types';

export interface WatchProbe {
  /** time between liveness rounds */
  intervalMs: number;
  /** health checks (HTTP from the worker) every this many rounds */
  healthEvery: number;
  /** the watched agents still alive, and an 'exited' event for each of the others */
  liveness(agents: WatchedAgent[]): Promise<{ alive: WatchedAgent[]; events: AgentEvent[] }>;
  /** the last lines of an agent's stderr, for an 'unhealthy' event */
  stderrOf(agent: WatchedAgent): string | Promise<string>;
}

export async function watchLoop({ agents, unhealthyAfter = 3 }: WatchOptions, probe: WatchProbe): Promise<AgentEvent[]> {
  const ctx = activityContext();
  const misses = new Map<string, number>();
  for (let round = 0; ; round++) {
    const { alive, events } = await probe.liveness(agents);
    if (round % probe.healthEvery === 0) events.push(...(await healthRound(alive, misses, unhealthyAfter, probe.stderrOf)));
    if (events.length > 0) return events;
    ctx?.heartbeat({ round });
    await sleep(probe.intervalMs, ctx?.cancelled);
  }
}
