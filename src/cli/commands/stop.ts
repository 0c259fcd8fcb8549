import { WorkflowFailedError } from '@temporalio/client';
import { stopUpdate } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus, recordRequest, workerAnswers } from '../../api/jobs';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'stop');
  const name = positionals[0];
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const { handle, running } = await jobHandle(ctx, name);
  if (!running) throw new CliError(`job '${name}' is not running`, EXIT.invalidInput, `see \`a2a-deploy status ${name}\``);
  // An update needs a worker to answer it and would wait for one forever.
  if (!(await workerAnswers(handle))) throw await recordRequest(handle, name, 'stop', !!values.force);
  try {
    await handle.executeUpdate(stopUpdate, { args: [{ force: !!values.force }] });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new CliError(`cannot stop ${name}: ${cause?.message ?? (err as Error).message}`, EXIT.invalidInput);
  }
  if (!values.json)
    process.stdout.write(`Stopping ${name}${values.force ? ' (forced)' : ''}: callers first, then the agents they call ...\n`);
  const t0 = Date.now();
  try {
    await handle.result();
  } catch (err) {
    // A job that failed while stopping still reports how it ended.
    if (!(err instanceof WorkflowFailedError)) throw err;
  }
  const status = await jobStatus(handle);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (values.json) process.stdout.write(JSON.stringify({ job: name, phase: status.phase, seconds: Number(secs) }) + '\n');
  else process.stdout.write(`Job ${name} ${status.phase} in ${secs}s; ${Object.keys(status.agents).length} agents down.\n`);
  return status.phase === 'stopped' ? EXIT.ok : EXIT.jobFailed;
}
