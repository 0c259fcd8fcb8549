import { formatDiagnostic } from '../../job/diagnostics';
import { jobVarsOrExit } from '../load';
import { EXIT } from '../exit-codes';
import { parse } from '../args';
// The API's own validation (JobManager.validate calls it too), without loading the Temporal SDK.
import { validateJob } from '../../api/load';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'validate');
  const vars = jobVarsOrExit(values['env-file']);
  let failed = false;
  const results = [];
  for (const file of positionals) {
    const { ok, plan, diagnostics } = validateJob(file, vars);
    failed ||= !ok;
    if (values.json) {
      results.push({ file, ok, agents: plan ? Object.keys(plan.agents).length : undefined, stages: plan?.stages.length, diagnostics });
      continue;
    }
    for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    if (plan) {
      const n = Object.keys(plan.agents).length;
      process.stdout.write(
        `${file}: ok (${n} agent${n === 1 ? '' : 's'}, ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'})\n`,
      );
    }
  }
  if (values.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  return failed ? EXIT.invalidInput : EXIT.ok;
}
