// The resource limits of each agent (deployment.cpus, memory, pids), checked for plausible
// ranges and for what its target can enforce. The schema checks the syntax (256m, 1g, 0.5); this
// says when a value cannot work (a 256-byte limit, a thousandth of a core), or is more than this
// machine has (a warning only: a host worker's or the Docker host's machine may be bigger).
// Run on the raw value, like limit-checks.ts, so each is reported at its place.
import { availableParallelism, totalmem } from 'node:os';
import type { Diagnostic } from './diagnostics';
import { isObj, str } from './raw';
import { SIZE, sizeBytes } from './schema';
import type { YamlSource } from './yaml-source';

/** No program starts within less: the kernel kills it at once. */
export const MIN_MEMORY_BYTES = 4 * 1024 ** 2;
export const MAX_MEMORY_BYTES = 1024 ** 4; // 1 TiB
/** The kernel's smallest CPU quota is 1 ms per 100 ms period. */
export const MIN_CPUS = 0.01;
export const MAX_CPUS = 1024;
/** The kernel's pid_max ceiling. */
export const MAX_PIDS = 4_194_304;
/** A Node agent runs about a dozen threads before it does anything (libuv's pool, V8's workers). */
export const NODE_MIN_PIDS = 16;

export interface HostResources {
  memoryBytes: number;
  cpus: number;
}
export const thisHost = (): HostResources => ({ memoryBytes: totalmem(), cpus: availableParallelism() });

const mib = (b: number) => `${Math.round(b / 1024 ** 2)}m`;
const gib = (b: number) => `${Math.round((b / 1024 ** 3) * 10) / 10}g`;

export function resourceChecks(src: YamlSource, raw: Record<string, unknown>, host: HostResources = thisHost()): Diagnostic[] {
  const out: Diagnostic[] = [];
  const agents = Array.isArray(raw.agents) ? raw.agents : [];
  agents.forEach((a, i) => {
    if (!isObj(a) || !isObj(a.deployment)) return;
    const d = a.deployment;
    const name = str(a.id) ?? `#${i + 1}`;
    const target = str(d.target) ?? 'localhost';
    const at = (f: string) => ['agents', i, 'deployment', f];
    // This machine is the one that runs it only for a local agent without a host worker, or a container.
    const here = (target === 'localhost' && d.worker === undefined) || target === 'container';
    const warn = (f: string, message: string, hint: string) => out.push(src.diag(at(f), message, hint, 'value', 'warning'));

    if (typeof d.memory === 'string' && SIZE.test(d.memory.trim())) {
      const bytes = sizeBytes(d.memory)!;
      if (bytes < MIN_MEMORY_BYTES)
        out.push(
          src.diag(
            at('memory'),
            `memory of agent '${name}' is ${bytes < 1024 ** 2 ? `${bytes} bytes` : d.memory}: no program starts within less than ${mib(MIN_MEMORY_BYTES)}`,
            /^\d+$/.test(d.memory.trim())
              ? `a size without a unit is bytes: did you mean '${d.memory.trim()}m'?`
              : "give a size like '256m' or '1g'",
          ),
        );
      else if (bytes > MAX_MEMORY_BYTES)
        out.push(
          src.diag(
            at('memory'),
            `memory of agent '${name}' is ${d.memory}: more than ${gib(MAX_MEMORY_BYTES)} is not a plausible limit`,
            "give a size like '256m' or '4g'",
          ),
        );
      else if (here && bytes > host.memoryBytes)
        warn(
          'memory',
          `memory of agent '${name}' (${d.memory}) is more than this machine has (${gib(host.memoryBytes)})`,
          'the limit will never be reached here: the machine runs out first',
        );
    }
    if (typeof d.cpus === 'number' && d.cpus > 0) {
      if (d.cpus < MIN_CPUS)
        out.push(
          src.diag(
            at('cpus'),
            `cpus of agent '${name}' is ${d.cpus}: the kernel cannot give less than ${MIN_CPUS} of a core`,
            'give a share of a core like 0.1 or 0.5, or whole cores like 2',
          ),
        );
      else if (d.cpus > MAX_CPUS)
        out.push(
          src.diag(
            at('cpus'),
            `cpus of agent '${name}' is ${d.cpus}: more than ${MAX_CPUS} cores is not a plausible limit`,
            'give the cores the agent may use, e.g. 0.5 or 2',
          ),
        );
      else if (here && d.cpus > host.cpus)
        warn(
          'cpus',
          `cpus of agent '${name}' (${d.cpus}) is more than this machine's ${host.cpus} cores`,
          'the limit will never be reached here: the agent can use every core',
        );
    }
    if (typeof d.pids === 'number' && Number.isInteger(d.pids) && d.pids > 0) {
      if (d.pids > MAX_PIDS)
        out.push(
          src.diag(
            at('pids'),
            `pids of agent '${name}' is ${d.pids}: more than the kernel's ${MAX_PIDS} processes`,
            'give the most processes and threads the agent needs, e.g. 64',
          ),
        );
      else if (a.module !== undefined && d.pids < NODE_MIN_PIDS)
        warn(
          'pids',
          `pids of agent '${name}' is ${d.pids}: a Node agent runs about a dozen threads before doing anything`,
          `give at least ${NODE_MIN_PIDS}, e.g. 64, or it may fail to start`,
        );
      if (target === 'kubernetes')
        out.push(
          src.diag(
            at('pids'),
            `pids is not enforced on kubernetes (agent '${name}')`,
            "a pod's process limit is the kubelet's podPidsLimit, set per node: remove pids here",
          ),
        );
    }
  });
  return out;
}
