// The floor: the least any deployer could do for these job files on this machine, with no
// orchestration at all. It spawns the same agents a2a-deploy would (same program, same
// environment, detached, output to log files), each as soon as every agent it calls is
// healthy, and polls health every few milliseconds; then tears them down callers first
// (SIGTERM, each agent as soon as its callers have exited) and waits for every exit.
//
//   node -r ./bench/register.js bench/floor.ts JOB.yaml [JOB.yaml ...]   (several files: deployed at once)
//
// Prints one JSON line: { deployMs, teardownMs, agents }. Runs in its own process so the
// harness's own polling and memory do not slow it down. It plans the files with a2a-deploy's
// own validate + plan, so the agents get exactly the planned environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentPlan } from '../src/job/plan';
import { loadPlan } from './lib/plan-file';
import { FLOOR_MARKER } from './lib/procfs';

const POLL_MS = 5;

interface Node {
  job: string;
  agent: AgentPlan;
  deps: Node[];
  callers: Node[];
  state: 'waiting' | 'starting' | 'healthy';
  child?: ChildProcess;
  exited?: Promise<unknown>;
}

/** One HTTP GET of the health URL, on a fresh connection; true on 200. */
function healthy(url: string): Promise<boolean> {
  return new Promise((done) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200));
    });
    req.on('error', () => done(false));
    req.on('timeout', () => req.destroy());
  });
}

/** The agent's argv as the local runner builds it: `node <module> args…`, or its command. */
function argvOf(a: AgentPlan): string[] {
  if (a.run.command) return [...a.run.command, ...a.run.args];
  // The benchmark's job files name the agent by its path (bench/lib/topologies.ts).
  return [process.execPath, resolve(a.baseDir, a.run.module!), ...a.run.args];
}

function graph(files: string[]): Node[] {
  const nodes: Node[] = []; // every agent of every plan
  for (const plan of files.map(loadPlan)) {
    const byId = new Map<string, Node>();
    for (const a of Object.values(plan.agents)) byId.set(a.id, { job: plan.job, agent: a, deps: [], callers: [], state: 'waiting' });
    for (const n of byId.values()) {
      n.deps = n.agent.dependsOn.map((d) => byId.get(d)!);
      for (const d of n.deps) d.callers.push(n);
      nodes.push(n);
    }
  }
  return nodes;
}

export async function floor(files: string[]): Promise<{ deployMs: number; teardownMs: number; agents: number }> {
  const nodes = graph(files);
  const logs = mkdtempSync(join(tmpdir(), 'a2a-bench-floor-'));
  const spawnAgent = (n: Node) => {
    const a = n.agent;
    const [program, ...args] = argvOf(a);
    const out = openSync(join(logs, `${n.job}.${a.id}.out`), 'a');
    const err = openSync(join(logs, `${n.job}.${a.id}.err`), 'a');
    const child = spawn(program, args, {
      cwd: a.baseDir,
      // The same environment the local runner gives (its own and the plan's), and a marker of
      // the floor's own, so the harness can find strays if this process dies.
      env: { ...process.env, ...a.env, [FLOOR_MARKER]: `${n.job}/${a.id}` },
      detached: true,
      stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    n.child = child;
    n.exited = new Promise((r) => child.once('exit', r));
    n.state = 'starting';
  };
  const startReady = () => {
    for (const n of nodes) if (n.state === 'waiting' && n.deps.every((d) => d.state === 'healthy')) spawnAgent(n);
  };

  const t0 = performance.now();
  startReady();
  // Poll in rounds: every round probes all started, not yet healthy agents at once, and the next
  // round starts POLL_MS after it ends (so a wide level throttles itself instead of flooding).
  let left = nodes.length;
  while (left > 0) {
    const probing = nodes.filter((n) => n.state === 'starting');
    await Promise.all(
      probing.map(async (n) => {
        if (await healthy(n.agent.healthUrl)) {
          n.state = 'healthy';
          left--;
          startReady(); // dependants start at once, not at the next round
        } else if (n.child!.exitCode !== null) {
          throw new Error(`${n.job}/${n.agent.id} exited with ${n.child!.exitCode} before it was healthy (logs in ${logs})`);
        }
      }),
    );
    if (left > 0) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const deployMs = performance.now() - t0;

  const t1 = performance.now();
  await Promise.all(
    nodes.map(async (n) => {
      await Promise.all(n.callers.map((c) => c.exited)); // callers first
      try {
        process.kill(-n.child!.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await n.exited;
    }),
  );
  const teardownMs = performance.now() - t1;
  rmSync(logs, { recursive: true, force: true });
  return { deployMs, teardownMs, agents: nodes.length };
}

if (require.main === module) {
  floor(process.argv.slice(2)).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err: Error) => {
      process.stderr.write(`floor: ${err.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
