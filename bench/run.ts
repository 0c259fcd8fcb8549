// End-to-end deploy benchmark: how long a2a-deploy takes from submitting a job to every agent
// healthy, and to tear it down, beside baselines measured in the same run:
//   - the floor (bench/floor.ts): the same agents spawned in the same order with no
//     orchestration at all, i.e. the physical limit of this machine;
//   - docker-compose on the same containers, against a2a-deploy's container target (only when
//     the container target and a Docker engine exist; skipped with a note otherwise).
// It also reports the workflow's history size, the worker's memory, how long a job stalls when
// the worker is SIGKILLed and restarted, and whether watching idle agents costs history.
//
//   npm run bench [-- --quick] [-- --only NAME[,NAME]] [-- --reps N] [-- --build]
//                 [-- --health-interval DUR]   (sets config.health.interval in every job file)
//   npm run bench -- --report bench/results/latest.json   (prints an earlier run's tables again;
//                 without building: node -r ./bench/register.js bench/run.ts --report FILE)
//
// NAME is a scenario (pipeline-5, dag-20, mesh-50, hub-200, job-1000, jobs-20x10, job-5000), or
// containers, worker-restart, idle. Needs `npm run build` (npm run bench does it; or --build)
// for the worker, and the Temporal CLI (scripts/install-temporal.sh). Results:
// bench/results/latest.json plus a timestamped copy (partial runs: bench/results/partial-latest.json only).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/integration/support/stack';
import { deployAndTeardown } from './lib/a2a';
import { parseArgs, usage, UsageError, type Options } from './lib/args';
import { startBenchStack, type BenchStack } from './lib/bench-stack';
import { downActiveCompose } from './lib/compose';
import { runContainers } from './lib/containers';
import { anyFailed, evaluate } from './lib/evaluate';
import { killFloor, runFloor } from './lib/floor-runner';
import { f0, f1, say } from './lib/format';
import { loadPlan } from './lib/plan-file';
import { killMarked, memory } from './lib/procfs';
import { report } from './lib/report';
import type { Results } from './lib/results';
import { runScenario } from './lib/scenario';
import { DELAY_MS, jobFiles, SCENARIOS, TARGETS, type RunContext } from './lib/scenarios';
import { runWorkerRestart } from './lib/worker-restart';

/** Sources in src/ newer than the build in dist/ (the worker runs the build). */
function newerSources(): string[] | undefined {
  const bundle = join(ROOT, 'dist', 'workflow-bundle.js');
  if (!existsSync(bundle)) return undefined;
  const built = statSync(bundle).mtimeMs;
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && statSync(p).mtimeMs > built) out.push(p.slice(ROOT.length + 1));
    }
  };
  walk(join(ROOT, 'src'));
  return out;
}

function checkBuild(opts: Options) {
  if (opts.build) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  const stale = newerSources();
  if (!stale) throw new Error('dist/ is missing: run `npm run build` first (or pass --build)');
  if (stale.length)
    say(
      `note: ${stale.length} source files are newer than dist/ (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}); measuring the build in dist/ (pass --build to rebuild)`,
    );
}

/** Every scenario, check and baseline the options select, into `results`. */
async function measure(ctx: RunContext, stack: BenchStack, results: Results) {
  const { opts } = ctx;
  const wanted = (name: string) => !opts.only || opts.only.includes(name);
  // One unrecorded deploy of each kind first: the first workflow tasks and activities of a
  // fresh worker pay for JIT compilation and cache fills that no later run pays.
  const warm = SCENARIOS[0];
  await deployAndTeardown(stack, jobFiles(ctx, warm, 'warmup').map(loadPlan));
  await runFloor(jobFiles(ctx, warm, 'fwarmup'), stack.env);
  say(`(warm-up: one ${warm.name} deploy and one floor run, not recorded)`);
  const selected = SCENARIOS.filter((s) => wanted(s.name));
  for (const [i, sc] of selected.entries()) {
    // The idle check rides on the last run of hub-200, job-1000 and job-5000 (many watched agents);
    // with `--only …,idle` and neither of them, on the last scenario selected.
    const idleHere = sc.idle || (opts.only?.includes('idle') && i === selected.length - 1 && !selected.some((s) => s.idle));
    results.scenarios.push(await runScenario(ctx, stack, sc, { idle: !!idleHere }));
  }
  if (!results.scenarios.some((s) => s.idle) && opts.only?.includes('idle')) {
    results.scenarios.push(await runScenario(ctx, stack, { ...SCENARIOS[0], name: 'idle (pipeline-5)' }, { idle: true, reps: 1 }));
  }
  if (wanted('containers')) results.containers = await runContainers(ctx, stack);
  if (wanted('worker-restart')) results.workerRestart = await runWorkerRestart(ctx, stack);
  const pid = stack.workerPid();
  results.worker = { ...memory(pid), pid };
}

