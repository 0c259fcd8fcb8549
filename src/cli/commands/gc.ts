import { WorkflowNotFoundError } from '@temporalio/client';
import Docker from 'dockerode';
import { listJobContainers, removeContainer } from '../../activities/docker/containers';
import { listMarkedAgents } from '../../activities/local-runner';
import { serverMarker } from '../../activities/markers';
import { terminateProcess } from '../../process';
import { workflowIdFor } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobContext } from '../../api/jobs';

/** Removes agent processes on this machine whose job's workflow is no longer running. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'gc');
  const ctx = await jobContext({ needWorker: false, quiet: true });
  const verdicts = new Map<string, string | undefined>(); // job -> why it is gone (undefined: running)
  const goneWhy = async (job: string) => {
    if (!verdicts.has(job)) {
      try {
        const d = await ctx.client.workflow.getHandle(workflowIdFor(job)).describe();
        verdicts.set(job, d.status.name !== 'RUNNING' ? `its job's workflow is ${d.status.name.toLowerCase()}` : undefined);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        verdicts.set(job, 'its job is unknown to Temporal');
      }
    }
    return verdicts.get(job);
  };
  const removed: { job: string; agent: string; pid?: number; container?: string; why: string }[] = [];
  // Containers first: their processes carry the same markers and would otherwise be killed
  // one by one, leaving stopped containers behind.
  const docker = new Docker();
  const ours = serverMarker(ctx.cfg);
  // Only this server's containers, as for processes below.
  for (const c of await listJobContainers(docker, { server: ours }).catch(() => [])) {
    const why = await goneWhy(c.job);
    if (!why) continue;
    if (!values['dry-run']) await removeContainer(docker, c.id).catch(() => undefined);
    removed.push({ job: c.job, agent: c.agent, container: c.name, why });
  }
  const byJob = new Map<string, { pid: number; agent: string }[]>();
  for (const { pid, marker, server } of listMarkedAgents()) {
    // Only agents started for the server we talk to: another server's agents (another install,
    // a test, a benchmark) are not ours to judge, and an unmarked one is not an a2a-deploy agent.
    if (server !== ours) continue;
    const [job, agent] = marker.split('/');
    byJob.set(job, [...(byJob.get(job) ?? []), { pid, agent }]);
  }
  for (const [job, procs] of byJob) {
    const why = await goneWhy(job);
    if (!why) continue;
    for (const p of procs) {
      if (removed.some((r) => r.container && r.job === job && r.agent === p.agent)) continue; // went with its container
      if (!values['dry-run']) await terminateProcess(p.pid, { graceMs: 5000, killWaitMs: 0, pollMs: 50 });
      removed.push({ job, agent: p.agent, pid: p.pid, why });
    }
  }
  if (values.json) process.stdout.write(JSON.stringify({ dryRun: !!values['dry-run'], removed }, null, 2) + '\n');
  else if (removed.length === 0) process.stdout.write('Nothing to collect: every agent on this machine belongs to a running job.\n');
  else
    for (const r of removed)
      process.stdout.write(
        `${values['dry-run'] ? 'would remove' : 'removed'} ${r.job}/${r.agent} (${r.container ? `container ${r.container}` : `pid ${r.pid}`}): ${r.why}\n`,
      );
  return EXIT.ok;
}
