import { restartUpdate } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle } from '../../api/jobs';

/** Restarts agents of a running job (none named: all) through the health gate, callees first. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'restart');
  const [name, ...agents] = positionals;
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const { handle, running } = await jobHandle(ctx, name);
  if (!running) throw new CliError(`job '${name}' is not running`, EXIT.invalidInput, `see \`a2a-deploy status ${name}\``);
  if (!values.json)
    process.stdout.write(
      `Restarting ${agents.length ? agents.join(', ') : 'every agent'} of ${name}: callers down first, callees up first ...\n`,
    );
  const t0 = Date.now();
  let result;
  try {
    result = await handle.executeUpdate(restartUpdate, { args: [agents.length ? { agents } : {}] });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new CliError(`cannot restart in ${name}: ${cause?.message ?? (err as Error).message}`, EXIT.invalidInput);
  }
  const secs = Number(((Date.now() - t0) / 1000).toFixed(1));
  if (values.json) process.stdout.write(JSON.stringify({ job: name, ...result, seconds: secs }) + '\n');
  else {
    if (result.restarted.length) process.stdout.write(`Restarted ${result.restarted.join(', ')} in ${secs}s; healthy.\n`);
    if (result.failed.length) process.stdout.write(`Not back: ${result.failed.join(', ')}${result.error ? `\n${result.error}` : ''}\n`);
  }
  return result.failed.length ? EXIT.jobFailed : EXIT.ok;
}
