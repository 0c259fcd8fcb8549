import { diffPlans, type PlanDiff } from '../../job/diff';
import type { DeployPlan } from '../../job/plan';
import { planQuery } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle } from '../jobs';
import { ENV_FILE_OPTION, loadPlanOrExit } from '../load';

export const usage = 'a2a-deploy diff FILE [--json] [--env-file FILE]...';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, usage, { json: { type: 'boolean' }, ...ENV_FILE_OPTION }, 1, 1);
  const next = loadPlanOrExit(positionals[0], { quietWarnings: !!values.json, envFiles: values['env-file'] });
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle, running } = await jobHandle(ctx, next.job);
  if (!running) throw new CliError(`job '${next.job}' is not running; \`a2a-deploy start\` deploys it afresh`, EXIT.invalidInput);
  const current = await handle.query(planQuery);
  const d = diffPlans(current, next);
  if (values.json) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
  else process.stdout.write(renderDiff(current, next, d) + '\n');
  return EXIT.ok;
}

export function renderDiff(current: DeployPlan, next: DeployPlan, d: PlanDiff): string {
  if (d.added.length + d.removed.length + d.changed.length === 0) return `No changes: job ${next.job} already runs this spec.`;
  const lines = [`Changes to running job ${next.job}:`];
  for (const id of d.added) lines.push(`  + ${id}  (new, ${next.agents[id].url})`);
  for (const id of d.removed) lines.push(`  - ${id}  (removed, ${current.agents[id].url})`);
  for (const id of d.changed) {
    const why = d.rewired.includes(id) ? 'restarts because an agent it calls has a new URL' : 'spec changed';
    lines.push(`  ~ ${id}  (${why})`);
  }
  lines.push(`Unchanged, not touched: ${d.unchanged.join(', ') || 'none'}`);
  lines.push(`Apply with: a2a-deploy start ${next.sourceFile}`);
  return lines.join('\n');
}
