// Shared by every command that reads a job file: load, print located diagnostics, plan.
import { formatDiagnostic, hasErrors } from '../job/diagnostics';
import { resolvePlan, type DeployPlan } from '../job/plan';
import { loadJobFile } from '../job/validate';
import { CliError, EXIT } from './exit-codes';

/** Loads and plans a job file, or prints every problem and throws (exit code 2). */
export function loadPlanOrExit(file: string, opts: { quietWarnings?: boolean } = {}): DeployPlan {
  const loaded = loadJobFile(file);
  for (const d of loaded.diagnostics) {
    if (d.severity === 'warning' && opts.quietWarnings) continue;
    process.stderr.write(formatDiagnostic(d) + '\n');
  }
  if (!loaded.job || hasErrors(loaded.diagnostics)) {
    const n = loaded.diagnostics.filter((d) => d.severity === 'error').length;
    throw new CliError(`${file}: ${n} error${n === 1 ? '' : 's'}`, EXIT.invalidInput);
  }
  return resolvePlan(loaded.job, file);
}
