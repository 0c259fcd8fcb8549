#!/usr/bin/env node
// End-to-end deploy benchmark: how long a2a-deploy takes from submitting a job to every agent
// healthy, and to tear it down, beside baselines measured in the same run:
//   - the floor (bench/floor.js): the same agents spawned in the same order with no
//     orchestration at all, i.e. the physical limit of this machine;
//   - docker-compose on the same containers, against a2a-deploy's container target (only when
//     the container target and a Docker engine exist; skipped with a note otherwise).
// It also reports the workflow's history size, the worker's memory, how long a job stalls when
// the worker is SIGKILLed and restarted, and whether watching idle agents costs history.
//
//   npm run bench [-- --quick] [-- --only NAME[,NAME]] [-- --reps N] [-- --build]
//                 [-- --health-interval DUR]   (sets config.health.interval in every job file)
//   node bench/run.js --report bench/results/latest.json   (prints an earlier run's tables again)
//
// NAME is a scenario (pipeline-5, dag-20, mesh-50, hub-200, job-1000, jobs-20x10), or
// containers, worker-restart, idle. Needs `npm run build` (or --build) and the Temporal CLI
// (scripts/install-temporal.sh). Results: bench/results/latest.json plus a timestamped copy
// (partial runs: bench/results/partial-latest.json only).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ROOT, loadPlan, sleep, stats, cpuSeconds, memory, markedProcesses, killMarked, busyPorts } = require('./lib/common');
const topo = require('./lib/topologies');

const DELAY_MS = 200; // every agent's start-up delay: the critical path is levels × DELAY_MS
const IDLE_S = 30; // how long the idle-watch check leaves a deployed job alone
const LIMITS = { events: 50_000, bytes: 50 * 1024 * 1024, blob: 2 * 1024 * 1024 }; // Temporal's defaults
const TARGETS = { perLevelMs: 100, perAgentMs: 10 };

// reps: [quick, full]. Wide scenarios cost ~100 ms of CPU per agent just to boot node (2 cores
// here), so the big ones get fewer repetitions to keep a full run near 15 minutes.
const SCENARIOS = [
  { name: 'pipeline-5', shape: () => topo.pipeline(5), reps: [3, 5] },
  { name: 'dag-20', shape: () => topo.layeredDag(4, 5), reps: [3, 5] },
  { name: 'mesh-50', shape: () => topo.mesh(50), reps: [3, 5] },
  { name: 'hub-200', shape: () => topo.hubSpoke(200), reps: [1, 3], idle: true },
  // One run even in a full run: a single deploy of 1,000 node processes takes minutes here.
  { name: 'job-1000', shape: () => topo.layeredDag(4, 250), reps: [1, 1], idle: true },
  { name: 'jobs-20x10', shape: () => topo.shapedDag([1, 3, 6]), jobs: 20, reps: [1, 3] },
];
const CONTAINER_SCENARIOS = ['pipeline-5', 'dag-20'];

function parseArgs(argv) {
  const o = { quick: false, only: undefined, reps: undefined, build: false, healthInterval: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--build') o.build = true;
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a.startsWith('--only=')) o.only = a.slice(7).split(',');
    else if (a === '--reps') o.reps = Number(argv[++i]);
    else if (a === '--health-interval') o.healthInterval = argv[++i];
    else if (a === '--report') o.report = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        require('node:fs')
          .readFileSync(__filename, 'utf8')
          .split('\n')
          .slice(1)
          .filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//')))
          .map((l) => l.replace(/^\/\/ ?/, ''))
          .join('\n') + '\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  const known = [...SCENARIOS.map((s) => s.name), 'containers', 'worker-restart', 'idle'];
  for (const n of o.only ?? []) if (!known.includes(n)) throw new Error(`unknown scenario ${n}; one of ${known.join(', ')}`);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const wanted = (name) => !opts.only || opts.only.includes(name);
const runId = Math.random()
  .toString(36)
  .slice(2, 6)
  .replace(/^[0-9]/, 'x');
const PREFIX = `bench-${runId}-`; // every job (and so every agent marker) of this run
const work = mkdtempSync(join(tmpdir(), 'a2a-bench-jobs-'));
const say = (line = '') => process.stdout.write(line + '\n');
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const fmt = (s) => (s && s.n ? `${f0(s.median)} (${f0(s.min)}–${f0(s.max)})` : '-');

/** Job files for one run of a scenario: `jobs` copies of its shape, each on its own ports. */
function jobFiles(sc, tag, extra = {}) {
  const shape = sc.shape();
  const jobs = sc.jobs ?? 1;
  return Array.from({ length: jobs }, (_, j) =>
    topo.writeJob(work, `${PREFIX}${tag}${jobs > 1 ? `-${String(j).padStart(2, '0')}` : ''}`, shape, {
      delayMs: DELAY_MS,
      firstPort: topo.FIRST_PORT + j * shape.ids.length,
      healthInterval: opts.healthInterval,
      ...extra,
    }),
  );
}

/** The floor for these files, in a process of its own (node bench/floor.js). */
let floorChild; // the floor process under way, for an interrupt to end
function runFloor(files, env) {
  return new Promise((done, fail) => {
    const child = (floorChild = spawn(process.execPath, [join(__dirname, 'floor.js'), ...files], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? done(JSON.parse(out)) : fail(new Error(`floor failed: ${err.slice(-2000)}`))));
  });
}

function newerSources() {
  const bundle = join(ROOT, 'dist', 'workflow-bundle.js');
  if (!existsSync(bundle)) return ['dist/ is missing'];
  const built = statSync(bundle).mtimeMs;
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && statSync(p).mtimeMs > built) out.push(p.slice(ROOT.length + 1));
    }
  };
  walk(join(ROOT, 'src'));
  return out;
}

