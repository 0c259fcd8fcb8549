import { diffPlans, type PlanDiff } from '../../job/diff';
import type { DeployPlan } from '../../job/plan';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobPlan } from '../../api/jobs';
import { loadPlanOrExit } from '../load';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'diff');
  const next = loadPlanOrExit(positionals[0], { quietWarnings: !!values.json, envFiles: values['env-file'] });
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle, running } = await jobHandle(ctx, next.job);
  if (!running) throw new CliError(`job '${next.job}' is not running; \`a2a-deploy start\` deploys it afresh`, EXIT.invalidInput);
  const current = await jobPlan(handle);
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
