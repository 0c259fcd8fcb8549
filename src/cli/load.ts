// Shared by every command that reads a job file: the API loads and plans it (src/api/load.ts);
// here its located diagnostics are printed, one per line, as FILE:LINE:COL.
import { InvalidInputError, type InputLocation } from '../api/errors';
import { jobVars, loadPlan, type JobInput } from '../api/load';
import { formatDiagnostic } from '../job/diagnostics';
import type { Vars } from '../job/interpolate';
import type { DeployPlan } from '../job/plan';

/** The variables ${NAME} in a job file sees: env files in order, the process environment over them. */
export function jobVarsOrExit(envFiles: readonly string[] = []): Vars {
  try {
    return jobVars({ envFiles });
  } catch (err) {
    if (err instanceof InvalidInputError) printLocations(err.locations);
    throw err;
  }
}

/** Loads and plans a job file, or prints every problem and throws (exit code 2). */
export function loadPlanOrExit(file: JobInput, opts: { quietWarnings?: boolean; envFiles?: readonly string[] } = {}): DeployPlan {
  const vars = jobVarsOrExit(opts.envFiles);
  try {
    const { plan, warnings } = loadPlan(file, vars);
    printLocations(warnings, opts.quietWarnings);
    return plan;
  } catch (err) {
    if (err instanceof InvalidInputError) printLocations(err.locations, opts.quietWarnings);
    throw err;
  }
}

/** Job-file diagnostics as FILE:LINE:COL (with a hint line), env-file errors as FILE:LINE. */
export function printLocations(locations: readonly InputLocation[], quietWarnings = false): void {
  for (const d of locations) {
    if (d.severity === 'warning' && quietWarnings) continue;
    process.stderr.write(
      (d.col === undefined ? `${d.file}:${d.line}: ${d.severity}: ${d.message}` : formatDiagnostic({ ...d, col: d.col })) + '\n',
    );
  }
}
