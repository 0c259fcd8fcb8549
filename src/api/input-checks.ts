// The JobManager's arguments checked at the edge: a caller of the TypeScript API may pass any
// value (JavaScript, a JSON body, a cast), so every method checks what it got before anything
// acts on it, and a wrong value is an InvalidInputError that says what it was, never a
// TypeError or RangeError from deep inside.
import { parseDuration } from '../common/duration';
import { SAFE_ID } from '../config/names';
import { planProblems } from '../job/plan-check';
import type { DeployPlan } from '../job/plan';
import { InvalidInputError } from './errors';

const NAME_HINT = 'job names are 1-63 characters: a-z, 0-9 and -, starting with a letter';

/** What a value is, for a message: short, and never the value of something large. */
export function described(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 63 ? `'${v.slice(0, 63)}…'` : `'${v}'`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return `${typeof v} ${String(v)}`;
}

/** A job (or agent) name: a string following the job file's rule (config/names SAFE_ID). */
export function checkName(v: unknown, what: 'job' | 'agent' = 'job'): string {
  if (typeof v !== 'string' || !SAFE_ID.test(v))
    throw new InvalidInputError(`${described(v)} is not ${what === 'job' ? 'a job' : 'an agent'} name`, NAME_HINT.replace('job', what));
  return v;
}

/** A plain object (not null, not a list), or InvalidInputError naming `what`. */
export function checkObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new InvalidInputError(`${what} must be an object, not ${described(v)}`);
  return v as Record<string, unknown>;
}

/** How deep and how big a parsed job may be: far beyond any job file, short of a stack overflow. */
const MAX_DEPTH = 64;
const MAX_NODES = 2_000_000;

/**
 * A parsed job must be data, as YAML or JSON gives it: no cycles, no absurd nesting (either
 * would overflow the stack in the YAML rendering that locates its problems).
 */
export function checkJobObject(v: unknown): void {
  const input = checkObject(v, 'a job');
  checkObject(input.job, "a job object's `job`");
  if (input.sourceFile !== undefined && typeof input.sourceFile !== 'string')
    throw new InvalidInputError(`sourceFile must be a string, not ${described(input.sourceFile)}`);
  const onPath = new Set<object>();
  let nodes = 0;
  const walk = (x: unknown, depth: number): void => {
    if (x === null || typeof x !== 'object') return;
    if (++nodes > MAX_NODES) throw new InvalidInputError(`the job object has more than ${MAX_NODES} values`, 'is it a job?');
    if (depth > MAX_DEPTH)
      throw new InvalidInputError(`the job object is nested more than ${MAX_DEPTH} levels deep`, 'a job file needs a few levels');
    if (onPath.has(x))
      throw new InvalidInputError('the job object is circular (it contains itself)', 'pass data, as a YAML or JSON parser gives it');
    onPath.add(x);
    for (const child of Object.values(x)) walk(child, depth + 1);
    onPath.delete(x);
  };
  walk(input.job, 0);
}

/** A job file path, or a parsed job. */
export function checkJobInput(v: unknown): void {
  if (typeof v === 'string') {
    if (v === '') throw new InvalidInputError('the job file path is empty');
    return;
  }
  checkJobObject(v);
}

/** Whether `start` was given a plan (from `plan()`) rather than a job. */
export const isPlanInput = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && 'stages' in v && 'agents' in v && 'entry' in v && !('job' in v && typeof v.job === 'object');

/** A plan handed to `start`: deployable as it is, or InvalidInputError listing what is wrong. */
export function checkPlan(v: unknown): DeployPlan {
  const problems = planProblems(v);
  if (problems.length > 0)
    throw new InvalidInputError(
      `not a deploy plan: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
      'pass a plan from JobManager.plan(), unchanged, or the job itself',
    );
  return v as DeployPlan;
}

/** Optional options: undefined, or an object. */
export function checkOptions<T>(v: T | undefined | null, what: string): T | Record<string, never> {
  if (v === undefined) return {};
  return checkObject(v, what) as T;
}

/** The longest `prune --older-than`: a cutoff before 1970 would not be a date. */
const MAX_AGE_MS = 100 * 365 * 86_400_000;

/** prune's olderThan: milliseconds or a duration, positive and at most a century. */
export function checkOlderThan(v: unknown): number {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || !(ms > 0))
    throw new InvalidInputError(`olderThan ${described(v)} is not a duration`, 'e.g. 7d, 12h, 30m (or milliseconds, a positive number)');
  if (ms > MAX_AGE_MS)
    throw new InvalidInputError(
      `olderThan ${typeof v === 'number' ? `${v} ms` : described(v)} is more than a century`,
      'e.g. 365d; nothing is older than that',
    );
  return ms;
}

/** The longest send waits: a day (beyond it Node's timers overflow). */
const MAX_TIMEOUT_MS = 86_400_000;

/** send's timeoutMs: a positive number of milliseconds, at most a day. */
export function checkTimeoutMs(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > MAX_TIMEOUT_MS)
    throw new InvalidInputError(
      `timeoutMs ${described(v)} is not a timeout`,
      `a positive number of milliseconds, at most ${MAX_TIMEOUT_MS}`,
    );
  return v;
}

/** restart's agents: a list of agent names (none: every agent). */
export function checkAgentList(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v))
    throw new InvalidInputError(`agents must be a list of agent names, not ${described(v)}`, `e.g. restart('job', ['agent'])`);
  return v.map((a) => checkName(a, 'agent'));
}
