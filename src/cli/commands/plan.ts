import { planToMermaid } from '../../job/mermaid';
import { planSummary, type DeployPlan } from '../../job/plan';
import { CliError, EXIT } from '../exit-codes';
import { ENV_FILE_OPTION, loadPlanOrExit } from '../load';
import { parse } from '../args';
import { table } from '../table';

export const usage = 'a2a-deploy plan FILE [--json | --format table|json|mermaid] [--env-file FILE]...';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, usage, { json: { type: 'boolean' }, format: { type: 'string' }, ...ENV_FILE_OPTION }, 1, 1);
  const format = values.json ? 'json' : (values.format ?? 'table');
  if (!['table', 'json', 'mermaid'].includes(String(format))) {
    throw new CliError(`unknown format '${format}'`, EXIT.invalidInput, 'use --format table, json or mermaid');
  }
  const plan = loadPlanOrExit(positionals[0], { quietWarnings: format !== 'table', envFiles: values['env-file'] });
  if (format === 'json') process.stdout.write(JSON.stringify(planSummary(plan), null, 2) + '\n');
  else if (format === 'mermaid') process.stdout.write(planToMermaid(plan) + '\n');
  else process.stdout.write(renderPlan(plan) + '\n');
  return EXIT.ok;
}

export function renderPlan(plan: DeployPlan): string {
  const n = Object.keys(plan.agents).length;
  const head = `Job ${plan.job} (${plan.topology}): ${n} agent${n === 1 ? '' : 's'} in ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'}, entry agent ${plan.entry}`;
  const stages = plan.stages.map((s, i) => `  stage ${i}: ${s.join(', ')}`);
  const rows = plan.stages.flat().map((id) => {
    const a = plan.agents[id];
    return [id, String(a.stage), a.target, a.url, a.connectsTo.join(', ') || '-'];
  });
  return [
    head,
    'Stages start in order; the agents of a stage start in parallel.',
    ...stages,
    '',
    table(['AGENT', 'STAGE', 'TARGET', 'URL', 'CALLS'], rows),
  ].join('\n');
}
