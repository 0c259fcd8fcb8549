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
  const secs = (r.elapsedMs / 1000).toFixed(1);
  if (values.json) process.stdout.write(JSON.stringify({ job: name, phase: r.phase, seconds: Number(secs) }) + '\n');
  else process.stdout.write(`Job ${name} ${r.phase} in ${secs}s; ${r.agents} agents down.\n`);
  return r.phase === 'stopped' ? EXIT.ok : EXIT.jobFailed;
}
