// The plan a2a-deploy would deploy for a job file: the same validate + plan as the CLI's.
import { loadJobFile } from '../../src/job/validate';
import { resolvePlan, type DeployPlan } from '../../src/job/plan';

export function loadPlan(file: string): DeployPlan {
  const loaded = loadJobFile(file);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (!loaded.job || errors.length) throw new Error(`${file}: ${errors.map((d) => d.message).join('; ')}`);
  return resolvePlan(loaded.job, file);
}
