// What the benchmark measures: its scenarios, the agents' start-up delay, the targets it judges
// against, and the job files of one run of a scenario.
import type { Options } from './options';
import { tinyAgent } from './tiny-agent';
import { FIRST_PORT, hubSpoke, layeredDag, mesh, pipeline, shapedDag, writeJob, type JobOptions, type Shape } from './topologies';

export const DELAY_MS = 200; // every agent's start-up delay: the critical path is levels × DELAY_MS
export const IDLE_S = 30; // how long the idle-watch check leaves a deployed job alone
export const LIMITS = { events: 50_000, bytes: 50 * 1024 * 1024, blob: 2 * 1024 * 1024 }; // Temporal's defaults
export const TARGETS = { perLevelMs: 100, perAgentMs: 10, teardownVsFloor: 2, composeSpeedup: 3, idleCpuPctPer1000: 5 };

export interface Scenario {
  name: string;
  shape: () => Shape;
  /** repetitions: [quick, full] */
  reps: [number, number];
  /** copies of the shape deployed at once, each a job of its own */
  jobs?: number;
  /** the idle-watch check rides on its last run */
  idle?: boolean;
  /** its agents are the tiny C agent (bench/lib/tiny-agent.ts), not node processes */
  tiny?: boolean;
  /** the first agent's port (default FIRST_PORT) */
  firstPort?: number;
}

// Wide scenarios cost ~100 ms of CPU per agent just to boot node (2 cores here), so the big
// ones get fewer repetitions to keep a full run near 15 minutes.
export const SCENARIOS: Scenario[] = [
  { name: 'pipeline-5', shape: () => pipeline(5), reps: [3, 5] },
  { name: 'dag-20', shape: () => layeredDag(4, 5), reps: [3, 5] },
  { name: 'mesh-50', shape: () => mesh(50), reps: [3, 5] },
  { name: 'hub-200', shape: () => hubSpoke(200), reps: [1, 3], idle: true },
  // One run even in a full run: a single deploy of 1,000 node processes takes minutes here.
  { name: 'job-1000', shape: () => layeredDag(4, 250), reps: [1, 1], idle: true },
  { name: 'jobs-20x10', shape: () => shapedDag([1, 3, 6]), jobs: 20, reps: [1, 3] },
  // 5,000 node agents would need 200 GB of memory: these are the tiny C agent (under 2 MB each),
  // on ports 20000-24999, below the ephemeral range (32768+) the probes' own sockets use.
  { name: 'job-5000', shape: () => layeredDag(4, 1250), reps: [1, 1], idle: true, tiny: true, firstPort: 20000 },
];
export const CONTAINER_SCENARIOS = ['pipeline-5', 'dag-20'];
/** Everything `--only` accepts. */
export const STEPS = [...SCENARIOS.map((s) => s.name), 'containers', 'worker-restart', 'idle'];

/** One benchmark run: its options, the prefix of every job (and so agent marker), its files. */
export interface RunContext {
  opts: Options;
  prefix: string;
  work: string;
}

/** Job files for one run of a scenario: `jobs` copies of its shape, each on its own ports. */
export function jobFiles(
  ctx: RunContext,
  sc: Pick<Scenario, 'shape' | 'jobs' | 'tiny' | 'firstPort'>,
  tag: string,
  extra: Partial<JobOptions> = {},
): string[] {
  const shape = sc.shape();
  const jobs = sc.jobs ?? 1;
  return Array.from({ length: jobs }, (_, j) =>
    writeJob(ctx.work, `${ctx.prefix}${tag}${jobs > 1 ? `-${String(j).padStart(2, '0')}` : ''}`, shape, {
      delayMs: DELAY_MS,
      firstPort: (sc.firstPort ?? FIRST_PORT) + j * shape.ids.length,
      healthInterval: ctx.opts.healthInterval,
      ...(sc.tiny ? { command: tinyAgent(ctx.work) } : {}),
      ...extra,
    }),
  );
}
