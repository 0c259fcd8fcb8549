// From a job file (or a job already parsed into an object) to a plan: variables, validation with
// every problem located, and the plan. The JobManager and, through it, the CLI share this.
import { stringify } from 'yaml';
import { hasErrors, type Diagnostic } from '../job/diagnostics';
import { loadVars, type Vars } from '../job/interpolate';
import { resolvePlan, type DeployPlan } from '../job/plan';
import { loadJobFile, loadJobText } from '../job/validate';
import { InvalidInputError, type InputLocation } from './errors';

/**
 * A job: the path of a job file, or the job as an object (what a job file's YAML parses to;
 * `sourceFile` names it in messages, default `<job>`, and relative paths in it, such as a
 * module's, are resolved against the folder of `sourceFile`: by default the current directory).
 */
export type JobInput = string | { job: Record<string, unknown>; sourceFile?: string };

/** Where `${NAME}` in a job file gets its values. */
export interface VarsOptions {
  /** KEY=VALUE files, in order (later ones win over earlier ones) */
  envFiles?: readonly string[];
  /** the environment, which wins over every file (default process.env) */
  env?: Vars;
}

/** One job's validation: ok, or every problem located at FILE:LINE:COL. */
export interface ValidationResult {
  file: string;
  ok: boolean;
  plan?: DeployPlan;
  diagnostics: Diagnostic[];
}

/** The variables of a job file, or InvalidInputError locating every bad env-file line. */
export function jobVars(opts: VarsOptions = {}): Vars {
  const { vars, errors } = loadVars(opts.envFiles ?? [], opts.env ?? process.env);
  if (errors.length > 0)
    throw new InvalidInputError(
      `${errors.length} error${errors.length === 1 ? '' : 's'} in env files`,
      'env files hold KEY=VALUE lines',
      errors.map((e): InputLocation => ({ ...e, severity: 'error' })),
    );
  return vars;
}

/** Validates a job; never throws for a bad job (its problems are in `diagnostics`). */
export function validateJob(input: JobInput, vars: Vars): ValidationResult {
  const loaded =
    typeof input === 'string'
      ? loadJobFile(input, { vars })
      : // An object is checked as the YAML it would be, so its problems are located the same way.
        loadJobText(input.sourceFile ?? '<job>', stringify(input.job), { vars });
  const ok = !!loaded.job && !hasErrors(loaded.diagnostics);
  return { file: loaded.file, ok, diagnostics: loaded.diagnostics, ...(ok ? { plan: resolvePlan(loaded.job!, loaded.file) } : {}) };
}

/** A job's plan and its warnings, or InvalidInputError with every diagnostic (errors and warnings). */
export function loadPlan(input: JobInput, vars: Vars): { plan: DeployPlan; warnings: Diagnostic[] } {
  const r = validateJob(input, vars);
  if (!r.plan) {
    const n = r.diagnostics.filter((d) => d.severity === 'error').length;
    throw new InvalidInputError(`${r.file}: ${n} error${n === 1 ? '' : 's'}`, undefined, r.diagnostics);
  }
  return { plan: r.plan, warnings: r.diagnostics };
}
