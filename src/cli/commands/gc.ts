import { WorkflowNotFoundError } from '@temporalio/client';
import { listMarkedAgents } from '../../activities/local-runner';
import { workflowIdFor } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobContext } from '../jobs';

export const usage = 'a2a-deploy gc [--dry-run] [--json]';

/** Removes agent processes on this machine whose job's workflow is no longer running. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, usage, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, 0, 0);
  const ctx = await jobContext({ needWorker: false, quiet: true });
  const byJob = new Map<string, { pid: number; agent: string }[]>();
  for (const { pid, marker } of listMarkedAgents()) {
    const [job, agent] = marker.split('/');
    byJob.set(job, [...(byJob.get(job) ?? []), { pid, agent }]);
  }
  const removed: { job: string; agent: string; pid: number; why: string }[] = [];
  for (const [job, procs] of byJob) {
    let why: string | undefined;
    try {
      const d = await ctx.client.workflow.getHandle(workflowIdFor(job)).describe();
      if (d.status.name !== 'RUNNING') why = `its job's workflow is ${d.status.name.toLowerCase()}`;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      why = 'its job is unknown to Temporal';
    }
    if (!why) continue;
    for (const p of procs) {
      if (!values['dry-run']) await killGroup(p.pid);
      removed.push({ job, agent: p.agent, pid: p.pid, why });
    }
  }
  if (values.json) process.stdout.write(JSON.stringify({ dryRun: !!values['dry-run'], removed }, null, 2) + '\n');
  else if (removed.length === 0) process.stdout.write('Nothing to collect: every agent on this machine belongs to a running job.\n');
  else for (const r of removed) process.stdout.write(`${values['dry-run'] ? 'would remove' : 'removed'} ${r.job}/${r.agent} (pid ${r.pid}): ${r.why}\n`);
  return EXIT.ok;
}

async function killGroup(pid: number) {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
