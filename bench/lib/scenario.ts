// One scenario: several runs of the floor and of a2a-deploy on the same shape, alternating
// which goes first, and the figures summarised over the runs where both succeeded.
import { loadavg } from 'node:os';
import { portOpen } from '../../test/integration/support/stack';
import { analyseHistory } from './history';
import { deployAndTeardown, DeployFailed } from './a2a';
import { ensureWorker, type BenchStack } from './bench-stack';
import { runFloor } from './floor-runner';
import { f0, f1, firstLines, say } from './format';
import { idleCheck } from './idle';
import { loadPlan } from './plan-file';
import { killMarked } from './procfs';
import type { CompletedScenario, Run, ScenarioResult } from './results';
import { jobFiles, type RunContext, type Scenario } from './scenarios';
import { sleep, stats } from './stats';
import { FIRST_PORT } from './topologies';

/** Ports (of `ports`) that something already listens on. */
async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (let i = 0; i < ports.length; i += 100) {
    const batch = ports.slice(i, i + 100);
    const open = await Promise.all(batch.map((p) => portOpen(p)));
    batch.forEach((p, j) => open[j] && busy.push(p));
  }
  return busy;
}

export async function runScenario(
  ctx: RunContext,
  stack: BenchStack,
  sc: Scenario,
  { idle = false, reps }: { idle?: boolean; reps?: number } = {},
): Promise<ScenarioResult> {
  const shape = sc.shape();
  const jobs = sc.jobs ?? 1;
  const agents = shape.ids.length * jobs;
  const n = reps ?? ctx.opts.reps ?? sc.reps[ctx.opts.quick ? 0 : 1];
  // The machine is shared: the load when a scenario starts says how much to trust it.
  const out: ScenarioResult = {
    name: sc.name,
    agents,
    jobs,
    levels: shape.levels,
    reps: n,
    loadavg: loadavg(),
    floor: {},
    a2a: {},
    runs: [],
  };
  say(
    `\n## ${sc.name}: ${agents} agents${jobs > 1 ? ` in ${jobs} jobs` : ''}, ${shape.levels} levels, ${n} runs (load ${out.loadavg.map(f1).join(' ')})`,
  );
  const busy = await busyPorts(Array.from({ length: agents }, (_, i) => (sc.firstPort ?? FIRST_PORT) + i));
  if (busy.length) {
    out.error = `ports in use: ${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', …' : ''}`;
    say(`  skipped: ${out.error}`);
    return out;
  }
  const key = sc.name.replace(/[^a-z0-9]+/g, '').slice(0, 10);
  for (let rep = 1; rep <= n; rep++) {
    const floorFiles = jobFiles(ctx, sc, `f${key}-r${rep}`);
    const plans = jobFiles(ctx, sc, `${key}-r${rep}`).map(loadPlan);
    const last = rep === n;
    const run: Run = {};
    const doFloor = async () => {
      // Tried twice: on a shared machine something else may kill an agent (another a2a-deploy's gc).
      for (let attempt = 1; attempt <= 2 && !run.floor; attempt++) {
        try {
          const f = await runFloor(floorFiles, stack.env);
          run.floor = { deployMs: f.deployMs, teardownMs: f.teardownMs };
        } catch (err) {
          run.floorError = firstLines(err, 10);
          killMarked(ctx.prefix);
          if (attempt === 1) say(`  (the floor failed, trying once more: ${run.floorError.split('\n')[0]})`);
        }
      }
      await sleep(500);
    };
    const doA2a = async () => {
      try {
        const ours = await deployAndTeardown(stack, plans, {
          whileRunning: last && idle ? (handles) => idleCheck(stack, handles) : undefined,
        });
        run.a2a = { deployMs: ours.deployMs, teardownMs: ours.teardownMs };
        run.history = { atRunning: ours.atRunning, atEnd: ours.atEnd };
        run.cpuS = ours.cpu;
        if (last) {
          run.analysis = await analyseHistory(stack.client, ours.handles[0], plans[0]);
          if (ours.during) out.idle = ours.during;
        }
      } catch (err) {
        run.error = firstLines(err, 20);
        if (err instanceof DeployFailed) run.partial = err.partial;
        const k = killMarked(ctx.prefix);
        if (k) say(`  (killed ${k} leftover agent processes)`);
        await ensureWorker(stack, say);
      }
      await sleep(500);
    };
    // The order alternates, so neither side always runs on the warmer machine.
    for (const step of rep % 2 ? [doFloor, doA2a] : [doA2a, doFloor]) await step();
    out.planBytes = JSON.stringify(plans[0]).length;
    out.runs.push(run);
    say(`  run ${rep}: ${floorText(run)} | ${oursText(run, plans.length)}`);
    // A deploy that failed will fail again: no use spending the time budget on it.
    if (run.error) break;
  }
  return summarise(out, jobs, agents);
}

