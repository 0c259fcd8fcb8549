// What an agent's process environment holds, decided in one place for every runner:
// a minimal base from the worker (PATH, HOME, locale...), the worker variables the job file
// names in `inherit_env`, the plan's environment (its own and the injected AGENT_* wiring),
// the secrets resolved on this machine at start time, and the runner's markers. Never the
// rest of the worker's environment (TEMPORAL_*, A2A_DEPLOY_*, npm_*...).
//
// Secrets travel as references (`file:PATH`, `env:NAME`) through the plan and Temporal; only
// the worker that starts the agent reads their values, and what an agent prints back (stderr
// tails in status, error messages) is scrubbed of them.
import { ApplicationFailure } from '@temporalio/common';
import { readFileSync } from 'node:fs';

/** Worker variables every agent gets: what a program needs to run, nothing that grants access
 *  (and LC_*). A remote agent gets these from its host's login environment instead. */
export const BASE_NAMES = ['PATH', 'HOME', 'USER', 'LANG', 'TZ', 'TMPDIR'];
const isBaseName = (name: string) => BASE_NAMES.includes(name) || name.startsWith('LC_');

/** A secret reference as job files write it (defined with the schema that checks it). */
export { SECRET_REF } from '../job/schema';

export class SecretError extends Error {}

export interface AgentEnvInput {
  /** the worker's own environment (process.env) */
  workerEnv: NodeJS.ProcessEnv;
  /** worker variables passed through by name (deployment.inherit_env) */
  inherit?: readonly string[];
  /** the plan's environment: the job file's plus AGENT_*, CONNECTED_AGENTS, A2A_PEERS, A2A_JOB */
  planEnv: Record<string, string>;
  /** resolved secret values by variable name */
  secrets?: Record<string, string>;
  /** the runner's own markers (identity, spec hash, server): not credentials */
  markers?: Record<string, string>;
  /** false for a container, whose image brings its own PATH, HOME...: only inherit_env crosses over */
  base?: boolean;
}

export function buildAgentEnv(input: AgentEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  if (input.base !== false) for (const [k, v] of Object.entries(input.workerEnv)) if (v !== undefined && isBaseName(k)) env[k] = v;
  for (const k of input.inherit ?? []) {
    const v = input.workerEnv[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...input.planEnv, ...input.secrets, ...input.markers };
}

/** A secret file's value: its text without one trailing newline, wherever it was read. */
export const secretFileText = (text: string) => text.replace(/\r?\n$/, '');

/**
 * Reads each secret reference on this machine: `file:PATH` (absolute: the plan resolved it
 * against the job file's folder; one trailing newline stripped) or `env:NAME` (a variable of this worker). Errors name the agent and the
 * reference, never a value.
 */
export function resolveSecrets(
  agentId: string,
  refs: Readonly<Record<string, string>> | undefined,
  workerEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs ?? {})) {
    const where = `secret ${name} of agent '${agentId}' (${ref})`;
    if (ref.startsWith('env:')) {
      const v = workerEnv[ref.slice(4)];
      if (v === undefined) throw new SecretError(`${where}: the worker has no variable ${ref.slice(4)}`);
      out[name] = v;
    } else if (ref.startsWith('file:')) {
      const file = ref.slice(5);
      try {
        out[name] = secretFileText(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new SecretError(`${where}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else throw new SecretError(`${where}: a secret is 'file:PATH' or 'env:NAME'`);
  }
  return out;
}

/** `env:` references apart from `file:` paths (by variable name): the SSH runner resolves the
 *  former on the worker and has the host read the latter. */
export function splitSecretRefs(refs: Readonly<Record<string, string>> | undefined): {
  env: Record<string, string>;
  files: Record<string, string>;
} {
  const env: Record<string, string> = {};
  const files: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs ?? {})) {
    if (ref.startsWith('file:')) files[name] = ref.slice(5);
    else env[name] = ref;
  }
  return { env, files };
}

/** resolveSecrets for an activity: a missing secret fails the agent's deploy at once, no retry can fix it. */
export function resolveSecretsOrFail(...args: Parameters<typeof resolveSecrets>): Record<string, string> {
  try {
    return resolveSecrets(...args);
  } catch (err) {
    if (err instanceof SecretError) throw ApplicationFailure.nonRetryable(err.message, 'SecretError');
    throw err;
  }
}

/** The secret values to scrub for an agent; a reference that cannot be read now hides nothing. */
export function secretValues(...[agentId, refs, workerEnv]: Parameters<typeof resolveSecrets>): string[] {
  const values: string[] = [];
  for (const [name, ref] of Object.entries(refs ?? {})) {
    try {
      values.push(...Object.values(resolveSecrets(agentId, { [name]: ref }, workerEnv)));
    } catch {
      /* unreadable: nothing of it can be in the output either */
    }
  }
  return values;
}

/** An agent's log lines as `logs` reads them: they travel through Temporal, so its secret values are hidden. */
export function scrubLogs<T extends { stdout: string; stderr: string }>(
  chunk: T,
  agent: { id: string; deployment: { secrets?: Record<string, string> } },
): T {
  return scrubLogsWith(chunk, secretValues(agent.id, agent.deployment.secrets, process.env));
}

/**
 * scrubLogs with the values given (e.g. those the agent was started with, given-secrets.ts).
 * A chunk may end inside a secret (the agent wrote it in two parts, or the chunk was cut):
 * such an end, the start of a secret, is held back, not returned and not counted in the
 * offsets, so the next read gets it whole with the rest and scrubs it.
 */
export function scrubLogsWith<T extends { stdout: string; stderr: string; offsets?: { stdout: number; stderr: number } }>(
  chunk: T,
  values: readonly string[],
): T {
  if (values.length === 0) return chunk;
  const out = { ...chunk, ...(chunk.offsets ? { offsets: { ...chunk.offsets } } : {}) };
  for (const stream of ['stdout', 'stderr'] as const) {
    const held = chunk.offsets ? secretStartAtEnd(chunk[stream], values) : 0;
    const text = chunk[stream].slice(0, chunk[stream].length - held);
    if (held > 0) out.offsets![stream] -= Buffer.byteLength(chunk[stream].slice(text.length));
    out[stream] = scrub(text, values);
  }
  return out;
}

/** How many characters at the end of `text` (of its last, unfinished line) could begin a secret value. */
export function secretStartAtEnd(text: string, values: readonly string[]): number {
  const line = text.slice(text.lastIndexOf('\n') + 1);
  let longest = 0;
  for (const v of values)
    for (let n = Math.min(line.length, v.length - 1); n > longest; n--)
      if (line.endsWith(v.slice(0, n))) {
        longest = n;
        break;
      }
  return longest;
}

export const REDACTED = '[secret]';

/** Replaces every occurrence of a secret value (longest first, so no part of one survives). */
export function scrub(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of [...values].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
  return out;
}
