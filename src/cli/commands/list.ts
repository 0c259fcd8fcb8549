import type { ListFilter } from '../../api/list';
import type { JobPhase } from '../../workflows/api';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';
import { table } from '../table';
import { executionWord } from '../../jobs/execution';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'list');
  const jm = jobManager({ quiet: !!values.json });
  // Phase, topology and priority are plain values from fixed lists, checked by the parser (specs)
  // and again by the API, which also checks the prefix against the name rule.
  const filter: ListFilter = {
    all: !!values.all,
    ...(values.phase ? { phase: values.phase as JobPhase } : {}),
    ...(values.topology ? { topology: values.topology } : {}),
    ...(values.priority ? { priority: values.priority } : {}),
    ...(values.prefix !== undefined ? { namePrefix: values.prefix } : {}),
    ...(values.paused ? { paused: true } : {}),
  };
  const jobs = await jm.list(filter).finally(() => jm.close());
  // A job this process cannot decrypt is listed all the same (its priority unknown), and said so once.
  const locked = jobs.filter((j) => j.undecryptable);
  if (locked.length > 0 && !values.json)
    process.stderr.write(
      `a2a-deploy: warning: cannot decrypt job${locked.length > 1 ? 's' : ''} ${locked.map((j) => j.job).join(', ')}: ${locked[0].undecryptable}\n  hint: give this process the key file the job was started with (A2A_DEPLOY_KEY_FILE)\n`,
    );
  if (values.json) process.stdout.write(JSON.stringify(jobs, null, 2) + '\n');
  else if (jobs.length === 0) process.stdout.write(values.all ? 'No jobs.\n' : 'No running jobs (--all shows finished ones).\n');
  else
    process.stdout.write(
      table(
        ['JOB', 'PHASE', 'PRIORITY', 'TOPOLOGY', 'WORKFLOW', 'STARTED'],
        jobs.map((j) => [
          j.job + (j.undecryptable ? ' (undecryptable)' : ''),
          j.phase,
          j.priority,
          j.topology,
          executionWord(j.status),
          j.started,
        ]),
      ) + '\n',
    );
  return EXIT.ok;
}
