import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobContext, jobPriority } from '../jobs';
import { table } from '../table';
import { executionWord, shownPhase, teardownSkipped } from '../../jobs/execution';
import { SA_JOB, SA_PHASE, SA_TOPOLOGY } from '../../workflows/api';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'list');
  const ctx = await jobContext({ needWorker: false, quiet: !!values.json });
  const clauses = [`WorkflowType = 'deployJob'`];
  if (!values.all) clauses.push(`ExecutionStatus = 'Running'`);
  // Phase is a plain value from a fixed list, checked by the parser (specs), so it is safe in the query.
  if (values.phase) clauses.push(`${SA_PHASE.name} = '${values.phase}'`);
  const jobs = [];
  for await (const wf of ctx.client.workflow.list({ query: clauses.join(' AND ') })) {
    const recorded = wf.typedSearchAttributes.get(SA_PHASE);
    if (values.phase && shownPhase(wf.status.name, recorded) !== values.phase) continue; // e.g. terminated while "running"
    jobs.push({
      job: wf.typedSearchAttributes.get(SA_JOB) ?? wf.workflowId,
      // A terminated or timed-out run never updated its phase: the execution status is the truth.
      phase: shownPhase(wf.status.name, recorded),
      ...(recorded && teardownSkipped(wf.status.name, recorded) ? { lastPhase: recorded } : {}),
      topology: wf.typedSearchAttributes.get(SA_TOPOLOGY) ?? '?',
      priority: await jobPriority(ctx, wf),
      status: wf.status.name,
      execution: wf.status.name,
      started: wf.startTime.toISOString(),
      closed: wf.closeTime?.toISOString(),
      workflowId: wf.workflowId,
      runId: wf.runId,
    });
  }
  if (values.json) process.stdout.write(JSON.stringify(jobs, null, 2) + '\n');
  else if (jobs.length === 0) process.stdout.write(values.all ? 'No jobs.\n' : 'No running jobs (--all shows finished ones).\n');
  else
    process.stdout.write(
      table(
        ['JOB', 'PHASE', 'PRIORITY', 'TOPOLOGY', 'WORKFLOW', 'STARTED'],
        jobs.map((j) => [j.job, j.phase, j.priority, j.topology, executionWord(j.status), j.started]),
      ) + '\n',
    );
  return EXIT.ok;
}
