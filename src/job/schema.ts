// The job file's schema, defined once. TypeScript types are inferred from it, and the
// validator walks these same shapes to suggest field names ("did you mean").
import { z } from 'zod';
import { PRIORITIES, SAFE_ID, TOPOLOGY_TYPES } from '../config/names';

export { PRIORITIES, SAFE_ID, TOPOLOGY_TYPES };

// Ids and job names: the one rule (config/names), with the job file's wording.
export const safeId = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(SAFE_ID, { error: `${what} must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 63)` });

// A duration is a number of seconds or a string with a unit: 500ms, 30s, 5m, 1h.
export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const duration = z.union([
  z.number().positive({ error: 'a duration must be positive' }),
  z.string().regex(DURATION, { error: "a duration is a number of seconds or a string like '500ms', '30s', '5m'" }),
]);

export function durationMs(value: number | string): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  const m = DURATION.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

// A size: bytes, or a number with k, m or g (binary units): 512k, 10m, 1g.
export const SIZE = /^(\d+)([kmg]?)$/i;
/** Bytes of a size (see SIZE); undefined when it is not one. */
export function sizeBytes(spec: string | number): number | undefined {
  if (typeof spec === 'number') return spec;
  const m = SIZE.exec(spec.trim());
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
}

const port = z
  .number({ error: 'port must be a whole number' })
  .int({ error: 'port must be a whole number' })
  .min(1, { error: 'port must be between 1 and 65535' })
  .max(65535, { error: 'port must be between 1 and 65535' });

// Environment values reach a process (or container) environment, never a shell string.
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const environment = z.record(
  z.string().regex(envName, { error: 'environment variable names are letters, digits and _, not starting with a digit' }),
  z.union([z.string(), z.number(), z.boolean()]),
);

// Readiness: `a2a` (the default) reads the agent card, `http` GETs `path` (the default for a job
// that gives a path, as before readiness types existed), `tcp` connects to the port.
export const HEALTH_TYPES = ['a2a', 'http', 'tcp'] as const;

// A secret is a reference, read by the worker that starts the agent; its value never enters
// the plan, Temporal's history or any output.
export const SECRET_REF = /^(file:.+|env:[A-Za-z_][A-Za-z0-9_]*)$/;
const secrets = z.record(
  z.string().regex(envName, { error: 'environment variable names are letters, digits and _, not starting with a digit' }),
  z.string().regex(SECRET_REF, {
    error: "a secret is 'file:PATH' or 'env:NAME' (a variable of the worker that runs the agent)",
  }),
);

export const HealthSchema = z
  .object({
    type: z.enum(HEALTH_TYPES, { error: `health type must be one of: ${HEALTH_TYPES.join(', ')}` }).optional(),
    path: z.string().startsWith('/', { error: "health path must start with '/'" }).optional(),
    timeout: duration.default('30s'),
    interval: duration.default('100ms'),
  })
  .strict()
  .refine((h) => !h.path || !h.type || h.type === 'http', {
    path: ['path'],
    error: 'health.path applies to health.type http only (a2a reads the agent card, tcp connects to the port)',
  });

export const ConfigSchema = z
  .object({
    port,
    health: HealthSchema.prefault({}),
  })
  .strict();

export const TARGETS = ['localhost', 'remote', 'container', 'kubernetes'] as const;

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;

