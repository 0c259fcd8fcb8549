import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';

/** Restarts agents of a running job (none named: all) through the health gate, callees first. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'restart');
  const [name, ...agents] = positionals;
  const jm = jobManager({ quiet: !!values.json });
  const onStarted = () =>
    values.json ||
    process.stdout.write(
      `Restarting ${agents.length ? agents.join(', ') : 'every agent'} of ${name}: callers down first, callees up first ...\n`,
    );
  const { elapsedMs, ...result } = await jm.restart(name, agents, { onStarted }).finally(() => jm.close());
  const secs = Number((elapsedMs / 1000).toFixed(1));
  if (values.json) process.stdout.write(JSON.stringify({ job: name, ...result, seconds: secs }) + '\n');
  else {
    if (result.restarted.length) process.stdout.write(`Restarted ${result.restarted.join(', ')} in ${secs}s; healthy.\n`);
    if (result.failed.length) process.stdout.write(`Not back: ${result.failed.join(', ')}${result.error ? `\n${result.error}` : ''}\n`);
  }
  return result.failed.length ? EXIT.jobFailed : EXIT.ok;
}