function save(opts: Options, results: Results) {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const body = JSON.stringify(results, null, 2) + '\n';
  // A partial or tweaked run (--only, --reps, --health-interval) must not pass for the benchmark.
  if (opts.only || opts.reps || opts.healthInterval) {
    writeFileSync(join(dir, 'partial-latest.json'), body);
    say(`\nwritten: bench/results/partial-latest.json (a partial run: latest.json is left alone); whole run ${f0(results.elapsedS)} s`);
  } else {
    writeFileSync(join(dir, 'latest.json'), body);
    writeFileSync(join(dir, `${results.when.replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`), body);
    say(`\nwritten: bench/results/latest.json (and a timestamped copy); whole run ${f0(results.elapsedS)} s`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) return void process.stdout.write(usage());
  if (opts.report) {
    // Print the tables of an earlier run again (e.g. bench/results/latest.json).
    const results = JSON.parse(readFileSync(opts.report, 'utf8')) as Results;
    evaluate(results);
    return report(results);
  }
  const started = Date.now();
  checkBuild(opts);
  const runId = Math.random()
    .toString(36)
    .slice(2, 6)
    .replace(/^[0-9]/, 'x');
  // Every job (and so every agent marker) of this run starts with the prefix.
  const ctx: RunContext = { opts, prefix: `bench-${runId}-`, work: mkdtempSync(join(tmpdir(), 'a2a-bench-jobs-')) };
  const stack = await startBenchStack();
  const workerStartMs = await stack.startWorker();
  const machine = { cpus: cpus().length, memGiB: totalmem() / 2 ** 30, loadavg: loadavg(), node: process.version };
  say(
    `a2a-deploy benchmark${opts.quick ? ' (--quick)' : ''}${opts.healthInterval ? ` (health interval ${opts.healthInterval})` : ''}: dev server ${stack.address} (pid ${stack.serverPid}), worker pid ${stack.workerPid()} (up in ${f0(workerStartMs)} ms), agents DELAY_MS=${DELAY_MS}, ${machine.cpus} cores, load ${machine.loadavg.map(f1).join(' ')}`,
  );
  const results: Results = {
    when: new Date().toISOString(),
    quick: opts.quick,
    healthInterval: opts.healthInterval ?? 'default',
    delayMs: DELAY_MS,
    machine,
    targets: TARGETS,
    scenarios: [],
    notes: [],
  };
  const cleanup = () => {
    const n = killMarked(ctx.prefix);
    if (n) say(`cleanup: killed ${n} leftover agent processes`);
  };
  const interrupted = (signal: NodeJS.Signals) => {
    say(`\ninterrupted (${signal}): cleaning up`);
    void (async () => {
      await killFloor(); // first, so it starts nothing more
      cleanup();
      await downActiveCompose();
      await stack.close().catch(() => {});
      cleanup(); // anything started meanwhile (an agent spawned just before the kill carries its marker once it runs)
      rmSync(ctx.work, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await measure(ctx, stack, results);
  } finally {
    cleanup();
    await stack.close().catch((e: Error) => say(`warning: closing the stack: ${e.message}`));
    rmSync(ctx.work, { recursive: true, force: true });
  }
  results.elapsedS = (Date.now() - started) / 1000;
  evaluate(results);
  report(results);
  save(opts, results);
  // A failed or skipped scenario is a regression, not a footnote.
  if (anyFailed(results)) {
    say('\nbench: some scenarios FAILED or could not run (see Targets)');
    process.exitCode = 1;
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err instanceof UsageError ? err.message : (err.stack ?? err)}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
