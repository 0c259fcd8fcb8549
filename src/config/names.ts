// Names shared by the CLI, the workers, the dev server and workflow code: the task queues,
// the custom search attributes and the job phases. No imports and no Node APIs, because the
// workflow bundle includes this file.

/**
 * The rule for job names and agent ids, in one place. They end up in process names, container
 * names, file paths and workflow ids, so they are kept to a pattern that is safe in all of those
 * without quoting: the job file's schema, the API, the CLI and the activities all check this one.
 */
export const SAFE_ID = /^[a-z][a-z0-9-]{0,62}$/;

/** The queue of the job workflows and of the agents the main worker runs. */
export const WORKFLOW_TASK_QUEUE = 'a2a-deploy';
/** The queue of a host worker (`deployment.worker: NAME`). */
export const hostTaskQueue = (worker: string) => `${WORKFLOW_TASK_QUEUE}-host-${worker}`;

/** The custom search attributes the workflow keeps current (Keyword, but A2APaused: Bool). */
export const SEARCH_ATTRIBUTE_NAMES = { job: 'A2AJobName', phase: 'A2APhase', topology: 'A2ATopology', paused: 'A2APaused' } as const;

/** A job's phases, in the order a job usually passes through them. */
export const JOB_PHASES = ['deploying', 'running', 'degraded', 'stopping', 'stopped', 'failed'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/** The topologies a job file can declare. */
export const TOPOLOGY_TYPES = ['hub-spoke', 'pipeline', 'dag', 'mesh', 'hierarchical'] as const;
/** A job file's priorities, lowest first. */
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;

/**
 * A job's priority (the job file's `job.priority`) as Temporal task priority (priorityKey: 1 runs
 * first; 3 is what Temporal gives work with none, so `normal` is exactly that). Set on the job's
 * workflow when it starts and on every activity it schedules: when the workers are saturated,
 * the agents of higher-priority jobs start first. 5 is left for work that should yield even to
 * low-priority jobs.
 */
export const PRIORITY_KEYS = { critical: 1, high: 2, normal: 3, low: 4 } as const;
export type PriorityName = keyof typeof PRIORITY_KEYS;
export const priorityKeyOf = (name: string): number => PRIORITY_KEYS[name as PriorityName] ?? PRIORITY_KEYS.normal;
/** The name of a priority key read back from Temporal (none set: normal); undefined for a key we never set. */
export function priorityName(key: number | undefined): PriorityName | undefined {
  if (!key) return 'normal';
  return (Object.keys(PRIORITY_KEYS) as PriorityName[]).find((n) => PRIORITY_KEYS[n] === key);
}