function floorText(run: Run): string {
  return run.floor ? `floor ${f0(run.floor.deployMs)} ms + teardown ${f0(run.floor.teardownMs)} ms` : `floor FAILED: ${run.floorError}`;
}

function oursText(run: Run, jobs: number): string {
  if (run.a2a && run.history && run.cpuS) {
    const h = run.history;
    return `a2a-deploy ${f0(run.a2a.deployMs)} ms + teardown ${f0(run.a2a.teardownMs)} ms | history ${h.atRunning.historyLength}→${h.atEnd.historyLength} events${h.atEnd.runs > jobs ? ` in ${h.atEnd.runs} runs (continue-as-new)` : ''} | worker RSS ${f0(h.atRunning.worker.rssMiB)} MiB, CPU ${f1(run.cpuS.deploy.worker)} s`;
  }
  const p = run.partial;
  return `a2a-deploy FAILED${p ? ` after ${f0(p.afterMs)} ms (history ${p.historyLength} events, ${f1(p.historyBytes / 2 ** 20)} MiB; worker RSS ${f0(p.worker.rssMiB)} MiB, CPU ${f1(p.cpu.worker)} s)` : ''}: ${run.error}`;
}

/** The scenario's figures: medians over the runs where both the floor and a2a-deploy succeeded. */
function summarise(out: ScenarioResult, jobs: number, agents: number): ScenarioResult {
  const ok = out.runs.filter((r) => r.a2a);
  if (!ok.length) {
    out.failedRuns = out.runs;
    out.runs = [];
    out.error = out.failedRuns.find((r) => r.error)?.error ?? out.failedRuns.find((r) => r.floorError)?.floorError;
    out.partial = out.failedRuns.find((r) => r.partial)?.partial;
    const floors = out.failedRuns.filter((r) => r.floor);
    if (floors.length)
      out.floor = { deploy: stats(floors.map((r) => r.floor!.deployMs)), teardown: stats(floors.map((r) => r.floor!.teardownMs)) };
    return out;
  }
  if (out.runs.some((r) => r.error)) out.error = out.runs.find((r) => r.error)!.error;
  out.failedRuns = out.runs.filter((r) => !(r.a2a && r.floor));
  out.runs = out.runs.filter((r) => r.a2a && r.floor);
  if (!out.runs.length) return out;
  const done = out as CompletedScenario;
  const runs = done.runs as Required<Pick<Run, 'floor' | 'a2a' | 'history' | 'cpuS'>>[];
  const col = (f: (r: (typeof runs)[number]) => number) => stats(runs.map(f));
  done.floor = { deploy: col((r) => r.floor.deployMs), teardown: col((r) => r.floor.teardownMs) };
  done.a2a = { deploy: col((r) => r.a2a.deployMs), teardown: col((r) => r.a2a.teardownMs) };
  const lastRun = done.runs[done.runs.length - 1];
  const h = lastRun.history!;
  done.history = {
    perJob: jobs > 1,
    eventsAtRunning: h.atRunning.historyLength / jobs,
    eventsAtEnd: h.atEnd.historyLength / jobs,
    bytesAtRunning: h.atRunning.historyBytes / jobs,
    bytesAtEnd: h.atEnd.historyBytes / jobs,
    eventsPerAgent: h.atEnd.historyLength / agents,
    bytesPerAgent: h.atEnd.historyBytes / agents,
    // Temporal's limits hold per run; a job that continued-as-new has several.
    runsPerJob: h.atEnd.runs / jobs,
    maxRunEvents: h.atEnd.maxRunLength,
    maxRunBytes: h.atEnd.maxRunBytes,
    largestPayload: lastRun.analysis?.largestPayload,
  };
  done.worker = {
    rssMiB: h.atRunning.worker.rssMiB,
    hwmMiB: h.atRunning.worker.hwmMiB,
    cpuDeployS: col((r) => r.cpuS.deploy.worker),
    cpuTeardownS: col((r) => r.cpuS.teardown.worker),
  };
  done.server = { cpuDeployS: col((r) => r.cpuS.deploy.server), cpuTeardownS: col((r) => r.cpuS.teardown.server) };
  return done;
}
