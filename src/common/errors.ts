// The errors a2a-deploy throws on purpose, one class per thing a caller can act on. The CLI maps
// each class to an exit code (src/cli/exit-codes.ts); code using the API catches by class (the
// API exports them from src/api/errors.ts). A leaf module: it imports nothing, so any layer may
// throw these without depending on the layers that catch them.

/** The base of every error a2a-deploy throws on purpose: a message, and what to do about it. */
export class A2ADeployError extends Error {
  constructor(
    message: string,
    /** what the user can do about it */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One located problem in the input: a job file (FILE:LINE:COL) or an env file (FILE:LINE). */
export interface InputLocation {
  file: string;
  line: number;
  col?: number;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
}

/** The input is wrong: a job file, an env file, a name, a setting. Nothing was changed. */
export class InvalidInputError extends A2ADeployError {
  constructor(
    message: string,
    hint?: string,
    /** every problem found, each where it is (empty when the input is not a file) */
    readonly locations: InputLocation[] = [],
  ) {
    super(message, hint);
  }
}

/** No job (or no agent of a job) has that name. */
export class NotFoundError extends A2ADeployError {
  constructor(
    message: string,
    hint: string | undefined,
    /** the job asked for */
    readonly job: string,
    /** the agent asked for, when it is the agent that is missing */
    readonly agent?: string,
  ) {
    super(message, hint);
  }
}

/** The request makes no sense in the job's state (e.g. stop a job that is not running); nothing was changed. */
export class RefusedError extends A2ADeployError {
  constructor(
    message: string,
    /** why, in a few words (e.g. "job 'x' is not running") */
    readonly reason: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/**
 * No worker answers the job's workflow. `recorded` says the request (stop, pause, resume) was
 * recorded as a signal and applies when a worker runs the workflow again.
 */
export class NoWorkerError extends A2ADeployError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly job: string,
    readonly recorded?: 'stop' | 'pause' | 'resume',
  ) {
    super(message, hint);
  }
}

/** Temporal could not be reached (or the embedded server could not be started). */
export class TemporalUnreachableError extends A2ADeployError {
  constructor(
    message: string,
    /** what the user can do about it */
    override readonly hint: string,
  ) {
    super(message, hint);
  }
}

/** The job (or the agent asked) did not do what was asked: a failed deploy, an agent not healthy, a failed send. */
export class JobFailedError extends A2ADeployError {
  constructor(
    message: string,
    readonly job: string,
    hint?: string,
    /** the workflow's own words, when it gave any */
    readonly error?: string,
  ) {
    super(message, hint);
  }
}
