// The errors of the Temporal layer. The CLI decides what they mean to a user (exit code 3);
// this layer knows nothing of the CLI.

/** Temporal could not be reached (or the embedded server could not be started). */
export class TemporalUnreachableError extends Error {
  constructor(
    message: string,
    /** what the user can do about it */
    readonly hint: string,
  ) {
    super(message);
    this.name = 'TemporalUnreachableError';
  }
}
