// A worker polls the job workflows' task queue and runs the runner activities on this machine.
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities, type ActivityDeps } from '../activities';
import { serverMarkerOf } from '../activities/markers';
import { SshPool } from '../activities/ssh';
import { hostTaskQueue, WORKFLOW_TASK_QUEUE } from '../config/names';
import { homeDir } from '../config/paths';
import { hostname } from 'node:os';
import { EncryptionCodec, KeylessCodec, payloadCodecsFor } from '../temporal/codec';
import { ReportingCodec, undecryptableJobs } from '../temporal/undecryptable';
import { keyRingFor } from '../temporal/codec-keys';
import { ENCRYPTING_MARK } from '../temporal/codec';
import { temporalConfig, type TemporalConfig } from '../temporal/connection';
import { runtimeOptions, workerInterceptors } from '../metrics';
import { InvalidInputError } from '../common/errors';

let runtimeInstalled = false;

const DEFAULT_MAX_ACTIVITIES = 200;
const HEARTBEAT_EVERY = '2s';
/** How many activities (agent starts, stops, watches) a worker runs at once: A2A_DEPLOY_MAX_ACTIVITIES, default 200. */
export function maxActivities(env = process.env): number {
  const raw = env.A2A_DEPLOY_MAX_ACTIVITIES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_ACTIVITIES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidInputError(`A2A_DEPLOY_MAX_ACTIVITIES '${raw.slice(0, 20)}' is not a whole number from 1 to 10000`);
  return n;
}

/** The prebuilt bundle when there is one (npm run build makes it), else bundle at start. */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = join(__dirname, '..', 'workflow-bundle.js');
  return existsSync(bundle) ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../workflows') };
}

/**
 * The main worker runs job workflows and the agents of this machine; a host worker
 * (`host` set) runs only the activities of the agents placed on that host, pulled from the
 * host's own task queue, so the host needs outbound access to Temporal and nothing else.
 */
/** What the activities are built from: made once per worker, here and nowhere else. The server
 *  marker is computed once (it reads Temporal's environment), not on every spawn. */
export function activityDeps(cfg: TemporalConfig, marker: string): ActivityDeps {
  // The Docker client connects on first use, so a worker without an engine starts fine.
  return { home: homeDir(), serverMarker: marker, docker: new Docker(), sshPool: new SshPool() };
}

export async function createWorker(cfg: TemporalConfig = temporalConfig(), opts: { host?: string } = {}): Promise<Worker> {
  // First: a missing or bad key file is an input error (exit 2), not "cannot reach Temporal"
  // (and before the SDK's Runtime exists, which would keep the process alive after it).
  const keys = keyRingFor(cfg);
  if (!runtimeInstalled) {
    // The SDK's logging stays at warnings (the CLI prints what a person needs) unless
    // `worker --log-format json` asked for JSON lines; metrics exporter per `worker --metrics`.
    Runtime.install(runtimeOptions());
    runtimeInstalled = true;
  }
  const connection = await NativeConnection.connect({
    address: cfg.address,
    ...(cfg.tls ? { tls: cfg.tls } : {}),
    ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
  });
  const worker = await Worker.create({
    connection,
    namespace: cfg.namespace,
    taskQueue: opts.host ? hostTaskQueue(opts.host) : WORKFLOW_TASK_QUEUE,
    ...(opts.host ? {} : workflowSource()),
    activities: createActivities(activityDeps(cfg, await serverMarkerOf(connection.workflowService, cfg))),
    // The poller identity says whether this worker encrypts, so a client without a key can
    // refuse to submit a plan in clear that the worker would not read (refuseKeylessSubmit in api/jobs.ts).
    identity: workerIdentity(keys !== undefined),
    // Payloads are decrypted and encrypted here, outside the workflow sandbox (codec.ts); a
    // job this worker cannot decrypt is dealt with in undecryptable.ts. Failures go through
    // the codec as well (failure-converter.ts; the workflow bundle has the same converter). Big
    // payloads are compressed (compression.ts).
    dataConverter: {
      payloadCodecs: payloadCodecsFor(
        keys,
        new ReportingCodec(
          keys ? new EncryptionCodec(keys) : new KeylessCodec(),
          undecryptableJobs(connection.workflowService, cfg.namespace, (message, meta) => Runtime.instance().logger.error(message, meta)),
        ),
      ),
      failureConverterPath: require.resolve('../temporal/failure-converter'),
    },
    interceptors: workerInterceptors(),
    // Agents are started in parallel; each deployAgent holds its slot while its agent boots.
    // More slots do not help a wide level: spawns share this one thread, and with 2,000 slots
    // the 250 agents of a level started at once and some missed their 5 s heartbeat (the
    // benchmark's job-1000 failed). 200 keeps the work in flight within what the thread serves.
    // A2A_DEPLOY_MAX_ACTIVITIES lowers it (the priority test saturates a worker with it).
    maxConcurrentActivityTaskExecutions: maxActivities(),
    shutdownGraceTime: '2s',
    // Heartbeats reach Temporal every 2 s at most (by default 80% of the 10 s heartbeat timeout,
    // 8 s, leaving no slack): see HEARTBEAT in workflows/agent-steps.ts for the numbers.
    maxHeartbeatThrottleInterval: HEARTBEAT_EVERY,
    defaultHeartbeatThrottleInterval: HEARTBEAT_EVERY,
    // A workflow task waits this long on a dead worker's sticky queue before any worker may
    // take it (10 s by default). A replaced worker resumes its jobs that much sooner; the cost
    // is an occasional full-history replay when a busy worker is slower than this to pick up.
    stickyQueueScheduleToStartTimeout: '3s',
  });
  if (!opts.host) await releaseStickyQueues(connection, cfg.namespace);
  return worker;
}

/** The SDK's default identity (pid@host), marked when the worker encrypts payloads. */
export const workerIdentity = (encrypts: boolean) => `${process.pid}@${hostname()}${encrypts ? ` ${ENCRYPTING_MARK}` : ''}`;

/**
 * A worker that died (SIGKILL, a crash) leaves its jobs' next workflow tasks pinned to its own
 * sticky queue until the sticky timeout passes. A new main worker releases every running job
 * from whatever sticky queue it had, so the jobs move on as soon as this worker polls. (A live
 * worker elsewhere only loses its cache for these jobs: their next task replays the history.)
 */
async function releaseStickyQueues(connection: NativeConnection, namespace: string): Promise<void> {
  try {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.listWorkflowExecutions({
        namespace,
        query: `ExecutionStatus = 'Running' AND TaskQueue = '${WORKFLOW_TASK_QUEUE}'`,
        pageSize: 1000,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      await Promise.all(
        page.executions.map((e) =>
          connection.workflowService.resetStickyTaskQueue({ namespace, execution: e.execution }).catch(() => undefined),
        ),
      );
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  } catch {
    // Only an optimisation: without it the jobs resume after the sticky timeout.
  }
}
