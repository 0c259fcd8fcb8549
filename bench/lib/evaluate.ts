// Derived figures (overhead per level and per extra agent) and the targets, met or missed.
import { f0, f1 } from './format';
import { completed, type Results, type Target } from './results';
import { LIMITS, TARGETS } from './scenarios';

const miss = (ok: boolean, by: string) => (ok ? 'met' : `MISSED by ${by}`);

/** Adds `overhead` to every completed scenario, and `perLevelMs` and `targetsEvaluated` to the results. */
export function evaluate(results: Results): void {
  const done = completed(results);
  const pipe = done.find((s) => s.name === 'pipeline-5');
  // Per level: the pipeline has one agent per level, so its whole overhead is per level.
  const perLevel = pipe ? (pipe.a2a.deploy.median - pipe.floor.deploy.median) / pipe.levels : undefined;
  for (const s of done) {
    const overhead = s.a2a.deploy.median - s.floor.deploy.median;
    const levelsOnPath = s.levels; // jobs in parallel share their levels
    s.overhead = {
      deployMs: overhead,
      teardownMs: s.a2a.teardown.median - s.floor.teardown.median,
      perLevelMs: overhead / levelsOnPath,
      // What the extra (non-critical-path) agents cost beyond the per-level overhead.
      perExtraAgentMs: s.agents > levelsOnPath ? (overhead - levelsOnPath * (perLevel ?? 0)) / (s.agents - levelsOnPath) : undefined,
    };
  }
  const targets: Target[] = [];
  if (pipe && perLevel !== undefined) {
    targets.push({
      target: `orchestration overhead ≤ ${TARGETS.perLevelMs} ms per dependency level (pipeline-5)`,
      value: `${f0(perLevel)} ms/level`,
      status: miss(perLevel <= TARGETS.perLevelMs, `${f0(perLevel - TARGETS.perLevelMs)} ms/level (${f1(perLevel / TARGETS.perLevelMs)}×)`),
    });
  }
  for (const s of done) {
    const v = s.overhead.perExtraAgentMs;
    if (v === undefined) continue;
    targets.push({
      target: `≤ ${TARGETS.perAgentMs} ms per extra agent above the floor (${s.name})`,
      value: `${f1(v)} ms/agent${pipe ? '' : ' (no pipeline-5 in this run: whole overhead charged to agents)'}`,
      status: miss(v <= TARGETS.perAgentMs, `${f1(v - TARGETS.perAgentMs)} ms/agent (${f1(v / TARGETS.perAgentMs)}×)`),
    });
  }
  for (const s of done) {
    const ratio = s.a2a.teardown.median / Math.max(1, s.floor.teardown.median);
    targets.push({
      target: `teardown ≤ ${TARGETS.teardownVsFloor}× the floor's (${s.name})`,
      value: `${f0(s.a2a.teardown.median)} vs ${f0(s.floor.teardown.median)} ms (${f1(ratio)}×)`,
      status: miss(ratio <= TARGETS.teardownVsFloor, `${f1(ratio / TARGETS.teardownVsFloor)}×`),
    });
  }
  const composeTarget = `≥ ${TARGETS.composeSpeedup}× faster than docker-compose on the same containers`;
  for (const c of results.containers?.scenarios ?? []) {
    if (!c.a2a || !c.compose) {
      targets.push({ target: `${composeTarget} (${c.name})`, value: '-', status: `FAILED: ${c.error ?? 'no figures'}` });
      continue;
    }
    const speedup = c.compose.deploy.median / Math.max(1, c.a2a.deploy.median);
    targets.push({
      target: `${composeTarget} (${c.name})`,
      value: `${f0(c.a2a.deploy.median)} vs ${f0(c.compose.deploy.median)} ms (${f1(speedup)}× faster)`,
      status: miss(speedup >= TARGETS.composeSpeedup, `${f1(TARGETS.composeSpeedup / speedup)}×`),
    });
  }
  // A scenario that did not run is no pass: it is listed as failed (and the run exits non-zero).
  if (results.containers?.skipped)
    targets.push({ target: composeTarget, value: '-', status: `FAILED: not measured (${results.containers.skipped})` });
  for (const s of results.scenarios.filter((s) => !done.includes(s as never)))
    targets.push({
      target: `${s.name} deploys and tears down`,
      value: '-',
      status: `FAILED: ${(s.error ?? 'no run completed').split('\n')[0]}`,
    });
  if (results.workerRestart?.error)
    targets.push({ target: 'worker-restart', value: '-', status: `FAILED: ${results.workerRestart.error.split('\n')[0]}` });
  for (const name of ['job-1000', 'job-5000']) targets.push(...bigJobTarget(results, name));
  for (const s of done) {
    const idle = s.idle;
    if (!idle) continue;
    targets.push({
      target: `watching costs no history events while nothing changes (${s.name}, ${s.agents} agents)`,
      value: `${idle.eventsAdded} events in ${idle.seconds} s idle (worker ${f1(idle.workerCpuPct)}% CPU, server ${f1(idle.serverCpuPct)}%)`,
      status: miss(idle.eventsAdded === 0, `${idle.eventsAdded} events`),
    });
    // Per 1,000 agents, judged where there are that many: a small job's fixed cost (the watch's
    // own timers, heartbeats) says nothing of the cost per agent.
    if (s.agents < 1000) continue;
    const perThousand = idle.workerCpuPct / (s.agents / 1000);
    targets.push({
      target: `idle watching ≤ ${TARGETS.idleCpuPctPer1000}% of a core per 1,000 agents (${s.name})`,
      value: `${f1(perThousand)}% per 1,000 (worker ${f1(idle.workerCpuPct)}% for ${s.agents})`,
      status: miss(perThousand <= TARGETS.idleCpuPctPer1000, `${f1(perThousand / TARGETS.idleCpuPctPer1000)}×`),
    });
  }
  results.perLevelMs = perLevel;
  results.targetsEvaluated = targets;
}

