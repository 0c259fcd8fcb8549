// An agent's resource limits on this machine (local and host-worker agents): its cgroups made
// before the start (the refusal in words where none can be had), the join wrapper around its
// argv, the words of an out-of-memory kill, and its usage for status and /metrics. The cgroup
// mechanics are in process/cgroups.ts; this is what the local runner asks of them.
import { ApplicationFailure } from '@temporalio/activity';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { DeploymentPlan } from '../job/plan';
import { sizeBytes } from '../job/schema';
import { forgetAgentUsage, recordUsage } from '../metrics/instruments';
import {
  CgroupError,
  cgroupLayout,
  hasLimits,
  joinArgv,
  knownLayout,
  listGroups,
  mechanismOf,
  oomWords,
  prepareGroup,
  readUsage,
  removeGroup,
  type Limits,
  type Usage,
} from '../process/cgroups';

/** The limits a deployment asks for (none: an empty object). */
export function limitsOf(d: Pick<DeploymentPlan, 'cpus' | 'memory' | 'pids'>): Limits {
  const memoryBytes = d.memory !== undefined ? sizeBytes(d.memory) : undefined;
  return {
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    ...(d.cpus !== undefined ? { cpus: d.cpus } : {}),
    ...(d.pids !== undefined ? { pids: d.pids } : {}),
  };
}

const refusal = (agentId: string, why: string, hint: string) =>
  ApplicationFailure.nonRetryable(`agent '${agentId}' cannot be started with its limits: ${why} (hint: ${hint})`, 'AgentLimitsError');

/** Refuses at once, before anything is stopped or started, when this machine cannot apply the agent's limits. */
export function refuseUnlimitable(agentId: string, limits: Limits): void {
  if (!hasLimits(limits)) return;
  const layout = cgroupLayout();
  if (layout.version === 0) throw refusal(agentId, layout.reason, layout.hint);
}

/** The command's absence in words: behind the join wrapper, spawn itself would no longer say ENOENT. */
function refuseMissingCommand(agentId: string, program: string, pathVar: string | undefined, cwd: string): void {
  const runnable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const found = program.includes('/')
    ? runnable(isAbsolute(program) ? program : resolve(cwd, program))
    : (pathVar ?? '').split(delimiter).some((dir) => dir && runnable(join(isAbsolute(dir) ? dir : resolve(cwd, dir), program)));
  if (!found)
    throw ApplicationFailure.nonRetryable(
      `agent '${agentId}' cannot be started: command ${JSON.stringify(program)} not found or not executable (looked in PATH, from ${cwd})`,
      'AgentSpecError',
    );
}

/**
 * Makes the agent's groups with its limits and returns the argv that joins them before the
 * agent's first instruction (or argv itself for an agent without limits, whose old groups, if a
 * previous spec had limits, are removed).
 */
export async function limitedArgv(
  ids: { server: string; job: string; agent: string },
  limits: Limits,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ argv: string[]; mechanism?: string }> {
  if (!hasLimits(limits)) {
    // An earlier spec's groups, if this worker has made any (an agent without limits costs nothing here).
    const known = knownLayout();
    if (known && known.version !== 0) await removeGroup(known, ids.server, ids.job, ids.agent);
    return { argv };
  }
  const layout = cgroupLayout();
  if (layout.version === 0) throw refusal(ids.agent, layout.reason, layout.hint);
  refuseMissingCommand(ids.agent, argv[0], env.PATH, cwd);
  try {
    const procs = await prepareGroup(layout, ids.server, ids.job, ids.agent, limits);
    return { argv: joinArgv(procs, argv), mechanism: mechanismOf(layout) };
  } catch (err) {
    if (err instanceof CgroupError) throw refusal(ids.agent, err.message, err.hint);
    throw err;
  }
}

/**
 * The agent's groups go (at its stop): what still runs in them is killed. `limited`: whether its
 * spec has limits; if not, only a worker that made groups already looks (nothing costs an agent without limits).
 */
export async function removeAgentGroups(ids: { server: string; job: string; agent: string }, limited = true): Promise<boolean> {
  forgetAgentUsage(ids.job, ids.agent);
  const layout = limited ? cgroupLayout() : knownLayout();
  if (!layout) return false;
  return layout.version !== 0 && (await removeGroup(layout, ids.server, ids.job, ids.agent));
}

/** What the agent's groups say it uses now; undefined for an agent without groups here. */
export function agentUsage(ids: { server: string; job: string; agent: string }): Usage | undefined {
  const layout = cgroupLayout();
  return layout.version === 0 ? undefined : readUsage(layout, ids.server, ids.job, ids.agent);
}

/** One usage read of a watched agent, into /metrics (run in the watch loop's round, once per agent at most). */
export function observeUsage(ids: { server: string; job: string; agent: string }): Usage | undefined {
  const u = agentUsage(ids);
  if (u) recordUsage(ids.job, ids.agent, u);
  return u;
}

/** The agents with groups of this server here (for gc). */
export function groupsHere(server: string): { job: string; agent: string }[] {
  const layout = cgroupLayout();
  return layout.version === 0 ? [] : listGroups(layout, server);
}

export async function removeGroupsOf(server: string, job: string, agent: string): Promise<boolean> {
  return removeAgentGroups({ server, job, agent });
}

/**
 * Why the agent's process ended, when its groups know: an out-of-memory kill, in the words
 * `killed: out of memory (limit 256m, peak 255m)`. Undefined when no kill was counted.
 */
export function oomExit(ids: { server: string; job: string; agent: string }): string | undefined {
  const u = agentUsage(ids);
  return u?.oomKills ? oomWords(u) : undefined;
}
