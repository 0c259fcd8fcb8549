import { formatMs } from '../../common/duration';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobManager } from '../manager';
import { table } from '../table';

/** Removes the finished jobs whose last run ended longer ago than --older-than. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'prune');
  const olderThan = values['older-than'];
  if (olderThan === undefined)
    throw new CliError('prune needs --older-than DURATION', EXIT.invalidInput, 'e.g. a2a-deploy prune --older-than 7d --dry-run');
  const dryRun = !!values['dry-run'];
  const jm = jobManager({ quiet: true });
  const r = await jm.prune({ olderThan, dryRun }).finally(() => jm.close());
  if (values.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return EXIT.ok;
  }
  const age = formatMs(olderThan);
  if (r.jobs.length === 0) process.stdout.write(`No finished job ended more than ${age} ago.\n`);
  else
    process.stdout.write(
      `${dryRun ? 'Would remove' : 'Removed'} ${r.jobs.length} job${r.jobs.length === 1 ? '' : 's'} that ended more than ${age} ago:\n` +
        table(
          ['JOB', 'RUNS', 'ENDED'],
          r.jobs.map((j) => [j.job, String(j.runs), j.closed]),
        ) +
        '\n',
    );
  return EXIT.ok;
}
