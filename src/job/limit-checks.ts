// Rules that no deploy could satisfy, caught in the file rather than at start: a NUL byte in
// any text, an argument or environment value beyond what the OS passes to a program (see
// common/exec-limits.ts), and timeouts an agent could never meet. Run on the raw value, like
// cross-checks.ts, so each is reported at its place with the schema's own problems.
import { AGENT_EXEC_BUDGET, execBytes, execStringProblem } from '../common/exec-limits';
import type { Diagnostic } from './diagnostics';
import { isObj, str } from './raw';
import { DURATION, durationMs } from './schema';
import type { Path, YamlSource } from './yaml-source';

/** The shortest readiness timeout: even a trivial agent needs this long to start and answer. */
export const MIN_HEALTH_TIMEOUT_MS = 1000;
/** The shortest probe interval: below this, probes would be a busy loop. */
export const MIN_HEALTH_INTERVAL_MS = 10;
/** The shortest worker_timeout and restart window Temporal and the restart policy can honour. */
export const MIN_WORKER_TIMEOUT_MS = 1000;

const LARGE_DATA_HINT = 'pass large data in a file (a volume, a path in args, or a file: secret read by the agent itself)';

export function limitChecks(src: YamlSource, raw: Record<string, unknown>): Diagnostic[] {
  const out = nulBytes(src, raw, []);
  const agents = Array.isArray(raw.agents) ? raw.agents : [];
  agents.forEach((a, i) => {
    if (!isObj(a)) return;
    const name = str(a.id) ?? `#${i + 1}`;
    out.push(...execChecks(src, a, i, name), ...timeoutChecks(src, a, i, name));
  });
  return out;
}

/** Every string (and key) holding a NUL byte, wherever it is. */
function nulBytes(src: YamlSource, v: unknown, path: Path): Diagnostic[] {
  if (typeof v === 'string')
    return v.includes('\u0000')
      ? [src.diag(path, 'this text holds a NUL byte (\\0)', 'no program can receive a NUL byte in its arguments or environment; remove it')]
      : [];
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : isObj(v) ? Object.entries(v) : [];
  return entries.flatMap(([k, x]) =>
    typeof k === 'string' && k.includes('\u0000')
      ? [src.diag([...path, k], 'this name holds a NUL byte (\\0)', 'remove it', 'key')]
      : nulBytes(src, x, [...path, k]),
  );
}

/** Each argument and environment value within MAX_ARG_STRLEN, and all of them within ARG_MAX. */
function execChecks(src: YamlSource, a: Record<string, unknown>, i: number, name: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const argv: string[] = [];
  const strings = (field: 'command' | 'args') => (Array.isArray(a[field]) ? (a[field] as unknown[]) : []);
  for (const field of ['command', 'args'] as const)
    strings(field).forEach((s, j) => {
      if (typeof s !== 'string') return;
      argv.push(s);
      const p = s.includes('\u0000') ? undefined : execStringProblem(`argument ${j + 1} of agent '${name}'`, s);
      if (p) out.push(src.diag(['agents', i, field, j], p, LARGE_DATA_HINT));
    });
  const dep = isObj(a.deployment) ? a.deployment : {};
  const env: Record<string, string> = {};
  if (isObj(dep.environment))
    for (const [k, v] of Object.entries(dep.environment)) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) continue;
      env[k] = String(v as string);
      const p = env[k].includes('\u0000') ? undefined : execStringProblem(`${k} of agent '${name}'`, env[k], `${k}=${env[k]}`);
      if (p) out.push(src.diag(['agents', i, 'deployment', 'environment', k], p, LARGE_DATA_HINT));
    }
  const total = execBytes(argv, env);
  if (out.length === 0 && total > AGENT_EXEC_BUDGET)
    out.push(
      src.diag(
        ['agents', i],
        `agent '${name}': its arguments and environment take ${Math.round(total / 1024)} KiB, more than the ${AGENT_EXEC_BUDGET / 1024} KiB the OS leaves for them (ARG_MAX, E2BIG)`,
        LARGE_DATA_HINT,
        'key',
      ),
    );
  return out;
}

/** A duration's milliseconds, or undefined when it is not a valid duration (the schema reports that). */
function ms(v: unknown): number | undefined {
  if (typeof v === 'number' && v > 0) return durationMs(v);
  if (typeof v === 'string' && DURATION.test(v)) return durationMs(v);
  return undefined;
}

const words = (msValue: number) => (msValue < 1000 ? `${msValue}ms` : `${msValue / 1000}s`);

/** Timeouts an agent could never meet. */
function timeoutChecks(src: YamlSource, a: Record<string, unknown>, i: number, name: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const health = isObj(a.config) && isObj(a.config.health) ? a.config.health : {};
  const at = (...p: (string | number)[]): Path => ['agents', i, ...p];
  /** A duration below the shortest that can work: said the same way for each. */
  const tooShort = (path: Path, label: string, value: number | undefined, min: number, why: string, hint: string) => {
    if (value !== undefined && value < min)
      out.push(src.diag(path, `${label} of agent '${name}' is ${words(value)}: ${why} (at least ${words(min)})`, hint));
  };
  const timeout = ms(health.timeout);
  const interval = ms(health.interval);
  tooShort(
    at('config', 'health', 'timeout'),
    'health.timeout',
    timeout,
    MIN_HEALTH_TIMEOUT_MS,
    'no agent can start and answer that fast',
    'give the time the agent needs to become ready, e.g. timeout: 30s (the default), or 90s for a slow start',
  );
  if (interval !== undefined && interval < MIN_HEALTH_INTERVAL_MS)
    out.push(
      src.diag(
        at('config', 'health', 'interval'),
        `health.interval of agent '${name}' is ${words(interval)}: probes need at least ${words(MIN_HEALTH_INTERVAL_MS)} between them`,
        'the default, 100ms, notices readiness quickly; the interval only caps the backoff between probes',
      ),
    );
  const effectiveTimeout = timeout ?? 30_000;
  if (interval !== undefined && effectiveTimeout >= MIN_HEALTH_TIMEOUT_MS && interval >= effectiveTimeout)
    out.push(
      src.diag(
        at('config', 'health', 'interval'),
        `health.interval of agent '${name}' (${words(interval)}) is not shorter than its health.timeout (${words(effectiveTimeout)}): the agent would get a single probe`,
        'make the interval a fraction of the timeout, e.g. interval: 1s with timeout: 30s',
      ),
    );
  const dep = isObj(a.deployment) ? a.deployment : {};
  tooShort(
    at('deployment', 'worker_timeout'),
    'worker_timeout',
    ms(dep.worker_timeout),
    MIN_WORKER_TIMEOUT_MS,
    'a worker cannot pick up work that fast',
    'the default, 2m, leaves a host worker time to reconnect',
  );
  const restart = isObj(a.restart) ? a.restart : {};
  tooShort(
    at('restart', 'window'),
    'restart.window',
    ms(restart.window),
    MIN_WORKER_TIMEOUT_MS,
    'too short to count restarts in',
    'the window is the span max_restarts is counted over, e.g. window: 10m',
  );
  const backoff = ms(restart.backoff);
  const maxBackoff = ms(restart.max_backoff);
  if (backoff !== undefined && maxBackoff !== undefined && maxBackoff < backoff)
    out.push(
      src.diag(
        at('restart', 'max_backoff'),
        `restart.max_backoff of agent '${name}' (${words(maxBackoff)}) is shorter than its backoff (${words(backoff)})`,
        'max_backoff caps the doubling backoff: make it at least the backoff',
      ),
    );
  return out;
}
