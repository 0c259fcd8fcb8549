// The system under test: the integration tests' own stack (a Temporal dev server and one
// `a2a-deploy worker`, on ports of their own, in a temporary A2A_DEPLOY_HOME, so a benchmark
// never touches the user's server, worker or agents), plus what the benchmark needs on top: a
// client, the worker's output kept for when it dies, and a check that it is still there.
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startStack, type Stack } from '../../test/integration/support/stack';
import { codecConverter } from '../../src/temporal/codec';

export interface BenchStack {
  shared: Stack;
  env: NodeJS.ProcessEnv;
  address: string;
  serverPid: number;
  client: Client;
  /** where the worker's whole output goes (outside the temporary home, which is removed) */
  workerLog: string;
  workerPid(): number | undefined;
  /** Starts the worker (`a2a-deploy worker`); resolves with how long it took to poll, in ms. */
  startWorker(): Promise<number>;
  /** Throws (with the worker's last output) if the worker under test is gone. */
  checkWorker(): void;
  killWorker(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchStack(port = 27933, uiPort = 28933): Promise<BenchStack> {
  const shared = await startStack(port, uiPort);
  const connection = await Connection.connect({ address: shared.address });
  const workerLog = join(tmpdir(), `a2a-bench-worker-${process.pid}.log`);
  const log = createWriteStream(workerLog, { flags: 'a' });
  let tail = ''; // only the end in memory; everything in the log file
  let ended: string | undefined = 'is not running';
  let closing: Promise<void> | undefined;
  const stack: BenchStack = {
    shared,
    env: shared.env,
    address: shared.address,
    serverPid: shared.serverPid,
    // The worker's own codecs (no keys): big payloads, a 1,000-agent status among them, are compressed.
    client: new Client({ connection, ...codecConverter(undefined) }),
    workerLog,
    workerPid: () => shared.worker?.pid,
    async startWorker() {
      const t0 = performance.now();
      const child = await shared.startWorker();
      const ms = performance.now() - t0;
      ended = undefined;
      const keep = (d: Buffer) => {
        tail = (tail + d.toString()).slice(-20_000);
        log.write(d);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.once('exit', (code, signal) => (ended = `exited with ${signal ?? `code ${code}`}`));
      return ms;
    },
    checkWorker() {
      if (!ended && shared.worker) return;
      throw new Error(
        `the worker ${ended ?? 'is not running'} (whole log: ${workerLog}); its last output:\n${tail.split('\n').slice(-15).join('\n')}`,
      );
    },
    async killWorker(signal = 'SIGKILL') {
      await shared.killWorker(signal);
      ended = `was killed (${signal})`;
    },
    // Once, however often asked: an interrupt and the run's own end may both close it.
    close: () =>
      (closing ??= (async () => {
        try {
          await shared.close();
        } finally {
          await connection.close().catch(() => {});
          log.end();
        }
      })()),
  };
  return stack;
}

/** After a failure: a dead worker is replaced, so that the next scenario can run. */
export async function ensureWorker(stack: BenchStack, say: (line: string) => void): Promise<void> {
  try {
    stack.checkWorker();
  } catch {
    say('  (the worker is gone: starting a new one)');
    await stack.startWorker();
  }
}
