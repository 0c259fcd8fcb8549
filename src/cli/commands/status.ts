import type { JobStatus } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { NO_WORKER_HINT, type ServerView } from '../../api/jobs';
import { jobManager } from '../manager';
import { table } from '../table';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'status');
  const name = positionals[0];
  const jm = jobManager({ quiet: !!values.json });
  const report = await jm.status(name).finally(() => jm.close());
  if (report.source === 'server') return reportServerView(jm.webUiUrl(name), report.view, report.reason, !!values.json);
  const status: JobStatus = report.status;
  if (values.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
  else process.stdout.write(renderStatus(status) + `\nWeb UI: ${jm.webUiUrl(status.job)}\n`);
  return status.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

/** No worker answers: what the server knows, said as such, and how to get a worker. */
function reportServerView(ui: string, view: ServerView, why: string, json: boolean): number {
  if (json) process.stdout.write(JSON.stringify({ ...view, worker: false, note: `${why}; ${NO_WORKER_HINT}` }, null, 2) + '\n');
  else
    process.stdout.write(renderServerView(view) + `\n\n${why}: this is what the server last recorded; ${NO_WORKER_HINT}.\nWeb UI: ${ui}\n`);
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
      a.waitingFor ?? lastErrorCell(a.lastError, (a as { lastErrorAt?: string }).lastErrorAt),
    ];
  });
  const lines = [
    `Job ${s.job} (${s.topology}): ${s.phase}${s.paused ? ', paused' : ''}; ${healthy}/${rows.length} agents healthy; entry agent ${s.entry}`,
    table(['AGENT', 'STATE', 'STAGE', 'PID', 'RESTARTS', 'URL', 'SINCE', 'LAST ERROR'], rows),
  ];
  if (s.error) lines.push('', `error: ${s.error}`);
  return lines.join('\n');
}
