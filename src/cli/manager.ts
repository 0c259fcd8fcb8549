// The CLI's JobManager: configured from the environment, as any caller's is; what it does on the
// user's behalf (an embedded server or a worker started) is said on stderr unless output is JSON.
import { JobManager } from '../api/job-manager';

export function jobManager(opts: { quiet?: boolean } = {}): JobManager {
  return new JobManager(opts.quiet ? {} : { onNotice: (line) => process.stderr.write(line + '\n') });
}
