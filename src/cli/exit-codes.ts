// Exit codes scripts can rely on.
import { InvalidInputError, JobFailedError, NoWorkerError, NotFoundError, RefusedError, TemporalUnreachableError } from '../api/errors';
import { A2ADeployError } from '../common/errors';

export const EXIT = {
  ok: 0,
  jobFailed: 1,
  invalidInput: 2,
  temporalUnreachable: 3,
  /** no worker answers the job's workflow (a stop, pause or resume is recorded for when one runs) */
  noWorker: 4,
} as const;

/**
 * An error of the CLI's own (a bad flag, an unknown command) that ends the command with a given
 * exit code; the layers below throw the typed errors of src/common/errors.ts instead.
 */
export class CliError extends A2ADeployError {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.invalidInput,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/**
 * The exit code of an error the API threw on purpose, by its class: the one place where the
 * API's typed errors become exit codes (undefined: not one of ours).
 */
export function exitCodeFor(err: unknown): number | undefined {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof TemporalUnreachableError) return EXIT.temporalUnreachable;
  if (err instanceof NoWorkerError) return EXIT.noWorker;
  if (err instanceof JobFailedError) return EXIT.jobFailed;
  if (err instanceof InvalidInputError || err instanceof NotFoundError || err instanceof RefusedError) return EXIT.invalidInput;
  return undefined;
}
