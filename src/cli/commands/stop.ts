import { WorkflowFailedError } from '@temporalio/client';
import { stopUpdate } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus, recordRequest, serverView, workerAnswers, type JobContext } from '../jobs';
import type { WorkflowHandle } from '@temporalio/client';
import Docker from 'dockerode';
import { serverMarker } from '../../activities/markers';
import { executionWord, leftoverNote, teardownSkipped } from '../../jobs/execution';
import { collectLeftovers, describeLeftover } from '../../jobs/leftovers';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'stop');
  const name = positionals[0];
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const { handle, running, execution } = await jobHandle(ctx, name);
  if (!running) return stopEnded(ctx, handle, name, execution, !!values.json);
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

/**
 * The job's run is over. After a terminate (or a timeout) no teardown ran: say so, and remove
 * what is left of it on this machine (the workers collect it anyway, elsewhere too).
 */
async function stopEnded(ctx: JobContext, handle: WorkflowHandle, name: string, execution: string, json: boolean): Promise<number> {
  const view = await serverView(handle, name);
  if (!teardownSkipped(execution, view.phase))
    throw new CliError(
      `job '${name}' is not running (its workflow ${executionWord(execution)}${view.phase ? `, phase ${view.phase}` : ''})`,
      EXIT.invalidInput,
      `see \`a2a-deploy status ${name}\``,
    );
  const { removed } = await collectLeftovers({ client: ctx.client, server: serverMarker(ctx.cfg), docker: new Docker(), job: name });
  if (json) process.stdout.write(JSON.stringify({ job: name, execution, phase: executionWord(execution), removed }) + '\n');
  else {
    process.stdout.write(`Job ${name} is not running: ${leftoverNote(name, execution, Object.keys(view.agents ?? {}).length)}\n`);
    for (const r of removed) process.stdout.write(describeLeftover(r, 'removed') + '\n');
    process.stdout.write(removed.length ? `Removed what was left of it on this machine.\n` : `Nothing of it runs on this machine.\n`);
  }
  return EXIT.ok;
}
