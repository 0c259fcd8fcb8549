// The health gate shared by every runner: poll the agent's health URL with a fast interval
// that backs off, give up at the agent's health timeout, and fail at once (without retries)
// when the agent's process is gone, quoting its stderr.
import { ApplicationFailure } from '@temporalio/activity';
import type { AgentPlan } from '../job/plan';
import type { AgentEvent, WatchedAgent } from './types';
import { STDERR_LINES, tailLines } from '../common/text-tail';
import { sleep } from '../common/sleep';
import { getText } from '../common/http-get';
import { notReadyMessage, probeReadiness, type ProbeResult, type ReadinessTarget } from './readiness';
import { timedProbe } from '../metrics/instruments';

export interface HealthProbe {
  alive(): boolean | Promise<boolean>;
  describeExit(): string | Promise<string>;
  stderr(): string | Promise<string>;
  signal: AbortSignal;
  heartbeat(details: unknown): void;
}

export async function checkHealthOnce(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await getText(url, timeoutMs, 64 * 1024);
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}

export async function pollHealth(agent: AgentPlan, probe: HealthProbe): Promise<{ attempts: number; ms: number }> {
  const t0 = Date.now();
  const deadline = t0 + agent.health.timeoutMs;
  let wait = 5;
  let attempts = 0;
  const target: ReadinessTarget = { type: agent.health.type, probeUrl: agent.healthUrl, agentUrl: agent.url };
  let last: ProbeResult | undefined;
  for (;;) {
    if (probe.signal.aborted) throw ApplicationFailure.retryable('health check cancelled', 'Cancelled');
    attempts++;
    last = await timedProbe(
      agent.target,
      () => probeReadiness(target, Math.min(2000, agent.health.timeoutMs)),
      (r) => r.ready,
    );
    if (last.ready) return { attempts, ms: Date.now() - t0 };
    if (last.fatal) {
      throw ApplicationFailure.nonRetryable(
        `agent '${agent.id}' is not ready: ${last.saw}. Hint: ${last.hint}`,
        'AgentNotReady',
        await probe.stderr(),
      );
    }
    if (!(await probe.alive())) {
      throw ApplicationFailure.nonRetryable(await probe.describeExit(), 'AgentExited', await probe.stderr());
    }
    if (Date.now() >= deadline) {
      throw ApplicationFailure.nonRetryable(
        notReadyMessage(agent.id, target, agent.health.timeoutMs, last),
        'AgentUnhealthy',
        await probe.stderr(),
      );
    }
    probe.heartbeat({ attempts });
    await sleep(wait);
    // Back off in proportion to the time already waited: the moment an agent turns healthy is
    // noticed within about a tenth of its start-up time (every dependency level of a deploy
    // pays that delay), while a slow agent still costs few probes.
    wait = Math.min(agent.health.intervalMs, Math.max(5, Math.round((Date.now() - t0) / 10)));
  }
}

/** The last lines of a log file, for error messages. */
export const stderrTail = (file: string, lines = STDERR_LINES) => tailLines(file, lines, 8192);

/**
 * One round of a watch's health checks, shared by every runner: probes the agents (64 at a
 * time), counts each agent's failures in a row in `misses`, and returns an 'unhealthy' event
 * for every agent that reached `unhealthyAfter`.
 */
export async function healthRound(
  agents: WatchedAgent[],
  misses: Map<string, number>,
  unhealthyAfter: number,
  stderrOf: (agent: WatchedAgent) => string | Promise<string>,
): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for (let i = 0; i < agents.length; i += 64) {
    const batch = agents.slice(i, i + 64);
    const ok = await Promise.all(
      batch.map((a) =>
        timedProbe(a.target, async () =>
          a.readiness
            ? (await probeReadiness({ type: a.readiness.type, probeUrl: a.healthUrl, agentUrl: a.readiness.agentUrl }, 2000)).ready
            : checkHealthOnce(a.healthUrl, 2000),
        ),
      ),
    );
    for (const [j, a] of batch.entries()) {
      const n = ok[j] ? 0 : (misses.get(a.id) ?? 0) + 1;
      misses.set(a.id, n);
      if (n >= unhealthyAfter) {
        events.push({
          id: a.id,
          kind: 'unhealthy',
          detail: `agent '${a.id}' failed ${n} health checks in a row at ${a.healthUrl}`,
          stderr: await stderrOf(a),
        });
      }
    }
  }
  return events;
}
