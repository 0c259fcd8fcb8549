// Names shared by the CLI, the workers, the dev server and workflow code: the task queues,
// the custom search attributes and the job phases. No imports and no Node APIs, because the
// workflow bundle includes this file.

/** The queue of the job workflows and of the agents the main worker runs. */
export const WORKFLOW_TASK_QUEUE = 'a2a-deploy';
/** The queue of a host worker (`deployment.worker: NAME`). */
export const hostTaskQueue = (worker: string) => `${WORKFLOW_TASK_QUEUE}-host-${worker}`;

/** The custom search attributes the workflow keeps current (Keyword, but A2APaused: Bool). */
export const SEARCH_ATTRIBUTE_NAMES = { job: 'A2AJobName', phase: 'A2APhase', topology: 'A2ATopology', paused: 'A2APaused' } as const;

/** A job's phases, in the order a job usually passes through them. */
export const JOB_PHASES = ['deploying', 'running', 'degraded', 'stopping', 'stopped', 'failed'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];
