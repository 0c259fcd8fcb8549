import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';

/** Removes a finished job's runs; a running job is refused (exit 2) with the reason. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'delete');
  const jm = jobManager({ quiet: true });
  const r = await jm.delete(positionals[0]).finally(() => jm.close());
  if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
  else process.stdout.write(`Deleted job ${r.job}: ${r.runs} run${r.runs === 1 ? '' : 's'} removed from Temporal.\n`);
  return EXIT.ok;
}
