// Shared by every command that reads a job file: variables, load, print located diagnostics, plan.
import { formatDiagnostic, hasErrors } from '../job/diagnostics';
import { loadVars, type Vars } from '../job/interpolate';
import { resolvePlan, type DeployPlan } from '../job/plan';
import { loadJobFile } from '../job/validate';
import { CliError, EXIT } from './exit-codes';

/** The option every job-file command takes: `--env-file FILE`, repeatable. */

/** The variables ${NAME} in a job file sees: env files in order, the process environment over them. */
export function jobVarsOrExit(envFiles: readonly string[] = []): Vars {
  const { vars, errors } = loadVars(envFiles);
  for (const e of errors) process.stderr.write(`${e.file}:${e.line}: error: ${e.message}\n`);
  if (errors.length > 0)
    throw new CliError(
      `${errors.length} error${errors.length === 1 ? '' : 's'} in env files`,
      EXIT.invalidInput,
      'env files hold KEY=VALUE lines',
    );
  return vars;
}

/** Loads and plans a job file, or prints every problem and throws (exit code 2). */
export function loadPlanOrExit(file: string, opts: { quietWarnings?: boolean; envFiles?: readonly string[] } = {}): DeployPlan {
  const loaded = loadJobFile(file, { vars: jobVarsOrExit(opts.envFiles) });
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