async function main() {
  if (opts.report) {
    // Print the tables of an earlier run again (e.g. bench/results/latest.json).
    const results = JSON.parse(require('node:fs').readFileSync(opts.report, 'utf8'));
    evaluate(results);
    report(results);
    return;
  }
  const started = Date.now();
  if (opts.build) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  const stale = newerSources();
  if (stale.includes('dist/ is missing')) throw new Error('dist/ is missing: run `npm run build` first (or pass --build)');
  if (stale.length)
    say(
      `note: ${stale.length} source files are newer than dist/ (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}); measuring the build in dist/ (pass --build to rebuild)`,
    );

  const { startStack } = require('./lib/stack');
  const a2a = require('./lib/a2a');
  const stack = await startStack();
  const workerStartMs = await stack.startWorker();
  const machine = {
    cpus: require('node:os').cpus().length,
    memGiB: require('node:os').totalmem() / 2 ** 30,
    loadavg: require('node:os').loadavg(),
    node: process.version,
  };
  say(
    `a2a-deploy benchmark${opts.quick ? ' (--quick)' : ''}${opts.healthInterval ? ` (health interval ${opts.healthInterval})` : ''}: dev server ${stack.server.address} (pid ${stack.server.pid}), worker pid ${stack.worker.pid} (up in ${f0(workerStartMs)} ms), agents DELAY_MS=${DELAY_MS}, ${machine.cpus} cores, load ${machine.loadavg.map(f1).join(' ')}`,
  );
  const results = {
    when: new Date().toISOString(),
    quick: opts.quick,
    healthInterval: opts.healthInterval ?? 'default',
    delayMs: DELAY_MS,
    machine,
    targets: TARGETS,
    scenarios: [],
    notes: [],
  };

  const cleanup = async () => {
    const n = killMarked(PREFIX);
    if (n) say(`cleanup: killed ${n} leftover agent processes`);
  };
  process.once('SIGINT', async () => {
    say('\ninterrupted: cleaning up');
    if (floorChild?.exitCode === null) floorChild.kill('SIGKILL'); // first, so it starts nothing more
    await cleanup();
    await stack.close().catch(() => {});
    await cleanup(); // anything started meanwhile
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });

  try {
    // One unrecorded deploy of each kind first: the first workflow tasks and activities of a
    // fresh worker pay for JIT compilation and cache fills that no later run pays.
    const warm = SCENARIOS[0];
    await a2a.deployAndTeardown(stack, jobFiles(warm, 'warmup').map(loadPlan));
    await runFloor(jobFiles(warm, 'fwarmup'), stack.env);
    say(`(warm-up: one ${warm.name} deploy and one floor run, not recorded)`);
    const selected = SCENARIOS.filter((s) => wanted(s.name));
    for (const [i, sc] of selected.entries()) {
      // The idle check rides on the last run of hub-200 and job-1000 (many watched agents);
      // with `--only …,idle` and neither of them, on the last scenario selected.
      const idleHere = sc.idle || (opts.only?.includes('idle') && i === selected.length - 1 && !selected.some((s) => s.idle));
      results.scenarios.push(await runScenario(stack, a2a, sc, { idle: idleHere }));
    }
    if (!results.scenarios.some((s) => s.idle) && opts.only?.includes('idle')) {
      results.scenarios.push(await runScenario(stack, a2a, { ...SCENARIOS[0], name: 'idle (pipeline-5)' }, { idle: true, reps: 1 }));
    }
    if (wanted('containers')) results.containers = await runContainers(stack, a2a);
    if (wanted('worker-restart')) results.workerRestart = await runWorkerRestart(stack, a2a);
    results.worker = { ...memory(stack.worker.pid), pid: stack.worker.pid };
  } finally {
    await cleanup();
    await stack.close().catch((e) => say(`warning: closing the stack: ${e.message}`));
    rmSync(work, { recursive: true, force: true });
  }

  results.elapsedS = (Date.now() - started) / 1000;
  evaluate(results);
  report(results);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const body = JSON.stringify(results, null, 2) + '\n';
  // A partial or tweaked run (--only, --reps, --health-interval) must not pass for the benchmark.
  const partial = opts.only || opts.reps || opts.healthInterval;
  if (partial) {
    writeFileSync(join(dir, 'partial-latest.json'), body);
    say(`\nwritten: bench/results/partial-latest.json (a partial run: latest.json is left alone); whole run ${f0(results.elapsedS)} s`);
  } else {
    writeFileSync(join(dir, 'latest.json'), body);
    writeFileSync(join(dir, `${results.when.replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`), body);
    say(`\nwritten: bench/results/latest.json (and a timestamped copy); whole run ${f0(results.elapsedS)} s`);
  }
}