export const DeploymentSchema = z
  .object({
    target: z.enum(TARGETS, { error: `target must be one of: ${TARGETS.join(', ')}` }).default('localhost'),
    environment: environment.default({}),
    secrets: secrets.default({}),
    // Worker variables passed through by name; agents otherwise get a minimal environment.
    inherit_env: z.array(z.string().regex(envName, { error: 'inherit_env lists variable names: letters, digits and _' })).default([]),
    // The host worker (a2a-deploy worker --host NAME) that runs this agent; its machine
    // pulls the work, so nothing on it has to be reachable from the orchestrator.
    worker: safeId('worker name').optional(),
    // How long a host worker may take to pick the work up before the deploy fails.
    worker_timeout: duration.default('2m'),
    // remote (SSH); for a host worker's local agents, `host` is the address peers use.
    host: z
      .string()
      .regex(/^[A-Za-z0-9.:\-[\]]+$/, { error: 'host must be a host name or an IP address' })
      .optional(),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/i, { error: 'user must be a plain login name' })
      .optional(),
    ssh_key: z.string().min(1).optional(),
    ssh_port: port.default(22),
    // Host keys are verified: against this known_hosts file (default ~/.ssh/known_hosts),
    // or against a pinned fingerprint ("SHA256:..."). Unknown keys are refused.
    known_hosts: z.string().min(1).optional(),
    host_key: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/=]+$/, { error: "host_key is an OpenSSH fingerprint like 'SHA256:...'" })
      .optional(),
    workdir: z.string().min(1).optional(),
    node: z.string().min(1).default('node'),
    // container
    image: z.string().min(1).optional(),
    network: z.string().min(1).optional(),
    pull: z.enum(PULL_POLICIES, { error: `pull must be one of: ${PULL_POLICIES.join(', ')}` }).default('if-not-present'),
    volumes: z
      .array(z.string().regex(/^[^:]+:[^:]+(:(ro|rw))?$/, { error: "a volume is 'host-path:container-path' with an optional ':ro'" }))
      .default([]),
    // kubernetes (image, pull, cpus and memory as for container; cpus/memory are the limits)
    namespace: safeId('namespace').optional(),
    context: z.string().min(1).optional(),
    replicas: z
      .number({ error: 'replicas must be a whole number: 1 or more' })
      .int({ error: 'replicas must be a whole number: 1 or more' })
      .min(1, { error: 'replicas must be a whole number: 1 or more' })
      .optional(),
    service_account: safeId('service_account').optional(),
    node_selector: z.record(z.string().regex(/^[A-Za-z0-9./_-]{1,253}$/), z.string().regex(/^[A-Za-z0-9._-]{0,63}$/)).optional(),
    // Resource limits, on every target (local and host-worker agents through cgroups, containers
    // through Docker, Kubernetes as the container's limits); their ranges in resource-checks.ts.
    cpus: z
      .number({ error: 'cpus is a number of cores, e.g. 0.5 or 2' })
      .positive({ error: 'cpus must be more than 0, e.g. 0.5' })
      .optional(),
    memory: z
      .string({ error: "memory is a size like '256m' or '1g'" })
      .regex(SIZE, { error: "memory is a size like '256m' or '1g'" })
      .optional(),
    pids: z
      .number({ error: 'pids is a whole number: the most processes and threads the agent may have, e.g. 64' })
      .int({ error: 'pids is a whole number: the most processes and threads the agent may have, e.g. 64' })
      .positive({ error: 'pids is a whole number: the most processes and threads the agent may have, e.g. 64' })
      .optional(),
    // Local agents' stdout.log and stderr.log rotate at max_size, keeping `keep` older copies
    // (activities/log-files.ts); unset: 10m and 3.
    logs: z
      .object({
        max_size: z
          .union([z.number().int().min(1), z.string().regex(SIZE)], { error: "logs.max_size is a size like '10m' or '512k'" })
          .default('10m'),
        keep: z
          .number({ error: 'logs.keep is a whole number: the rotated copies kept (0 to 100)' })
          .int({ error: 'logs.keep is a whole number: the rotated copies kept (0 to 100)' })
          .min(0, { error: 'logs.keep is a whole number: the rotated copies kept (0 to 100)' })
          .max(100, { error: 'logs.keep is a whole number: the rotated copies kept (0 to 100)' })
          .default(3),
      })
      .strict()
      .optional(),
  })
  .strict();

export const RESTART_POLICIES = ['never', 'on-failure', 'always'] as const;
export const RestartSchema = z
  .object({
    policy: z.enum(RESTART_POLICIES, { error: `restart policy must be one of: ${RESTART_POLICIES.join(', ')}` }).default('on-failure'),
    max_restarts: z
      .number({ error: 'max_restarts must be a whole number: 0 or more (0: never restart)' })
      .int({ error: 'max_restarts must be a whole number: 0 or more (0: never restart)' })
      .min(0, { error: 'max_restarts must be a whole number: 0 or more (0: never restart; there is no unlimited, use a large number)' })
      .default(5),
    window: duration.default('10m'),
    backoff: duration.default('1s'),
    max_backoff: duration.default('30s'),
  })
  .strict();

export const AgentSchema = z
  .object({
    id: safeId('agent id'),
    type: z.string().optional(),
    // What to run: a Node entry point, or an argv list (never a shell string).
    module: z.string().min(1).optional(),
    command: z.array(z.string(), { error: 'command is a list of arguments, e.g. [node, server.js]' }).min(1).optional(),
    args: z.array(z.string()).default([]),
    config: ConfigSchema,
    deployment: DeploymentSchema.prefault({}),
    restart: RestartSchema.prefault({}),
    stop_grace: duration.default('10s'),
  })
  .strict();

const ref = z.string({ error: 'an agent reference must be an agent id' });

export const TopologySchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('hub-spoke'), hub: ref, spokes: z.array(ref).min(1) }).strict(),
    z.object({ type: z.literal('pipeline'), stages: z.array(ref).min(1) }).strict(),
    z
      .object({
        type: z.literal('dag'),
        connections: z.array(z.object({ from: ref, to: ref }).strict()).min(1),
      })
      .strict(),
    z.object({ type: z.literal('mesh'), agents: z.array(ref).min(1) }).strict(),
    z
      .object({
        type: z.literal('hierarchical'),
        root: ref,
        children: z.record(z.string(), z.array(ref)),
      })
      .strict(),
  ],
  { error: `topology type must be one of: ${TOPOLOGY_TYPES.join(', ')}` },
);

export const JobFileSchema = z
  .object({
    job: z
      .object({
        name: safeId('job name'),
        description: z.string().optional(),
        priority: z.enum(PRIORITIES, { error: `priority must be one of: ${PRIORITIES.join(', ')}` }).default('normal'),
      })
      .strict(),
    agents: z.array(AgentSchema).min(1, { error: 'a job needs at least one agent' }),
    topology: TopologySchema,
  })
  .strict();

export type JobFile = z.infer<typeof JobFileSchema>;
export type AgentSpec = z.infer<typeof AgentSchema>;
export type Topology = z.infer<typeof TopologySchema>;
export type TopologyType = Topology['type'];
export type Target = (typeof TARGETS)[number];
