// The embedded mode: with no TEMPORAL_ADDRESS, the CLI brings up a local Temporal dev server
// (SQLite under the state directory, so jobs survive restarts) and a worker, in the background,
// and tells the user where they are and how to stop them.
import { Client } from '@temporalio/client';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '../common/wait';
import { homeDir, packageRoot } from '../config/paths';
import { isAlive } from '../process';
import { WORKFLOW_TASK_QUEUE } from '../workflows/api';
import { connectClient, unreachable, type TemporalConfig } from './connection';
import { startWorkerDetached, workerLogFile } from './detached-worker';
import { isTemporalReachable, startDevServerDetached, stopDevServer, temporalBinary } from './dev-server';

/** The embedded mode needs the Temporal CLI; the project's own script installs the pinned one. */
function ensureTemporalCli(say: (line: string) => void) {
  try {
    temporalBinary();
    return;
  } catch {
    say('Installing the pinned Temporal CLI (scripts/install-temporal.sh) ...');
  }
  const r = spawnSync('bash', [join(packageRoot(), 'scripts', 'install-temporal.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('installing the Temporal CLI failed (see above)');
}

export { liveDetachedWorker, startWorkerDetached, stopWorkerDetached, workerLogFile, workerPidFile } from './detached-worker';

/** Connects, starting the embedded server and worker first when this is the embedded mode. */
export async function connectForJobs(cfg: TemporalConfig, opts: { needWorker: boolean; say?: (line: string) => void }): Promise<Client> {
  const say = opts.say ?? ((l: string) => process.stderr.write(l + '\n'));
  // The state home: the configuration's (an API caller's choice), else A2A_DEPLOY_HOME's.
  const home = cfg.home ?? homeDir();
  if (cfg.embedded && process.env.A2A_DEPLOY_NO_AUTOSTART !== '1') {
    if (!(await isTemporalReachable(cfg.address))) {
      say(`Starting the embedded Temporal dev server (state in ${home}) ...`);
      try {
        ensureTemporalCli(say);
        const s = await startDevServerDetached({ stateDir: home });
        say(`  Temporal ${s.address}, Web UI ${s.uiUrl} (pid ${s.pid}, log ${s.logFile}); stop with: a2a-deploy server --stop`);
      } catch (err) {
        throw unreachable(cfg, err);
      }
    }
  }
  const client = await connectClient(cfg);
  try {
    await client.workflowService.getSystemInfo({});
  } catch (err) {
    throw unreachable(cfg, err);
  }
  if (opts.needWorker && !(await hasWorker(client, cfg))) {
    if (cfg.embedded && process.env.A2A_DEPLOY_NO_AUTOSTART !== '1') {
      const started = await startWorkerDetached({ home });
      if ('exitCode' in started) throw new Error(`the background worker exited at once; see ${started.log}:\n${started.output.trim()}`);
      // (One that runs already but has not registered yet is still starting: it is waited for.)
      const pid = started.ok ? started.pid : started.running;
      say(
        `${started.ok ? 'Started a' : 'Waiting for the'} background worker (pid ${pid}, log ${started.log}); stop with: a2a-deploy worker --stop`,
      );
      await waitForWorker(client, cfg, 30_000, home);
    } else {
      say(`warning: no worker polls task queue '${WORKFLOW_TASK_QUEUE}' yet; run \`a2a-deploy worker\` where agents should run`);
    }
  }
  return client;
}

export async function hasWorker(client: Client, cfg: TemporalConfig): Promise<boolean> {
  // The embedded worker is ours: a live registered process is the truth. The server's
  // poller list remembers workers for a while after they die, so elsewhere only a recent poll counts.
  if (cfg.embedded) return liveLocalWorkers(cfg.home).length > 0;
  const res = await client.workflowService.describeTaskQueue({
    namespace: cfg.namespace,
    taskQueue: { name: WORKFLOW_TASK_QUEUE },
    taskQueueType: 1,
  });
  const cutoff = Date.now() - 70_000;
  return (res.pollers ?? []).some((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= cutoff);
}

const workersDir = (home = homeDir()) => join(home, 'workers');

/** Called by a worker process on this machine: registers it until it exits. */
export function registerLocalWorker(host?: string): () => void {
  mkdirSync(workersDir(), { recursive: true });
  // Host workers register too (for `worker --stop`), but only a main worker runs workflows.
  const file = join(workersDir(), `${process.pid}.${host ? `host-${host}` : 'main'}.pid`);
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

export function liveLocalWorkers(home = homeDir()): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(workersDir(home));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.main.pid'))
    .filter((n) => {
      if (isAlive(Number(n.split('.')[0]))) return true;
      rmSync(join(workersDir(home), n), { force: true });
      return false;
    })
    .map((n) => Number(n.split('.')[0]));
}

async function waitForWorker(client: Client, cfg: TemporalConfig, ms: number, home: string) {
  const polling = async () => {
    const res = await client.workflowService.describeTaskQueue({
      namespace: cfg.namespace,
      taskQueue: { name: WORKFLOW_TASK_QUEUE },
      taskQueueType: 1,
    });
    return (res.pollers ?? []).length > 0;
  };
  if (await waitUntil(polling, ms, { fastPollMs: 100, pollMs: 100 })) return;
  throw new Error(`the background worker did not start polling within ${ms} ms; see ${workerLogFile(home)}`);
}

export { stopDevServer };