/** Whether any target failed outright (a scenario that failed or could not run): the run then exits 1. */
export const anyFailed = (results: Results) => (results.targetsEvaluated ?? []).some((t) => t.status.startsWith('FAILED'));

/** A big job (1,000 or 5,000 agents) against Temporal's history limits: met, missed, or failed. */
function bigJobTarget(results: Results, name: string): Target[] {
  const count = Number(name.replace(/^job-/, '')).toLocaleString('en-US');
  const big = completed(results).find((s) => s.name === name);
  if (big) {
    const h = big.history;
    const payload = h.largestPayload?.bytes ?? 0;
    const worst = Math.max(h.maxRunEvents / LIMITS.events, h.maxRunBytes / LIMITS.bytes, payload / LIMITS.blob);
    return [
      {
        target: `${count} agents in one job: deploy, watch, stop far from Temporal's history limits (each run ≤ 50% of 50K events / 50 MB; every payload ≤ 50% of the 2 MB blob limit)`,
        value: `largest run ${f0(h.maxRunEvents)} events (${f0((100 * h.maxRunEvents) / LIMITS.events)}%), ${f1(h.maxRunBytes / 2 ** 20)} MiB (${f0((100 * h.maxRunBytes) / LIMITS.bytes)}%); ${f1(h.runsPerJob)} runs (continue-as-new), ${f0(h.eventsAtEnd)} events in all; largest payload ${f0(payload / 1024)} KiB (${f0((100 * payload) / LIMITS.blob)}% of 2 MB: ${h.largestPayload?.what})`,
        status: miss(worst <= 0.5, `${f0(100 * worst)}% of a limit`),
      },
    ];
  }
  const failed = results.scenarios.find((s) => s.name === name);
  if (!failed) return [];
  const p = failed.partial;
  const planBytes = failed.planBytes ?? NaN;
  return [
    {
      target: `${count} agents in one job: deploy, watch, stop far from Temporal's history limits`,
      value: p
        ? `history when it failed (after ${f0(p.afterMs / 1000)} s): ${p.historyLength} events (${f0((100 * p.historyLength) / LIMITS.events)}% of 50K), ${f1(p.historyBytes / 2 ** 20)} MiB (${f0((100 * p.historyBytes) / LIMITS.bytes)}% of 50 MB); workflow input ${f0(planBytes / 1024)} KiB (${f0((100 * planBytes) / LIMITS.blob)}% of the 2 MB blob limit)`
        : '-',
      status: `MISSED: the job did not deploy (${String(failed.error).split('\n')[0]})`,
    },
  ];
}
