// The worker's observability hook: `startMetrics` runs before the worker is created (the SDK's
// Runtime takes its logger and metrics exporter once, at install), and `runtimeOptions` /
// `workerInterceptors` are what createWorker passes to the SDK.
import { DefaultLogger, type RuntimeOptions, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { connectClient, type TemporalConfig } from '../temporal/connection';
import { InvalidInputError } from '../common/errors';
import { registry } from './instruments';
import { JobCollector } from './job-collector';
import { formatJsonLine, JsonLogger } from './json-logger';
import { logContextInterceptor } from './log-context';
import { collectIntervalMs, logFormat, metricsAddress } from './options';
import { freeLoopbackPort, serveMetrics, type MetricsServer } from './server';

let runtime: RuntimeOptions | undefined;

/** What the worker installs the SDK Runtime with: the readable WARN log unless startMetrics said otherwise. */
export function runtimeOptions(): RuntimeOptions {
  return runtime ?? { logger: new DefaultLogger('WARN') };
}

export function workerInterceptors(): WorkerOptions['interceptors'] {
  return { activity: [logContextInterceptor] };
}

export interface MetricsOptions {
  cfg: TemporalConfig;
  /** set for a host worker */
  host?: string;
  /** --metrics */
  metrics?: string;
  /** --log-format */
  logFormat?: string;
  say?: (line: string) => void;
}

export interface Observability {
  /** where /metrics is served, if it is */
  url?: string;
  json: boolean;
  /** the worker's start-up lines in the chosen log format */
  startupLines(lines: string[]): string;
  /** one line of the worker's own (not the SDK's) in the chosen format: stdout, warnings on stderr in text */
  log(level: 'INFO' | 'WARN', message: string, meta?: { job?: string; agent?: string }): void;
  /** starts reading job state (a main worker's job) once the worker polls */
  collectJobs(): Promise<void>;
  close(): Promise<void>;
}

export async function startMetrics(opts: MetricsOptions): Promise<Observability> {
  const say = opts.say ?? ((l: string) => process.stderr.write(l + '\n'));
  const format = logFormat(opts.logFormat);
  const address = metricsAddress(opts.metrics, process.env, opts.host !== undefined);
  const interval = collectIntervalMs();
  const logger = format === 'json' ? new JsonLogger('INFO') : new DefaultLogger('WARN');
  const obs: Observability = {
    json: format === 'json',
    startupLines: (lines) => lines.map((l) => (format === 'json' ? formatJsonLine('INFO', l, {}) : l) + '\n').join(''),
    log: (level, message, meta = {}) => {
      if (format === 'json') process.stdout.write(formatJsonLine(level, message, meta) + '\n');
      else if (level === 'WARN') process.stderr.write(`a2a-deploy worker: warning: ${message}\n`);
      else process.stdout.write(`${new Date().toISOString()} ${message}\n`);
    },
    collectJobs: async () => undefined,
    close: async () => undefined,
  };
  // The SDK core (Rust) prints its own coloured text to the console unless its logs are
  // forwarded: with JSON asked for, they go through the same logger, one object per line.
  const logging = format === 'json' ? { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } as const } : {};
  if (!address) {
    runtime = { logger, telemetryOptions: { ...logging } };
    return obs;
  }
  let server: MetricsServer;
  const sdkPort = await freeLoopbackPort();
  try {
    server = await serveMetrics(registry, address.host, address.port, `http://127.0.0.1:${sdkPort}/metrics`);
  } catch (err) {
    const why = `cannot serve metrics on ${address.host}:${address.port}: ${(err as Error).message}`;
    if (!address.isDefault) throw new InvalidInputError(why, 'choose another --metrics ADDR:PORT, or --metrics off');
    say(`warning: ${why}; this worker serves no metrics (give --metrics ADDR:PORT to choose a port)`);
    runtime = { logger, telemetryOptions: { ...logging } };
    return obs;
  }
  runtime = {
    logger,
    telemetryOptions: {
      ...logging,
      metrics: {
        prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
      },
    },
  };
  let collector: JobCollector | undefined;
  let client: Client | undefined;
  obs.url = server.url;
  obs.collectJobs = async () => {
    if (opts.host !== undefined || collector) return; // job state is a main worker's to report
    client = await connectClient(opts.cfg);
    collector = new JobCollector({ client, namespace: opts.cfg.namespace, intervalMs: interval });
    collector.start();
  };
  obs.close = async () => {
    await collector?.stop();
    // Closing the connection also ends a query still in flight, which would hold the process.
    await client?.connection.close();
    await server.close();
  };
  return obs;
}
