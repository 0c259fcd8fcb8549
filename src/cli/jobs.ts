// Shared by the commands that act on a deployed job: find it, read its status.
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { SAFE_ID } from '../job/schema';
import { temporalConfig, type TemporalConfig } from '../temporal/connection';
import { connectForJobs } from '../temporal/embedded';
import { statusQuery, workflowIdFor, type JobStatus } from '../workflows/api';
import { CliError, EXIT } from './exit-codes';

export interface JobContext {
  cfg: TemporalConfig;
  client: Client;
}

export async function jobContext(opts: { needWorker: boolean; quiet?: boolean }): Promise<JobContext> {
  const cfg = temporalConfig();
  const client = await connectForJobs(cfg, { needWorker: opts.needWorker, ...(opts.quiet ? { say: () => {} } : {}) });
  return { cfg, client };
}

export function checkJobName(name: string) {
  if (!SAFE_ID.test(name))
    throw new CliError(
      `'${name}' is not a job name`,
      EXIT.invalidInput,
      'job names are lowercase letters, digits and -; see `a2a-deploy list`',
    );
}

export async function jobHandle(ctx: JobContext, name: string): Promise<{ handle: WorkflowHandle; running: boolean }> {
  checkJobName(name);
  const handle = ctx.client.workflow.getHandle(workflowIdFor(name));
  try {
    const d = await handle.describe();
    return { handle, running: d.status.name === 'RUNNING' };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new CliError(`no job named '${name}'`, EXIT.invalidInput, 'see `a2a-deploy list --all` for known jobs');
    }
    throw err;
  }
}

export async function jobStatus(handle: WorkflowHandle): Promise<JobStatus> {
  return handle.query(statusQuery);
}