async function runScenario(stack, a2a, sc, { idle = false, reps } = {}) {
  const shape = sc.shape();
  const jobs = sc.jobs ?? 1;
  const agents = shape.ids.length * jobs;
  const n = reps ?? opts.reps ?? sc.reps[opts.quick ? 0 : 1];
  // The machine is shared: the load when a scenario starts says how much to trust it.
  const out = {
    name: sc.name,
    agents,
    jobs,
    levels: shape.levels,
    reps: n,
    loadavg: require('node:os').loadavg(),
    floor: {},
    a2a: {},
    runs: [],
  };
  say(
    `\n## ${sc.name}: ${agents} agents${jobs > 1 ? ` in ${jobs} jobs` : ''}, ${shape.levels} levels, ${n} runs (load ${out.loadavg.map(f1).join(' ')})`,
  );
  const busy = await busyPorts(Array.from({ length: agents }, (_, i) => topo.FIRST_PORT + i));
  if (busy.length) {
    out.error = `ports in use: ${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', …' : ''}`;
    say(`  skipped: ${out.error}`);
    return out;
  }
  const key = sc.name.replace(/[^a-z0-9]+/g, '').slice(0, 10);
  for (let rep = 1; rep <= n; rep++) {
    const floorFiles = jobFiles(sc, `f${key}-r${rep}`);
    const files = jobFiles(sc, `${key}-r${rep}`);
    const plans = files.map(loadPlan);
    const last = rep === n;
    const run = {};
    // Alternate the order so that neither side always runs on a machine still settling.
    const doFloor = async () => {
      // Tried twice: on a shared machine something else may kill an agent (another a2a-deploy's gc).
      for (let attempt = 1; attempt <= 2 && !run.floor; attempt++) {
        try {
          const f = await runFloor(floorFiles, stack.env);
          run.floor = { deployMs: f.deployMs, teardownMs: f.teardownMs };
        } catch (err) {
          run.floorError = String(err.message ?? err)
            .split('\n')
            .slice(0, 10)
            .join('\n');
          killMarked(PREFIX);
          if (attempt === 1) say(`  (the floor failed, trying once more: ${run.floorError.split('\n')[0]})`);
        }
      }
      await sleep(500);
    };
    const doA2a = async () => {
      try {
        const ours = await a2a.deployAndTeardown(stack, plans, {
          whileRunning: last && idle ? (handles) => idleCheck(stack, handles) : undefined,
        });
        run.a2a = { deployMs: ours.deployMs, teardownMs: ours.teardownMs };
        run.history = { atRunning: ours.atRunning, atEnd: ours.atEnd };
        run.cpuS = ours.cpu;
        if (last) {
          run.analysis = await a2a.analyseHistory(stack.client, ours.handles[0], plans[0]);
          if (ours.during) out.idle = ours.during;
        }
      } catch (err) {
        run.error = String(err.message ?? err)
          .split('\n')
          .slice(0, 20)
          .join('\n');
        if (err.partial) run.partial = err.partial;
        const k = killMarked(PREFIX);
        if (k) say(`  (killed ${k} leftover agent processes)`);
        await ensureWorker(stack);
      }
      await sleep(500);
    };
    // The order alternates, so neither side always runs on the warmer machine.
    for (const run of rep % 2 ? [doFloor, doA2a] : [doA2a, doFloor]) await run();
    out.planBytes = JSON.stringify(plans[0]).length;
    out.runs.push(run);
    const floorText = run.floor
      ? `floor ${f0(run.floor.deployMs)} ms + teardown ${f0(run.floor.teardownMs)} ms`
      : `floor FAILED: ${run.floorError}`;
    const oursText = run.a2a
      ? `a2a-deploy ${f0(run.a2a.deployMs)} ms + teardown ${f0(run.a2a.teardownMs)} ms | history ${run.history.atRunning.historyLength}→${run.history.atEnd.historyLength} events${run.history.atEnd.runs > plans.length ? ` in ${run.history.atEnd.runs} runs (continue-as-new)` : ''} | worker RSS ${f0(run.history.atRunning.worker.rssMiB)} MiB, CPU ${f1(run.cpuS.deploy.worker)} s`
      : `a2a-deploy FAILED${run.partial ? ` after ${f0(run.partial.afterMs)} ms (history ${run.partial.historyLength} events, ${f1(run.partial.historyBytes / 2 ** 20)} MiB; worker RSS ${f0(run.partial.worker.rssMiB)} MiB, CPU ${f1(run.partial.cpu.worker)} s)` : ''}: ${run.error}`;
    say(`  run ${rep}: ${floorText} | ${oursText}`);
    // A deploy that failed will fail again: no use spending the time budget on it.
    if (run.error) break;
  }
  const ok = out.runs.filter((r) => r.a2a);
  if (!ok.length) {
    out.failedRuns = out.runs;
    out.runs = [];
    out.error = out.failedRuns.find((r) => r.error)?.error ?? out.failedRuns.find((r) => r.floorError)?.floorError;
    out.partial = out.failedRuns.find((r) => r.partial)?.partial;
    const floors = out.failedRuns.filter((r) => r.floor);
    if (floors.length)
      out.floor = { deploy: stats(floors.map((r) => r.floor.deployMs)), teardown: stats(floors.map((r) => r.floor.teardownMs)) };
    return out;
  }
  if (out.runs.some((r) => r.error)) out.error = out.runs.find((r) => r.error).error;
  out.failedRuns = out.runs.filter((r) => !(r.a2a && r.floor));
  out.runs = out.runs.filter((r) => r.a2a && r.floor);
  if (!out.runs.length) return out;
  const col = (f) => stats(out.runs.map(f));
  out.floor = { deploy: col((r) => r.floor.deployMs), teardown: col((r) => r.floor.teardownMs) };
  out.a2a = { deploy: col((r) => r.a2a.deployMs), teardown: col((r) => r.a2a.teardownMs) };
  const lastRun = out.runs[out.runs.length - 1];
  out.history = {
    perJob: jobs > 1,
    eventsAtRunning: lastRun.history.atRunning.historyLength / jobs,
    eventsAtEnd: lastRun.history.atEnd.historyLength / jobs,
    bytesAtRunning: lastRun.history.atRunning.historyBytes / jobs,
    bytesAtEnd: lastRun.history.atEnd.historyBytes / jobs,
    eventsPerAgent: lastRun.history.atEnd.historyLength / agents,
    bytesPerAgent: lastRun.history.atEnd.historyBytes / agents,
    // Temporal's limits hold per run; a job that continued-as-new has several.
    runsPerJob: lastRun.history.atEnd.runs / jobs,
    maxRunEvents: lastRun.history.atEnd.maxRunLength,
    maxRunBytes: lastRun.history.atEnd.maxRunBytes,
    largestPayload: lastRun.analysis?.largestPayload,
  };
  out.worker = {
    rssMiB: lastRun.history.atRunning.worker.rssMiB,
    hwmMiB: lastRun.history.atRunning.worker.hwmMiB,
    cpuDeployS: col((r) => r.cpuS.deploy.worker),
    cpuTeardownS: col((r) => r.cpuS.teardown.worker),
  };
  out.server = { cpuDeployS: col((r) => r.cpuS.deploy.server), cpuTeardownS: col((r) => r.cpuS.teardown.server) };
  return out;
}

