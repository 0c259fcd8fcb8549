import type { Leftovers } from '../../api/control';
import { executionWord } from '../../jobs/execution';
import { describeLeftover } from '../../jobs/leftovers';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'stop');
  const name = positionals[0];
  const jm = jobManager({ quiet: !!values.json });
  const onAccepted = () =>
    values.json ||
    process.stdout.write(`Stopping ${name}${values.force ? ' (forced)' : ''}: callers first, then the agents they call ...\n`);
  const r = await jm.stop(name, { force: !!values.force, onAccepted }).finally(() => jm.close());
  if (r.leftovers) return reportEnded(name, r.leftovers, !!values.json);
  const secs = (r.elapsedMs / 1000).toFixed(1);
  if (values.json) process.stdout.write(JSON.stringify({ job: name, phase: r.phase, seconds: Number(secs) }) + '\n');
  else process.stdout.write(`Job ${name} ${r.phase} in ${secs}s; ${r.agents} agents down.\n`);
  return r.phase === 'stopped' ? EXIT.ok : EXIT.jobFailed;
}

/** The job's run was terminated (or timed out) without its teardown: what was left of it here is removed. */
function reportEnded(job: string, r: Leftovers, json: boolean): number {
  if (json)
    process.stdout.write(JSON.stringify({ job, execution: r.execution, phase: executionWord(r.execution), removed: r.removed }) + '\n');
  else {
    process.stdout.write(`Job ${job} is not running: ${r.note}\n`);
    for (const x of r.removed) process.stdout.write(describeLeftover(x, 'removed') + '\n');
    process.stdout.write(r.removed.length ? `Removed what was left of it on this machine.\n` : `Nothing of it runs on this machine.\n`);
  }
  return EXIT.ok;
}
