// Where a worker serves /metrics: `worker --metrics ADDR:PORT`, else A2A_DEPLOY_METRICS, else the
// default of its kind; `off` serves nothing. A host worker defaults to the next port, so a host
// that also runs a main worker (or the embedded background worker) serves both without a clash.
import { InvalidInputError } from '../common/errors';

export const MAIN_WORKER_METRICS_PORT = 9464;
export const HOST_WORKER_METRICS_PORT = 9465;
export const DEFAULT_COLLECT_INTERVAL_MS = 5000;

export interface MetricsAddress {
  host: string;
  port: number;
  /** true when nobody asked for this address: a busy default port is a warning, not an error */
  isDefault: boolean;
}

const LOOPBACK_OR_ANY = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|localhost|\[::1?\]|[a-z0-9.-]+)$/i;

/** `undefined` when metrics are off. */
export function metricsAddress(flag: string | undefined, env = process.env, hostWorker = false): MetricsAddress | undefined {
  const given = flag ?? env.A2A_DEPLOY_METRICS;
  const source = flag !== undefined ? '--metrics' : 'A2A_DEPLOY_METRICS';
  if (given === undefined || given === '') {
    return { host: '127.0.0.1', port: hostWorker ? HOST_WORKER_METRICS_PORT : MAIN_WORKER_METRICS_PORT, isDefault: true };
  }
  if (given.trim().toLowerCase() === 'off') return undefined;
  const m = /^(.*):(\d{1,5})$/.exec(given.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !LOOPBACK_OR_ANY.test(m[1]) || port < 1 || port > 65535) {
    throw new InvalidInputError(
      `${source} '${given}' is not an address to serve metrics on`,
      'give ADDR:PORT (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for a Prometheus on another machine), or off',
    );
  }
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port, isDefault: false };
}

/** How often a main worker reads the running jobs' state (A2A_DEPLOY_METRICS_INTERVAL_MS). */
export function collectIntervalMs(env = process.env): number {
  const raw = env.A2A_DEPLOY_METRICS_INTERVAL_MS;
  if (raw === undefined || raw === '') return DEFAULT_COLLECT_INTERVAL_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100) {
    throw new InvalidInputError(`A2A_DEPLOY_METRICS_INTERVAL_MS '${raw}' is not a whole number of milliseconds of at least 100`);
  }
  return n;
}

export type LogFormat = 'text' | 'json';

export function logFormat(flag: string | undefined, env = process.env): LogFormat {
  const given = flag ?? env.A2A_DEPLOY_LOG_FORMAT ?? 'text';
  if (given === 'text' || given === 'json') return given;
  throw new InvalidInputError(`log format '${given}' is not one of text, json`, 'use --log-format json for one JSON object per line');
}
