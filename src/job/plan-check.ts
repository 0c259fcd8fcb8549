// A deploy plan handed in from outside (JobManager.start(plan), a workflow input) is checked
// before anything acts on it: `resolvePlan` only makes plans that pass, but a caller may build
// or edit one by hand. The job name and agent ids become file paths, process markers and
// workflow ids, so they follow the one rule of config/names (SAFE_ID), as in a job file.
import { z } from 'zod';
import { SAFE_ID } from '../config/names';
import { HEALTH_TYPES, PRIORITIES, PULL_POLICIES, RESTART_POLICIES, TARGETS, TOPOLOGY_TYPES } from './schema';
import type { DeployPlan } from './plan';

const NAME_RULE = "1-63 characters: a-z, 0-9 and '-', starting with a letter";
const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 70) ?? String(v);
const id = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(SAFE_ID, { error: (i) => `${what} ${shown(i.input)} is not a name (${NAME_RULE})` });
/** An enum whose error names the value it got (the job file's enum errors do too). */
const oneOf = <T extends readonly [string, ...string[]]>(what: string, values: T) =>
  z.enum(values, { error: (i) => `${what} ${shown(i.input)} is not one of: ${values.join(', ')}` });
const ms = z.number().finite().nonnegative();
const strings = z.array(z.string());

const AgentPlanSchema = z.looseObject({
  id: id('agent id'),
  target: oneOf('target', TARGETS),
  port: z.number().int().min(1).max(65535),
  url: z.string(),
  healthUrl: z.string(),
  stage: z.number().int().nonnegative(),
  connectsTo: z.array(id('agent id')),
  dependsOn: z.array(id('agent id')),
  run: z.looseObject({ module: z.string().optional(), command: strings.min(1).optional(), args: strings }),
  env: z.record(z.string(), z.string()),
  health: z.looseObject({ type: oneOf('health type', HEALTH_TYPES).optional(), path: z.string(), timeoutMs: ms, intervalMs: ms }),
  restart: z.looseObject({
    policy: oneOf('restart policy', RESTART_POLICIES),
    maxRestarts: z.number().int().nonnegative(),
    windowMs: ms,
    backoffMs: ms,
    maxBackoffMs: ms,
  }),
  stopGraceMs: ms,
  deployment: z.looseObject({
    worker: id('worker').optional(),
    sshPort: z.number().int().min(1).max(65535),
    node: z.string(),
    pull: oneOf('pull', PULL_POLICIES),
    volumes: strings,
    secrets: z.record(z.string(), z.string()).optional(),
    inheritEnv: strings.optional(),
  }),
  taskQueue: z.string().min(1),
  workerTimeoutMs: ms,
  baseDir: z.string(),
  specHash: z.string().min(1),
});

const DeployPlanSchema = z.looseObject({
  job: id('job name'),
  description: z.string().optional(),
  priority: oneOf('priority', PRIORITIES),
  topology: oneOf('topology', TOPOLOGY_TYPES),
  sourceFile: z.string(),
  stages: z.array(z.array(id('agent id'))),
  agents: z.record(id('agent id'), AgentPlanSchema),
  entry: id('entry agent'),
});

/** Problems of a plan, each as `path: message`; empty when it can be deployed. */
export function planProblems(plan: unknown): string[] {
  const r = DeployPlanSchema.safeParse(plan);
  if (!r.success) return r.error.issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join('.') : 'plan'}: ${i.message}`);
  const p = r.data as unknown as DeployPlan;
  const problems: string[] = [];
  const ids = Object.keys(p.agents);
  for (const [key, a] of Object.entries(p.agents)) if (a.id !== key) problems.push(`agents.${key}: its id is '${a.id}'`);
  const known = new Set(ids);
  const staged = p.stages.flat();
  for (const a of staged) if (!known.has(a)) problems.push(`stages: unknown agent '${a}'`);
  if (staged.length !== ids.length || new Set(staged).size !== ids.length) problems.push('stages: must list every agent once');
  if (!known.has(p.entry)) problems.push(`entry: unknown agent '${p.entry}'`);
  for (const a of Object.values(p.agents))
    for (const peer of [...a.connectsTo, ...a.dependsOn])
      if (!known.has(peer)) problems.push(`agents.${a.id}: calls unknown agent '${peer}'`);
  return problems;
}
