// Which jobs exist: one visibility query, the filters that the server can apply in it, and the
// rest (name prefix, priority) applied here. In the API, not in the `list` command, so that
// JobManager and the CLI share one implementation.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
// The SDK's own conversion of one listed execution, used so that one job's undecryptable memo
// (encrypted with a key this process lacks) is that job's problem, not the whole list's.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { PayloadKeyError } from '../temporal/codec';
import { shownPhase, teardownSkipped } from '../jobs/execution';
import { SA_JOB, SA_PAUSED, SA_PHASE, SA_TOPOLOGY, type JobPhase } from '../workflows/api';
import { InvalidInputError } from './errors';
import { checkObject, described } from './input-checks';
import { jobPriority } from './jobs';
import { JOB_PHASES } from '../config/names';
import { PRIORITIES, SAFE_ID, TOPOLOGY_TYPES } from '../job/schema';

/** Which jobs `list` returns; every filter given must hold. */
export interface ListFilter {
  /** finished jobs (stopped, failed, terminated runs) too; default: running workflows only */
  all?: boolean;
  phase?: JobPhase;
  /** hub-spoke, pipeline, dag, mesh or hierarchical */
  topology?: string;
  /** low, normal, high or critical (jobs submitted before priorities were recorded count as unknown) */
  priority?: string;
  /** jobs whose name starts with this */
  namePrefix?: string;
  paused?: boolean;
}

/** One job (one workflow run) as `list` reports it. */
export interface JobSummary {
  job: string;
  /** the workflow's phase; for a run that ended without its teardown (terminated, timed out) the execution status */
  phase: string;
  /** the phase the workflow last recorded, when `phase` shows the execution status instead */
  lastPhase?: string;
  topology: string;
  /** the job file's priority (low, normal, high, critical) */
  priority: string;
  paused?: boolean;
  /** the workflow execution's status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  status: string;
  /** ISO times */
  started: string;
  closed?: string;
  workflowId: string;
  runId: string;
  /** set when this process cannot decrypt the job (its memo: the priority is then '?'): why */
  undecryptable?: string;
}

/** The visibility query of a filter. Every value in it is checked against its fixed list or the name rule first. */
export function listQuery(f: ListFilter): string {
  checkObject(f, 'a list filter');
  for (const k of ['all', 'paused'] as const)
    if (f[k] !== undefined && typeof f[k] !== 'boolean') throw new InvalidInputError(`${k} must be true or false, not ${described(f[k])}`);
  if (f.namePrefix !== undefined && typeof f.namePrefix !== 'string')
    throw new InvalidInputError(`namePrefix must be a string, not ${described(f.namePrefix)}`);
  const clauses = [`WorkflowType = 'deployJob'`];
  if (!f.all) clauses.push(`ExecutionStatus = 'Running'`);
  const oneOf = (what: string, v: string, allowed: readonly string[]) => {
    if (!allowed.includes(v)) throw new InvalidInputError(`${what} must be one of: ${allowed.join(', ')} (got ${described(v)})`);
    return v;
  };
  if (f.phase) clauses.push(`${SA_PHASE.name} = '${oneOf('phase', f.phase, JOB_PHASES)}'`);
  if (f.topology) clauses.push(`${SA_TOPOLOGY.name} = '${oneOf('topology', f.topology, TOPOLOGY_TYPES)}'`);
  if (f.priority) oneOf('priority', f.priority, PRIORITIES);
  if (f.paused !== undefined) clauses.push(`${SA_PAUSED.name} = ${f.paused ? 'true' : 'false'}`);
  if (f.namePrefix !== undefined) {
    // A prefix of a valid name: lower-case letters, digits and '-', so it is safe in the query.
    if (!SAFE_ID.test(f.namePrefix.padEnd(1, 'a')) || f.namePrefix.length > 63)
      throw new InvalidInputError(`name prefix '${f.namePrefix.slice(0, 63)}' cannot start a job name`, 'job names are a-z, 0-9 and -');
    if (f.namePrefix) clauses.push(`${SA_JOB.name} STARTS_WITH '${f.namePrefix}'`);
  }
  return clauses.join(' AND ');
}

export async function listJobs(client: Client, f: ListFilter = {}): Promise<JobSummary[]> {
  const jobs: JobSummary[] = [];
  for await (const { wf, undecryptable } of listed(client, listQuery(f))) {
    const recorded = wf.typedSearchAttributes.get(SA_PHASE);
    // A terminated or timed-out run never updated its phase: the execution status is the truth.
    const phase = shownPhase(wf.status.name, recorded);
    if (f.phase && phase !== f.phase) continue; // e.g. terminated while "running"
    const priority = undecryptable ? '?' : await jobPriority(client, wf);
    if (f.priority && priority !== f.priority) continue;
    const paused = wf.typedSearchAttributes.get(SA_PAUSED);
    jobs.push({
      job: wf.typedSearchAttributes.get(SA_JOB) ?? wf.workflowId,
      phase,
      ...(recorded && teardownSkipped(wf.status.name, recorded) ? { lastPhase: recorded } : {}),
      topology: wf.typedSearchAttributes.get(SA_TOPOLOGY) ?? '?',
      priority,
      ...(paused !== undefined ? { paused } : {}),
      status: wf.status.name,
      started: wf.startTime.toISOString(),
      ...(wf.closeTime ? { closed: wf.closeTime.toISOString() } : {}),
      workflowId: wf.workflowId,
      runId: wf.runId,
      ...(undecryptable ? { undecryptable } : {}),
    });
  }
  return jobs;
}

/** The executions the query lists; one whose memo cannot be decrypted comes without its memo. */
async function* listed(client: Client, query: string): AsyncGenerator<{ wf: WorkflowExecutionInfo; undecryptable?: string }> {
  const { namespace, loadedDataConverter } = client.options;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({ namespace, query, ...(nextPageToken ? { nextPageToken } : {}) });
    for (const raw of page.executions) {
      try {
        yield { wf: await executionInfoFromRaw(raw, loadedDataConverter, raw, namespace) };
      } catch (err) {
        if (!(err instanceof PayloadKeyError)) throw err;
        yield { wf: await executionInfoFromRaw({ ...raw, memo: null }, loadedDataConverter, raw, namespace), undecryptable: err.message };
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}
