import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext } from '../jobs';
import { table } from '../table';
import { SA_JOB, SA_PHASE, SA_TOPOLOGY } from '../../workflows/api';
import { JOB_PHASES } from '../../config/names';

export const usage = 'a2a-deploy list [--all] [--phase PHASE] [--json]';
const PHASES: readonly string[] = JOB_PHASES;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, usage, { all: { type: 'boolean' }, phase: { type: 'string' }, json: { type: 'boolean' } }, 0, 0);
  if (values.phase && !PHASES.includes(values.phase))
    throw new CliError(`unknown phase '${values.phase}'`, EXIT.invalidInput, `one of: ${PHASES.join(', ')}`);
  const ctx = await jobContext({ needWorker: false, quiet: !!values.json });
  const clauses = [`WorkflowType = 'deployJob'`];
  if (!values.all) clauses.push(`ExecutionStatus = 'Running'`);
  // Phase is a plain value from a fixed list, checked above, so it is safe in the query.
  if (values.phase) clauses.push(`${SA_PHASE.name} = '${values.phase}'`);
  const jobs = [];
  for await (const wf of ctx.client.workflow.list({ query: clauses.join(' AND ') })) {
    jobs.push({
      job: wf.typedSearchAttributes.get(SA_JOB) ?? wf.workflowId,
      phase: wf.typedSearchAttributes.get(SA_PHASE) ?? '?',
      topology: wf.typedSearchAttributes.get(SA_TOPOLOGY) ?? '?',
      status: wf.status.name,
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
        ['JOB', 'PHASE', 'TOPOLOGY', 'WORKFLOW', 'STARTED'],
        jobs.map((j) => [j.job, j.phase, j.topology, j.status.toLowerCase(), j.started]),
      ) + '\n',
    );
  return EXIT.ok;
}