/** After a failure: a dead worker is replaced, so that the next scenario can run. */
async function ensureWorker(stack) {
  try {
    stack.checkWorker();
  } catch {
    say('  (the worker is gone: starting a new one)');
    await stack.startWorker();
  }
}

/** Leaves a deployed job alone for IDLE_S: does watching it add history, and what does it cost? */
async function idleCheck(stack, handles) {
  say(`  idle check: leaving ${handles.length > 1 ? `${handles.length} jobs` : 'the job'} alone for ${IDLE_S} s …`);
  const { historyOf } = require('./lib/a2a');
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
  const cpu0 = { worker: cpuSeconds(stack.worker.pid), server: cpuSeconds(stack.server.pid) };
  await sleep(IDLE_S * 1000);
  const after = await length();
  const cpu1 = { worker: cpuSeconds(stack.worker.pid), server: cpuSeconds(stack.server.pid) };
  // What the added events are, and why: failed or timed-out activities say so in their failure.
  const added = {};
  const reasons = new Map();
  let restarts = 0;
  const { temporal } = require('@temporalio/proto');
  const E = temporal.api.enums.v1.EventType;
  for (const h of handles) {
    const { events } = await h.fetchHistory(); // the latest run: where an idle watch would add events
    const start = events.length - (after - before) / handles.length; // same count per job when they idle alike
    for (const e of events.slice(Math.max(0, Math.floor(start)))) {
      const name = E[e.eventType].replace('EVENT_TYPE_', '').toLowerCase();
      added[name] = (added[name] ?? 0) + 1;
      const attrs = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (attrs?.failure) {
        const f = attrs.failure;
        const why = `${name}: ${(f.cause?.message ?? f.message ?? '').split('\n')[0].slice(0, 160)}`;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
      if (e.activityTaskScheduledEventAttributes) {
        const n = e.activityTaskScheduledEventAttributes.activityType.name;
        added[`scheduled ${n}`] = (added[`scheduled ${n}`] ?? 0) + 1;
      }
    }
    try {
      const st = await h.query(require('../dist/workflows/api').statusQuery);
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
    workerRssMiB: memory(stack.worker.pid).rssMiB,
  };
}

/** a2a-deploy's container target vs docker-compose, same image, same topology. */
async function runContainers(stack, a2a) {
  const { dockerReady, composeDeployAndTeardown } = require('./lib/compose');
  say('\n## containers: a2a-deploy container target vs docker-compose');
  const docker = dockerReady();
  if (!docker.ok) {
    say(`  skipped: ${docker.note}`);
    return { skipped: docker.note };
  }
  say(`  ${docker.note}`);
  const out = { note: docker.note, scenarios: [] };
  for (const name of CONTAINER_SCENARIOS) {
    const sc = SCENARIOS.find((s) => s.name === name);
    const n = opts.reps ?? (opts.quick ? 1 : 2);
    const key = `c${name.replace(/[^a-z0-9]+/g, '')}`;
    const res = { name: `${name} (containers)`, agents: sc.shape().ids.length, levels: sc.shape().levels, runs: [] };
    try {
      for (let rep = 1; rep <= n; rep++) {
        const composePlan = loadPlan(jobFiles(sc, `k${key}-r${rep}`)[0]);
        const plan = loadPlan(jobFiles(sc, `${key}-r${rep}`, { target: 'container', image: docker.image })[0]);
        const c = await composeDeployAndTeardown(docker, composePlan, work);
        await sleep(500);
        const ours = await a2a.deployAndTeardown(stack, [plan]);
        res.runs.push({ compose: c, a2a: { deployMs: ours.deployMs, teardownMs: ours.teardownMs } });
        say(
          `  ${name} run ${rep}: docker-compose ${f0(c.deployMs)} ms + teardown ${f0(c.teardownMs)} ms | a2a-deploy ${f0(ours.deployMs)} ms + teardown ${f0(ours.teardownMs)} ms`,
        );
        await sleep(500);
      }
    } catch (err) {
      res.error = String(err.message ?? err)
        .split('\n')
        .slice(0, 20)
        .join('\n');
      say(`  FAILED: ${res.error}`);
      killMarked(PREFIX);
      await ensureWorker(stack);
    }
    if (res.runs.length) {
      res.compose = { deploy: stats(res.runs.map((r) => r.compose.deployMs)), teardown: stats(res.runs.map((r) => r.compose.teardownMs)) };
      res.a2a = { deploy: stats(res.runs.map((r) => r.a2a.deployMs)), teardown: stats(res.runs.map((r) => r.a2a.teardownMs)) };
    }
    out.scenarios.push(res);
  }
  return out;
}

/**
 * Kills the worker (SIGKILL) in the middle of a 5-agent pipeline's deploy, at a known point:
 * KILL_AFTER_MS after the third agent to start (stage 2) appeared (its health check is then
 * under way, its start-up taking RESTART_DELAY_MS), restarts it, and measures how long until
 * the job makes progress again (the fourth agent's process appears), against the same moment
 * in an undisturbed run of the same job.
 */
async function runWorkerRestart(stack, a2a) {
  const RESTART_DELAY_MS = 1000;
  const KILL_AFTER_MS = 200;
  const n = opts.reps ?? (opts.quick ? 1 : 2);
  say(
    `\n## worker-restart: SIGKILL the worker ${KILL_AFTER_MS} ms after the 3rd agent of a 5-pipeline started (DELAY_MS=${RESTART_DELAY_MS}), restart it, ${n} runs`,
  );
  const sc = { name: 'restart', shape: () => topo.pipeline(5) };
  const appeared = async (marker, since, timeoutMs = 120_000) => {
    for (;;) {
      if (markedProcesses(marker).length) return performance.now() - since;
      if (performance.now() - since > timeoutMs) throw new Error(`${marker} never started`);
      await sleep(5);
    }
  };
  const runs = [];
  try {
    for (let rep = 1; rep <= n; rep++) {
      for (const disturbed of [false, true]) {
        const plan = loadPlan(jobFiles(sc, `rs${disturbed ? 'k' : 'u'}-r${rep}`, { delayMs: RESTART_DELAY_MS })[0]);
        // A pipeline starts from its end: the agent nobody else calls is the last to start.
        const [third, fourth] = [plan.stages[2][0], plan.stages[3][0]];
        const t0 = performance.now();
        const handle = await a2a.startJob(stack.client, plan);
        await appeared(`${plan.job}/${third}`, t0);
        await sleep(KILL_AFTER_MS);
        const tKill = performance.now();
        const killedAt = Date.now();
        let restartMs;
        if (disturbed) {
          await stack.killWorker('SIGKILL');
          restartMs = await stack.startWorker();
        }
        const nextMs = await appeared(`${plan.job}/${fourth}`, tKill);
        await a2a.waitRunning([handle], 120_000);
        const deployMs = performance.now() - t0;
        const { stopUpdate } = require('../dist/workflows/api');
        await handle.executeUpdate(stopUpdate, { args: [{}] });
        await handle.result();
        const r = { disturbed, deployMs, killToNextAgentMs: nextMs, ...(disturbed ? { workerRestartMs: restartMs } : {}) };
        if (disturbed) r.analysis = await stallCause(handle, killedAt);
        runs.push(r);
        say(
          `  run ${rep} ${disturbed ? 'worker killed' : 'undisturbed '}: next agent started ${f0(nextMs)} ms after the kill point${disturbed ? ` (worker back in ${f0(restartMs)} ms)` : ''}; whole deploy ${f0(deployMs)} ms`,
        );
        await sleep(500);
      }
    }
  } catch (err) {
    say(`  FAILED: ${err.message}`);
    killMarked(PREFIX);
    await ensureWorker(stack);
    return { error: err.message, runs };
  }
  const k = runs.filter((r) => r.disturbed);
  const u = runs.filter((r) => !r.disturbed);
  return {
    killAfterMs: KILL_AFTER_MS,
    delayMs: RESTART_DELAY_MS,
    workerRestartMs: stats(k.map((r) => r.workerRestartMs)),
    killToProgressMs: stats(k.map((r) => r.killToNextAgentMs)),
    undisturbedMs: stats(u.map((r) => r.killToNextAgentMs)),
    stallAddedMs: stats(k.map((r, i) => r.killToNextAgentMs - u[i].killToNextAgentMs)),
    deployAddedMs: stats(k.map((r, i) => r.deployMs - u[i].deployMs)),
    runs,
  };
}

/** What the history shows about a stall: timeouts, retries, and the events after the kill. */
async function stallCause(handle, killedAt) {
  const { temporal } = require('@temporalio/proto');
  const E = temporal.api.enums.v1.EventType;
  const { events } = await handle.fetchHistory();
  const t = (e) => Number(e.eventTime.seconds) * 1000 + e.eventTime.nanos / 1e6;
  const timedOut = events.filter(
    (e) => e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT || e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
  );
  const retried = events.filter(
    (e) => e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_STARTED && e.activityTaskStartedEventAttributes.attempt > 1,
  );
  const wftGaps = [];
  const sched = new Map();
  for (const e of events) {
    if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) sched.set(Number(e.eventId), t(e));
    if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_STARTED)
      wftGaps.push(t(e) - sched.get(Number(e.workflowTaskStartedEventAttributes.scheduledEventId)));
  }
  const name = (e) => E[e.eventType].replace('EVENT_TYPE_', '').toLowerCase();
  // The first events after the kill, with their time since it: the stall reads off this list.
  const timeline = events
    .filter((e) => t(e) >= killedAt - 50)
    .slice(0, 14)
    .map(
      (e) =>
        `+${f0(t(e) - killedAt)} ms ${name(e)}${e.activityTaskScheduledEventAttributes ? ` ${e.activityTaskScheduledEventAttributes.activityType.name}` : ''}${e.activityTaskStartedEventAttributes ? ` (attempt ${e.activityTaskStartedEventAttributes.attempt})` : ''}${e.activityTaskTimedOutEventAttributes ? ` (${JSON.stringify(e.activityTaskTimedOutEventAttributes.failure?.timeoutFailureInfo?.timeoutType)})` : ''}${e.workflowTaskTimedOutEventAttributes ? ` (timeout type ${e.workflowTaskTimedOutEventAttributes.timeoutType})` : ''}`,
    );
  return {
    timeline,
    timedOut: timedOut.map(name),
    retriedActivities: retried.map((e) => `attempt ${e.activityTaskStartedEventAttributes.attempt}`),
    slowestWorkflowTaskPickupMs: Math.max(...wftGaps),
  };
}

