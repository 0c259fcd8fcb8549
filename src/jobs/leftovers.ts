// Agents left behind by a job whose workflow is over: after a terminate (the Web UI's Terminate,
// `temporal workflow terminate`), a timeout, or a teardown that could not stop everything. The
// one piece of code that finds and removes them on this machine, used by `a2a-deploy gc`, by
// the collection loop of every worker (src/workers/collect-leftovers.ts) and by `status`.
//
// Only agents carrying this server's marker are looked at (another installation's agents, or an
// unmarked look-alike, are not ours to judge), and a job's agents are removed only when Temporal
// says its current run is over, asked right before the removal: a running job (with or without a
// worker, or in the middle of a continue-as-new, whose new run is the current one) keeps its agents.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { terminateProcess } from '../process';
import { workflowIdFor } from '../workflows/api';
import { executionWord, hasEnded, leftoverNote, shownPhase } from './execution';

export interface Leftover {
  job: string;
  agent: string;
  pid?: number;
  container?: string;
  /** a local agent's cgroups with no process left in its process group (the groups go with a process too) */
  cgroup?: boolean;
  /** why it may go, e.g. "its job's workflow is terminated" */
  why: string;
}

export interface Collection {
  removed: Leftover[];
  /** jobs not judged this time, and why (Temporal did not answer) */
  skipped: { job: string; why: string }[];
}

/**
 * What runs on this machine, as the runners find it (src/activities/machine-agents.ts). Passed in,
 * so this layer decides what may go without depending on the runners that know how to look.
 */
export interface MachineAgents {
  /** the containers this deployer made for the given server (one job's, or every job's) */
  containers(only: { server: string; job?: string }): Promise<{ id: string; name: string; job: string; agent: string }[]>;
  removeContainer(id: string): Promise<unknown>;
  /** every marked agent process here; `marker` is JOB/AGENT */
  processes(): { pid: number; marker: string; server?: string }[];
  /** the agents with resource-limit groups (cgroups) of the given server here */
  groups?(server: string): { job: string; agent: string }[];
  /** removes an agent's groups, killing what still runs in them */
  removeGroups?(server: string, job: string, agent: string): Promise<unknown>;
}

export interface CollectOptions {
  client: Client;
  /** this server's marker (markers.ts serverMarker) */
  server: string;
  machine: MachineAgents;
  /** only say what would be removed */
  dryRun?: boolean;
  /** only this job's agents */
  job?: string;
}

/** Why a job's agents may be collected (its current run is over, or Temporal does not know it); undefined while it runs. */
export async function whyGone(client: Client, job: string): Promise<string | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowIdFor(job)).describe();
    return hasEnded(d.status.name) ? `its job's workflow is ${executionWord(d.status.name)}` : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'its job is unknown to Temporal';
    throw err;
  }
}

/** This server's agents on this machine (processes and containers), grouped by job. */
async function agentsHere(o: CollectOptions) {
  const containers = (await o.machine.containers({ server: o.server, ...(o.job ? { job: o.job } : {}) }).catch(() => [])).filter(
    (c) => c.job,
  );
  const processes = o.machine
    .processes()
    .filter((p) => p.server === o.server)
    .map((p) => {
      const [job, agent] = p.marker.split('/');
      return { pid: p.pid, job, agent };
    })
    .filter((p) => !o.job || p.job === o.job);
  const groups = (o.machine.groups?.(o.server) ?? []).filter((g) => !o.job || g.job === o.job);
  const jobs = [...new Set([...containers.map((c) => c.job), ...processes.map((p) => p.job), ...groups.map((g) => g.job)])].sort();
  return { containers, processes, groups, jobs };
}

/** Finds, and unless dryRun removes, the agents on this machine whose job's workflow is over. */
export async function collectLeftovers(o: CollectOptions): Promise<Collection> {
  const { containers, processes, groups, jobs } = await agentsHere(o);
  const out: Collection = { removed: [], skipped: [] };
  for (const job of jobs) {
    let why: string | undefined;
    try {
      // Asked per job, just before its agents go: a job started again a moment ago keeps them.
      why = await whyGone(o.client, job);
    } catch (err) {
      out.skipped.push({ job, why: `Temporal did not say whether it runs: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    if (!why) continue;
    // Containers first: their processes carry the same markers and would otherwise be killed
    // one by one, leaving stopped containers behind.
    const boxes = containers.filter((c) => c.job === job);
    for (const c of boxes) {
      if (!o.dryRun) await o.machine.removeContainer(c.id).catch(() => undefined);
      out.removed.push({ job, agent: c.agent, container: c.name, why });
    }
    const procs = processes.filter((p) => p.job === job && !boxes.some((c) => c.agent === p.agent)); // those went with their container
    if (!o.dryRun) await Promise.all(procs.map((p) => terminateProcess(p.pid, { graceMs: 5000, killWaitMs: 0, pollMs: 50 })));
    for (const p of procs) out.removed.push({ job, agent: p.agent, pid: p.pid, why });
    // Its agents' cgroups last: what a stray fork left in them is killed with them.
    for (const g of groups.filter((g) => g.job === job)) {
      if (!o.dryRun) await o.machine.removeGroups?.(o.server, job, g.agent).catch(() => undefined);
      if (!procs.some((p) => p.agent === g.agent)) out.removed.push({ job, agent: g.agent, cgroup: true, why });
    }
  }
  return out;
}

/**
 * What `status` says of a run that ended without its teardown: the execution status as the phase,
 * the phase it last recorded, and what may be left (in general, and on this machine).
 */
export async function endedJobView<V extends { job: string; execution: string; phase?: string; agents?: object }>(
  o: Omit<CollectOptions, 'dryRun' | 'job'>,
  view: V,
) {
  const onThisMachine = await leftoversHere({ ...o, job: view.job });
  const note = leftoverNote(view.job, view.execution, Object.keys(view.agents ?? {}).length);
  return { ...view, phase: shownPhase(view.execution, view.phase), lastPhase: view.phase, leftover: { note, onThisMachine } };
}

/**
 * Said by `start` when the job's last run ended without its teardown (terminated, timed out):
 * the new run adopts the agents still running with the same spec (README, "Terminate").
 */
export async function adoptionNote(client: Client, job: string): Promise<string | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowIdFor(job)).describe();
    // (A failed or canceled run tore down first; a terminated or timed-out one never could.)
    if (d.status.name !== 'TERMINATED' && d.status.name !== 'TIMED_OUT') return undefined;
    return `The last run of job ${job} was ${executionWord(d.status.name).replace('-', ' ')} without its teardown: its agents still running with the same spec are adopted, the others started anew.`;
  } catch {
    return undefined; // never ran (or Temporal will say so when starting)
  }
}

/** One line per removed agent, as gc prints it and a worker logs it. */
export const describeLeftover = (r: Leftover, verb: string) =>
  `${verb} ${r.job}/${r.agent} (${r.container ? `container ${r.container}` : r.pid !== undefined ? `pid ${r.pid}` : 'its cgroups'}): ${r.why}`;

/** This server's agents of one job still on this machine (for `status` of an ended job). */
export async function leftoversHere(o: Omit<CollectOptions, 'dryRun'> & { job: string }): Promise<{ agent: string; where: string }[]> {
  const { containers, processes } = await agentsHere(o);
  return [
    ...containers.map((c) => ({ agent: c.agent, where: `container ${c.name}` })),
    ...processes.filter((p) => !containers.some((c) => c.agent === p.agent)).map((p) => ({ agent: p.agent, where: `pid ${p.pid}` })),
  ];
}
