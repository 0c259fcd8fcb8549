// The secret values an agent was actually given when it started. Scrubbing with the values a
// `file:` source holds now would miss the old one after the file changed or went away, while
// the agent keeps printing what it was given: what it writes (logs, stderr tails in status and
// history) is scrubbed of both. Kept in this worker's memory and, for a restarted worker, in
// the agent's folder on this machine, readable by its owner only; never in Temporal.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secretValues } from './agent-env';

const FILE = 'agent.secrets.json';
const given = new Map<string, string[]>();

/** At most this many values are kept per agent folder (the newest): enough for every rotation
 *  whose output its rotated log files can still hold, bounded for an agent restarted for ever. */
const MAX_KEPT = 64;

/**
 * Records the values an agent in `dir` was started with (call before it runs), beside those its
 * earlier starts were given: its log files outlive a restart, so a line printed before the
 * restart with the old value must stay scrubbed after a restart with a rotated one.
 */
export function rememberGiven(dir: string, values: readonly string[]): void {
  const fresh = values.filter((v) => v.length > 0);
  const kept = [...new Set([...givenValues(dir).filter((v) => !fresh.includes(v)), ...fresh])].slice(-MAX_KEPT);
  given.set(dir, kept);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(kept), { mode: 0o600 });
  renameSync(tmp, join(dir, FILE));
}

/** What the agent in `dir` was given, as far as this machine knows (none recorded: nothing). */
export function givenValues(dir: string): string[] {
  const known = given.get(dir);
  if (known) return known;
  try {
    const values = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as unknown;
    if (Array.isArray(values) && values.every((v) => typeof v === 'string')) {
      given.set(dir, values);
      return values;
    }
  } catch {
    /* never recorded here (an agent started before this was kept), or unreadable */
  }
  return [];
}

/** The values to scrub from the output of the agent in `dir`: what it was given, and what its references hold now. */
export function scrubValuesOf(dir: string, agent: { id: string; deployment: { secrets?: Record<string, string> } }): string[] {
  if (!agent.deployment.secrets) return [];
  return [...new Set([...givenValues(dir), ...secretValues(agent.id, agent.deployment.secrets, process.env)])];
}