/** Derived figures and the targets, met or missed (and by how much). */
function evaluate(results) {
  const done = results.scenarios.filter((s) => s.runs.length);
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
  const targets = [];
  const miss = (ok, by) => (ok ? 'met' : `MISSED by ${by}`);
  if (pipe) {
    targets.push({
      target: `orchestration overhead ≤ ${TARGETS.perLevelMs} ms per dependency level (pipeline-5)`,
      value: `${f0(perLevel)} ms/level`,
      status: miss(perLevel <= TARGETS.perLevelMs, `${f0(perLevel - TARGETS.perLevelMs)} ms/level (${f1(perLevel / TARGETS.perLevelMs)}×)`),
    });
  }
  for (const s of done.filter((s) => s.overhead.perExtraAgentMs !== undefined)) {
    const v = s.overhead.perExtraAgentMs;
    targets.push({
      target: `≤ ${TARGETS.perAgentMs} ms per extra agent above the floor (${s.name})`,
      value: `${f1(v)} ms/agent${pipe ? '' : ' (no pipeline-5 in this run: whole overhead charged to agents)'}`,
      status: miss(v <= TARGETS.perAgentMs, `${f1(v - TARGETS.perAgentMs)} ms/agent (${f1(v / TARGETS.perAgentMs)}×)`),
    });
  }
  for (const c of results.containers?.scenarios ?? []) {
    if (!c.a2a) continue;
    const d = c.a2a.deploy.median - c.compose.deploy.median;
    targets.push({
      target: `faster than docker-compose on the same containers (${c.name})`,
      value: `${f0(c.a2a.deploy.median)} vs ${f0(c.compose.deploy.median)} ms`,
      status: miss(d < 0, `${f0(d)} ms (${f1(c.a2a.deploy.median / c.compose.deploy.median)}× compose)`),
    });
  }
  if (results.containers?.skipped)
    targets.push({
      target: 'faster than docker-compose on the same containers',
      value: '-',
      status: `not measured: ${results.containers.skipped}`,
    });
  const big = done.find((s) => s.name === 'job-1000');
  if (big) {
    const h = big.history;
    const worst = Math.max(h.maxRunEvents / LIMITS.events, h.maxRunBytes / LIMITS.bytes, (h.largestPayload?.bytes ?? 0) / LIMITS.blob);
    targets.push({
      target:
        "1,000 agents in one job: deploy, watch, stop far from Temporal's history limits (each run ≤ 50% of 50K events / 50 MB; every payload ≤ 50% of the 2 MB blob limit)",
      value: `largest run ${f0(h.maxRunEvents)} events (${f0((100 * h.maxRunEvents) / LIMITS.events)}%), ${f1(h.maxRunBytes / 2 ** 20)} MiB (${f0((100 * h.maxRunBytes) / LIMITS.bytes)}%); ${f1(h.runsPerJob)} runs (continue-as-new), ${f0(h.eventsAtEnd)} events in all; largest payload ${f0((h.largestPayload?.bytes ?? 0) / 1024)} KiB (${f0((100 * (h.largestPayload?.bytes ?? 0)) / LIMITS.blob)}% of 2 MB: ${h.largestPayload?.what})`,
      status: miss(worst <= 0.5, `${f0(100 * worst)}% of a limit`),
    });
  } else {
    const failed = results.scenarios.find((s) => s.name === 'job-1000');
    if (failed) {
      const p = failed.partial;
      targets.push({
        target: "1,000 agents in one job: deploy, watch, stop far from Temporal's history limits",
        value: p
          ? `history when it failed (after ${f0(p.afterMs / 1000)} s): ${p.historyLength} events (${f0((100 * p.historyLength) / LIMITS.events)}% of 50K), ${f1(p.historyBytes / 2 ** 20)} MiB (${f0((100 * p.historyBytes) / LIMITS.bytes)}% of 50 MB); workflow input ${f0(failed.planBytes / 1024)} KiB (${f0((100 * failed.planBytes) / LIMITS.blob)}% of the 2 MB blob limit)`
          : '-',
        status: `MISSED: the job did not deploy (${String(failed.error).split('\n')[0]})`,
      });
    }
  }
  for (const s of done.filter((s) => s.idle)) {
    const idle = s.idle;
    targets.push({
      target: `watching costs no history events while nothing changes (${s.name}, ${s.agents} agents)`,
      value: `${idle.eventsAdded} events in ${idle.seconds} s idle (worker ${f1(idle.workerCpuPct)}% CPU, server ${f1(idle.serverCpuPct)}%)`,
      status: miss(idle.eventsAdded === 0, `${idle.eventsAdded} events`),
    });
  }
  results.perLevelMs = perLevel;
  results.targetsEvaluated = targets;
}

