import type { AgentStatus, JobStatus } from '../../workflows/api';
import { sizeWords } from '../../process/cgroups';

type AgentUsage = NonNullable<AgentStatus['usage']>;
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { NO_WORKER_HINT, type ServerView } from '../../api/jobs';
import type { EndedView } from '../../api/status';
import { executionWord } from '../../jobs/execution';
import { jobManager } from '../manager';
import { table } from '../table';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'status');
  const name = positionals[0];
  const jm = jobManager({ quiet: !!values.json });
  const report = await jm.status(name).finally(() => jm.close());
  if (report.source === 'server') return reportServerView(jm.webUiUrl(name), report.view, report.reason, !!values.json);
  if (report.source === 'ended') return reportEnded(jm.webUiUrl(name), report.view, !!values.json);
  const status: JobStatus = report.status;
  if (values.json) process.stdout.write(JSON.stringify({ ...status, execution: report.execution }, null, 2) + '\n');
  else process.stdout.write(renderStatus(status) + `\nWeb UI: ${jm.webUiUrl(status.job)}\n`);
  return status.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

/** The run ended without teardown: said as such, with its agents' last known state and what may be left. */
function reportEnded(ui: string, ended: EndedView, json: boolean): number {
  const here = ended.leftover.onThisMachine;
  if (json) process.stdout.write(JSON.stringify(ended, null, 2) + '\n');
  else {
    const local = here.length
      ? `On this machine ${here.length} still run${here.length === 1 ? 's' : ''}: ${here.map((h) => `${h.agent} (${h.where})`).join(', ')}.`
      : 'None of them runs on this machine any more.';
    process.stdout.write(`${renderServerView(ended)}\n\n${ended.leftover.note}\n${local}\nWeb UI: ${ui}\n`);
  }
  return EXIT.jobFailed;
}

/** No worker answers: what the server knows, said as such, and how to get a worker. */
function reportServerView(ui: string, view: ServerView, why: string, json: boolean): number {
  if (json) process.stdout.write(JSON.stringify({ ...view, worker: false, note: `${why}; ${NO_WORKER_HINT}` }, null, 2) + '\n');
  else
    process.stdout.write(renderServerView(view) + `\n\n${why}: this is what the server last recorded; ${NO_WORKER_HINT}.\nWeb UI: ${ui}\n`);
  return view.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

export function renderServerView(v: Omit<ServerView, 'execution'> & { lastPhase?: string }): string {
  const ended = v.closedAt ? ` at ${shortTime(v.closedAt)}` : '';
  const recorded = v.lastPhase ? `; last recorded phase ${v.lastPhase}` : '';
  const head =
    `Job ${v.job}: ${v.phase ?? 'phase unknown'}${v.paused ? ', paused' : ''}; workflow ${executionWord(v.workflow)}${ended}${recorded}${v.updatedAt ? `; as of ${shortTime(v.updatedAt)}` : ''}` +
    (v.reason ? `\nreason: ${v.reason}` : '');
  if (!v.agents) return `${head}\n(the per-agent state is kept by the workflow; it has not recorded one the server can show)`;
  const rows = Object.entries(v.agents).map(([id, a]) => [
    id,
    a.state,
    a.pid ? String(a.pid) : '-',
    String(a.restarts ?? 0),
    a.url,
    lastErrorCell(a.lastError, a.lastErrorAt),
  ]);
  // An ended run's states are the last it recorded, not what runs now.
  return [head, table(['AGENT', v.closedAt ? 'LAST KNOWN STATE' : 'STATE', 'PID', 'RESTARTS', 'URL', 'LAST ERROR'], rows)].join('\n');
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
  // A USAGE column only for a job with limits: the table of every other job stays as it was.
  const withUsage = s.stages.flat().some((id) => s.agents[id].usage);
  if (withUsage) rows.forEach((r, i) => r.splice(7, 0, usageCell(s.agents[s.stages.flat()[i]].usage)));
  const heads = ['AGENT', 'STATE', 'STAGE', 'PID', 'RESTARTS', 'URL', 'SINCE', ...(withUsage ? ['USAGE'] : []), 'LAST ERROR'];
  const lines = [
    `Job ${s.job} (${s.topology}): ${s.phase}${s.paused ? ', paused' : ''}; ${healthy}/${rows.length} agents healthy; entry agent ${s.entry}`,
    table(heads, rows),
  ];
  if (s.error) lines.push('', `error: ${s.error}`);
  return lines.join('\n');
}

/** `mem 120m/256m (peak 130m), cpu 3.2s, throttled 1.5s (cgroup v1)`: what the agent uses, by what it is held. */
export function usageCell(u: AgentUsage | undefined): string {
  if (!u) return '-';
  const parts: string[] = [];
  if (u.memoryBytes !== undefined)
    parts.push(
      `mem ${sizeWords(u.memoryBytes)}${u.memoryLimitBytes !== undefined ? `/${sizeWords(u.memoryLimitBytes)}` : ''}${u.memoryPeakBytes !== undefined ? ` (peak ${sizeWords(u.memoryPeakBytes)})` : ''}`,
    );
  if (u.cpuSeconds !== undefined) parts.push(`cpu ${u.cpuSeconds.toFixed(1)}s`);
  if (u.throttledSeconds) parts.push(`throttled ${u.throttledSeconds.toFixed(1)}s`);
  if (u.pids !== undefined) parts.push(`pids ${u.pids}`);
  if (u.oomKills) parts.push(`${u.oomKills} out-of-memory kill${u.oomKills === 1 ? '' : 's'}`);
  return `${parts.join(', ')} (${u.mechanism})`;
}
