import { planToMermaid } from '../../job/mermaid';
import { planSummary, type DeployPlan } from '../../job/plan';
import { EXIT } from '../exit-codes';
import { loadPlanOrExit } from '../load';
import { parse } from '../args';
import { table } from '../table';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'plan');
  const format = values.json ? 'json' : (values.format ?? 'table');
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
    return [id, String(a.stage), a.target, a.url, readinessLabel(a), a.connectsTo.join(', ') || '-'];
  });
  return [
    head,
    'Stages start in order; the agents of a stage start in parallel.',
    ...stages,
    '',
    table(['AGENT', 'STAGE', 'TARGET', 'URL', 'READY WHEN', 'CALLS'], rows),
  ].join('\n');
}

/** How the deployer decides the agent is ready: `a2a card`, `http /health`, `tcp`. */
function readinessLabel(a: DeployPlan['agents'][string]): string {
  const type = a.health.type ?? 'http';
  return type === 'http' ? `http ${a.health.path}` : type === 'a2a' ? 'a2a card' : 'tcp';
}
