// The system under test, set up like test/integration/support/stack.ts: a Temporal dev server
// and one a2a-deploy worker, on non-default ports, in a temporary A2A_DEPLOY_HOME, so a
// benchmark never touches the user's own server, worker or agents.
'use strict';
const { spawn } = require('node:child_process');
const { createWriteStream, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ROOT, dist, sleep } = require('./common');

const CLI = join(ROOT, 'bin', 'a2a-deploy.js');

async function startStack({ port = 27933, uiPort = 28933 } = {}) {
  const { startDevServerDetached, stopDevServer } = dist('temporal/dev-server');
  const { Client, Connection } = require('@temporalio/client');
  const home = mkdtempSync(join(tmpdir(), 'a2a-bench-'));
  const server = await startDevServerDetached({ stateDir: home, port, uiPort });
  const env = { ...process.env, A2A_DEPLOY_HOME: home, TEMPORAL_ADDRESS: server.address, TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}` };
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });

  const stack = {
    home,
    env,
    server,
    client,
    worker: undefined,
    workerLog: join(tmpdir(), `a2a-bench-worker-${process.pid}.log`),
    /** Starts the worker (`a2a-deploy worker`) and resolves once it polls. */
    async startWorker() {
      const t0 = performance.now();
      // BENCH_WORKER_NODE_ARGS reaches the worker alone (not the agents it spawns), e.g.
      // '--cpu-prof --cpu-prof-dir=/tmp/prof' to see where its time goes (bench/profile-summary.js).
      const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const child = spawn(process.execPath, [...nodeArgs, CLI, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      // Keep only the tail in memory (a chatty worker must never block on a full pipe), and
      // everything in a log file outside the temporary home: it explains a worker that died.
      const log = createWriteStream(stack.workerLog, { flags: 'a' });
      const keep = (d) => {
        out = (out + d).slice(-20_000);
        log.write(d);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const deadline = Date.now() + 60_000;
      while (!out.includes('Worker polling')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start: ${out}`);
        await sleep(5);
      }
      child.once('exit', (code, signal) => (child.ended = `exited with ${signal ?? `code ${code}`}`));
      stack.worker = child;
      stack.workerOutput = () => out;
      return performance.now() - t0;
    },
    /** Throws (with the worker's last output) if the worker under test is gone. */
    checkWorker() {
      const w = stack.worker;
      if (w && !w.ended) return;
      throw new Error(
        `the worker ${w ? w.ended : 'is not running'} (whole log: ${stack.workerLog}); its last output:\n${stack.workerOutput().split('\n').slice(-15).join('\n')}`,
      );
    },
    workerOutput: () => '',
    async killWorker(signal = 'SIGKILL') {
      const w = stack.worker;
      if (!w || w.exitCode !== null) return;
      const exited = new Promise((r) => w.once('exit', r));
      w.kill(signal);
      await exited;
      stack.worker = undefined;
    },
    async close() {
      await stack.killWorker('SIGTERM').catch(() => {});
      await connection.close().catch(() => {});
      await stopDevServer(home);
      rmSync(home, { recursive: true, force: true });
    },
  };
  return stack;
}

module.exports = { startStack, CLI };