function report(results) {
  const done = results.scenarios.filter((s) => s.runs.length);
  say('\n# Results: median (min–max) ms; overhead = a2a-deploy − floor');
  say(
    `agents start after DELAY_MS=${results.delayMs}; the harness sees "running" within ~10 ms; machine: ${results.machine.cpus} cores, shared with whatever else runs\n`,
  );
  say(
    '| scenario | agents | levels | floor deploy | a2a-deploy deploy | overhead | /level | /extra agent | floor teardown | a2a-deploy teardown |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of results.scenarios) {
    if (!s.runs.length) {
      const p = s.partial;
      const why = `**FAILED**${p ? ` after ${f0(p.afterMs)} ms` : ''}: ${(s.error ?? '-').split('\n')[0]}`;
      say(
        `| ${s.name} | ${s.agents} | ${s.levels} | ${s.floor?.deploy ? fmt(s.floor.deploy) : '-'} | ${why} | | | | ${s.floor?.teardown ? fmt(s.floor.teardown) : '-'} | |`,
      );
      continue;
    }
    const o = s.overhead;
    say(
      `| ${s.name} | ${s.agents} | ${s.levels} | ${fmt(s.floor.deploy)} | ${fmt(s.a2a.deploy)} | ${f0(o.deployMs)} | ${f0(o.perLevelMs)} | ${o.perExtraAgentMs === undefined ? '-' : f1(o.perExtraAgentMs)} | ${fmt(s.floor.teardown)} | ${fmt(s.a2a.teardown)} |`,
    );
  }
  say(
    '\n| scenario | history events at running → end (per job) | runs per job | largest run: events / size | events/agent | history size at end (per job) | bytes/agent | largest payload | worker RSS after deploy | worker CPU deploy / teardown | server CPU deploy / teardown |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of done) {
    const h = s.history;
    say(
      `| ${s.name} | ${f0(h.eventsAtRunning)} → ${f0(h.eventsAtEnd)} | ${f1(h.runsPerJob)} | ${f0(h.maxRunEvents)} / ${f0(h.maxRunBytes / 1024)} KiB | ${f1(h.eventsPerAgent)} | ${f0(h.bytesAtEnd / 1024)} KiB | ${f0(h.bytesPerAgent)} | ${f0((h.largestPayload?.bytes ?? 0) / 1024)} KiB (${h.largestPayload?.what ?? '-'}) | ${f0(s.worker.rssMiB)} MiB | ${f1(s.worker.cpuDeployS.median)} / ${f1(s.worker.cpuTeardownS.median)} s | ${f1(s.server.cpuDeployS.median)} / ${f1(s.server.cpuTeardownS.median)} s |`,
    );
  }
  say('\n## Where the deploy time goes (last run, first job, from the workflow history; median / max ms per agent)');
  say(
    "reaction: callees healthy → its deployAgent (older: startAgent) scheduled; start: scheduled → agent spawned; between: startAgent done → waitHealthy scheduled (0 since deployAgent does both); check: the health wait (includes the agent's own start-up); poll gap: the health-poll interval before the successful check (up to that much is lost); WFT: workflow task pick-up / processing",
  );
  say('\n| scenario | reaction | start | between | check | poll gap | WFT pick-up | WFT run | workflow tasks |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const mm = (x) => (x ? `${f0(x.median)} / ${f0(x.max)}` : '-');
  for (const s of done) {
    const a = s.runs[s.runs.length - 1].analysis;
    if (!a) continue;
    const st = a.steps;
    // Queue and run of an activity are merged: the server stamps a retried activity's start late.
    const merge = (q, r) => (q && r ? { median: q.median + r.median, max: q.max + r.max } : undefined);
    say(
      `| ${s.name} | ${mm(st.reaction)} | ${mm(merge(st.startQueue, st.startRun))} | ${mm(st.betweenActivities)} | ${mm(merge(st.checkQueue, st.checkRun))} | ${mm(st.healthPollGap)} | ${mm(a.workflowTasks.queueMs)} | ${mm(a.workflowTasks.runMs)} | ${a.workflowTasks.count} |`,
    );
  }
  say(
    '\n## Where the teardown time goes (last run, first job): stop accepted → first stopAgent scheduled; stopAgent scheduled → completed (median / max); last stop → workflow end',
  );
  say('\n| scenario | accepted → first stop | stopAgent | last stop → end | accepted → end |');
  say('|---|---:|---:|---:|---:|');
  for (const s of done) {
    const t = s.runs[s.runs.length - 1].analysis?.teardown;
    if (t)
      say(`| ${s.name} | ${f0(t.acceptedToFirstStopMs)} | ${mm(t.stopActivityMs)} | ${f0(t.lastStopToEndMs)} | ${f0(t.acceptedToEndMs)} |`);
  }
  if (results.containers) {
    say('\n## Containers: a2a-deploy container target vs docker-compose (same image)');
    if (results.containers.skipped) say(`skipped: ${results.containers.skipped}`);
    else {
      say('| scenario | docker-compose deploy | a2a-deploy deploy | docker-compose teardown | a2a-deploy teardown |');
      say('|---|---:|---:|---:|---:|');
      for (const c of results.containers.scenarios)
        say(
          c.a2a
            ? `| ${c.name} | ${fmt(c.compose.deploy)} | ${fmt(c.a2a.deploy)} | ${fmt(c.compose.teardown)} | ${fmt(c.a2a.teardown)} |`
            : `| ${c.name} | failed: ${c.error} | | | |`,
        );
    }
  }
  const w = results.workerRestart;
  if (w && !w.error) {
    say('\n## Worker SIGKILL + restart during a deploy (pipeline-5)');
    say(
      `worker back polling: ${fmt(w.workerRestartMs)} ms; kill → next agent started: ${fmt(w.killToProgressMs)} ms (undisturbed: ${fmt(w.undisturbedMs)} ms); stall added: ${fmt(w.stallAddedMs)} ms; whole deploy longer by ${fmt(w.deployAddedMs)} ms`,
    );
    const a = w.runs.find((r) => r.analysis)?.analysis;
    if (a) {
      say(
        `history of a killed run: timed out: ${a.timedOut.join(', ') || 'none'}; retried: ${a.retriedActivities.join(', ') || 'none'}; slowest workflow-task pick-up ${f0(a.slowestWorkflowTaskPickupMs)} ms; events from the kill on:`,
      );
      for (const l of a.timeline) say(`    ${l}`);
    }
  } else if (w?.error) say(`\nworker-restart failed: ${w.error}`);
  for (const idle of done.filter((s) => s.idle)) {
    const i = idle.idle;
    say(
      `\n## Idle watching (${idle.name}, ${idle.agents} agents, ${i.seconds} s): history ${i.eventsBefore} → ${i.eventsAfter} events (+${i.eventsAdded}); worker ${f1(i.workerCpuPct)}% CPU, server ${f1(i.serverCpuPct)}% CPU, worker RSS ${f0(i.workerRssMiB)} MiB; agent restarts so far ${i.agentRestarts}`,
    );
    if (i.eventsAdded) {
      say(
        `  added: ${Object.entries(i.addedByType)
          .map(([k, v]) => `${k} ×${v}`)
          .join(', ')}`,
      );
      for (const [why, n] of Object.entries(i.failures)) say(`  ${n}× ${why}`);
    }
  }
  if (results.worker)
    say(
      `worker memory at the end: RSS ${f0(results.worker.rssMiB)} MiB, peak ${f0(results.worker.hwmMiB)} MiB (pid ${results.worker.pid}; the worker-restart step replaces the worker)`,
    );
  say('\n## Targets');
  for (const t of results.targetsEvaluated)
    say(`- ${t.status.startsWith('met') ? '✅' : t.status.startsWith('MISSED') ? '❌' : '➖'} ${t.target}: ${t.value} — ${t.status}`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
