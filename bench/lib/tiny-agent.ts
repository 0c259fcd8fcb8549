// The 5,000-agent scenario's agent: test/fixtures/agents/tiny-agent.c, built with the system's C
// compiler (Debian's gcc here) into the bench's work folder. Its absence fails the scenario
// loudly (a scenario that cannot run is a failure, never a skip).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AGENT_DIR } from './topologies';

const built = new Map<string, string>();

/** The path of the built tiny agent in `dir`; throws with the compiler's own words when it cannot be built. */
export function tinyAgent(dir: string): string {
  const known = built.get(dir);
  if (known) return known;
  const out = join(dir, 'tiny-agent');
  const r = spawnSync('cc', ['-O2', '-o', out, join(AGENT_DIR, 'tiny-agent.c')], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`cannot build the tiny agent with cc (install gcc): ${(r.stderr || r.error?.message || '').trim().slice(0, 300)}`);
  built.set(dir, out);
  return out;
}
