// Exit codes scripts can rely on.
export const EXIT = {
  ok: 0,
  jobFailed: 1,
  invalidInput: 2,
  temporalUnreachable: 3,
  /** no worker answers the job's workflow (a stop, pause or resume is recorded for when one runs) */
  noWorker: 4,
} as const;

/** An error that ends the command with a given exit code and a message for the user. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.invalidInput,
    readonly hint?: string,
  ) {
    super(message);
  }
}
