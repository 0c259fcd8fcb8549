import type { JobStatus } from '../../workflows/api';
import { workflowUiUrl } from '../../temporal/connection';
import { workflowIdFor } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus, type JobContext } from '../jobs';
import type { WorkflowHandle } from '@temporalio/client';
import { MAIN_TASK_QUEUE } from '../../job/plan';
import { planQuery } from '../../workflows/api';
import { table } from '../table';

export const usage = 'a2a-deploy status JOB [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, usage, { json: { type: 'boolean' } }, 1, 1);
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const { handle } = await jobHandle(ctx, positionals[0]);
  const status = await jobStatus(handle);
  await noteMissingHostWorkers(ctx, handle, status);
  if (values.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
  else process.stdout.write(renderStatus(status) + `\nWeb UI: ${workflowUiUrl(ctx.cfg, workflowIdFor(status.job))}\n`);
  return status.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

export function renderStatus(s: JobStatus): string {
  const healthy = Object.values(s.agents).filter((a) => a.state === 'healthy').length;
  const rows = s.stages.flat().map((id) => {
    const a = s.agents[id];
    return [
      id,
      a.state,
      String(a.stage),
      a.pid ? String(a.pid) : '-',
      String(a.restarts ?? 0),
      a.url,
      a.since.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      a.waitingFor ?? (a.lastError ? a.lastError.split('\n')[0] : ''),
    ];
  });
  const lines = [
    `Job ${s.job} (${s.topology}): ${s.phase}${s.paused ? ', paused' : ''}; ${healthy}/${rows.length} agents healthy; entry agent ${s.entry}`,
    table(['AGENT', 'STATE', 'STAGE', 'PID', 'RESTARTS', 'URL', 'SINCE', 'LAST ERROR'], rows),
  ];
  if (s.error) lines.push('', `error: ${s.error}`);
  return lines.join('\n');
}

/**
 * An agent whose host has no worker polling its queue cannot move: say so, by asking
 * Temporal who polls that host's queue (the workflow itself cannot see pollers).
 */
async function noteMissingHostWorkers(ctx: JobContext, handle: WorkflowHandle, status: JobStatus) {
  const stuck = Object.values(status.agents).filter((a) => ['starting', 'checking', 'restarting', 'stopping'].includes(a.state));
  if (stuck.length === 0) return;
  const plan = await handle.query(planQuery);
  const queues = new Map<string, boolean>();
  for (const a of stuck) {
    const p = plan.agents[a.id];
    if (!p || p.taskQueue === MAIN_TASK_QUEUE) continue;
    if (!queues.has(p.taskQueue)) {
      const res = await ctx.client.workflowService.describeTaskQueue({
        namespace: ctx.cfg.namespace,
        taskQueue: { name: p.taskQueue },
        taskQueueType: 2 /* activity */,
      });
      const cutoff = Date.now() - 70_000;
      queues.set(
        p.taskQueue,
        (res.pollers ?? []).some((x) => Number(x.lastAccessTime?.seconds ?? 0) * 1000 >= cutoff),
      );
    }
    if (!queues.get(p.taskQueue))
      a.waitingFor = `waiting for host ${p.deployment.worker}'s worker (a2a-deploy worker --host ${p.deployment.worker})`;
  }
}
