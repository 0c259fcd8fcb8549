import type { JobStatus } from '../../workflows/api';
import { workflowUiUrl } from '../../temporal/connection';
import { workflowIdFor } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus } from '../jobs';
import { table } from '../table';

export const usage = 'a2a-deploy status JOB [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, usage, { json: { type: 'boolean' } }, 1, 1);
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const { handle } = await jobHandle(ctx, positionals[0]);
  const status = await jobStatus(handle);
  if (values.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
  else process.stdout.write(renderStatus(status) + `\nWeb UI: ${workflowUiUrl(ctx.cfg, workflowIdFor(status.job))}\n`);
  return status.phase === 'failed' ? EXIT.jobFailed : EXIT.ok;
}

export function renderStatus(s: JobStatus): string {
  const healthy = Object.values(s.agents).filter((a) => a.state === 'healthy').length;
  const rows = s.stages.flat().map((id) => {
    const a = s.agents[id];
    return [id, a.state, String(a.stage), a.pid ? String(a.pid) : '-', String(a.restarts ?? 0), a.url, a.since.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), a.lastError ? a.lastError.split('\n')[0] : ''];
  });
  const lines = [
    `Job ${s.job} (${s.topology}): ${s.phase}${s.paused ? ', paused' : ''}; ${healthy}/${rows.length} agents healthy; entry agent ${s.entry}`,
    table(['AGENT', 'STATE', 'STAGE', 'PID', 'RESTARTS', 'URL', 'SINCE', 'LAST ERROR'], rows),
  ];
  if (s.error) lines.push('', `error: ${s.error}`);
  return lines.join('\n');
}
