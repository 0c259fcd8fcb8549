import type { JobStatus } from '../../workflows/api';
import { workflowUiUrl } from '../../temporal/connection';
import { workflowIdFor } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import {
  isNoWorker,
  jobContext,
  jobHandle,
  jobPlan,
  jobStatus,
  NO_WORKER_HINT,
  serverView,
  type JobContext,
  type ServerView,
} from '../jobs';
import type { WorkflowHandle } from '@temporalio/client';
import { MAIN_TASK_QUEUE } from '../../job/plan';
import { table } from '../table';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'status');
  const name = positionals[0];
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const { handle } = await jobHandle(ctx, name);
  let status: JobStatus;
  try {
    status = await jobStatus(handle);
  } catch (err) {
    if (!isNoWorker(err)) throw err;
    return reportServerView(ctx, await serverView(handle, name), (err as Error).message, !!values.json);
  }
  await noteMissingHostWorkers(ctx, handle, status);
  if (values.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
  else process.stdout.write(renderStatus(status) + `\nWeb UI: ${workflowUiUrl(ctx.cfg, workflowIdFor(status.job))}\n`);
  return status.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

/** No worker answers: what the server knows, said as such, and how to get a worker. */
function reportServerView(ctx: JobContext, view: ServerView, why: string, json: boolean): number {
  if (json) process.stdout.write(JSON.stringify({ ...view, worker: false, note: `${why}; ${NO_WORKER_HINT}` }, null, 2) + '\n');
  else
    process.stdout.write(
      renderServerView(view) +
        `\n\n${why}: this is what the server last recorded; ${NO_WORKER_HINT}.\nWeb UI: ${workflowUiUrl(ctx.cfg, workflowIdFor(view.job))}\n`,
    );
  return view.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

export function renderServerView(v: ServerView): string {
  const head = `Job ${v.job}: ${v.phase ?? 'phase unknown'}${v.paused ? ', paused' : ''}; workflow ${v.workflow.toLowerCase()}${v.updatedAt ? `; as of ${shortTime(v.updatedAt)}` : ''}`;
  if (!v.agents) return `${head}\n(the per-agent state is kept by the workflow; it has not recorded one the server can show)`;
  const rows = Object.entries(v.agents).map(([id, a]) => [
    id,
    a.state,
    a.pid ? String(a.pid) : '-',
    String(a.restarts ?? 0),
    a.url,
    lastErrorCell(a.lastError, a.lastErrorAt),
  ]);
  return [head, table(['AGENT', 'STATE', 'PID', 'RESTARTS', 'URL', 'LAST ERROR'], rows)].join('\n');
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const lastErrorCell = (error?: string, at?: string) => (error ? `${error.split('\n')[0]}${at ? ` (at ${shortTime(at)})` : ''}` : '');

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
      shortTime(a.since),
      a.waitingFor ?? lastErrorCell(a.lastError, a.lastErrorAt),
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
  const plan = await jobPlan(handle);
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
