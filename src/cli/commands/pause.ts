import { pauseUpdate, resumeUpdate } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, recordRequest, workerAnswers } from '../../api/jobs';

/** Shared by pause and resume: a Temporal update, so the answer is definite (or a reason). */
export async function toggle(argv: string[], pause: boolean): Promise<number> {
  const { values, positionals } = parse(argv, pause ? 'pause' : 'resume');
  const name = positionals[0];
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle, running } = await jobHandle(ctx, name);
  if (!running) throw new CliError(`job '${name}' is not running`, EXIT.invalidInput);
  // An update needs a worker to answer it and would wait for one forever.
  if (!(await workerAnswers(handle))) throw await recordRequest(handle, name, pause ? 'pause' : 'resume');
  let phase;
  try {
    phase = await handle.executeUpdate(pause ? pauseUpdate : resumeUpdate);
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new CliError(`cannot ${pause ? 'pause' : 'resume'} ${name}: ${cause?.message ?? (err as Error).message}`, EXIT.invalidInput);
  }
  if (values.json) process.stdout.write(JSON.stringify({ job: name, phase, paused: pause }) + '\n');
  else if (pause)
    process.stdout.write(
      `Job ${name} paused (${phase}): agents keep running; nothing new starts and no agent is restarted until \`a2a-deploy resume ${name}\`.\n`,
    );
  else process.stdout.write(`Job ${name} resumed (${phase}).\n`);
  return EXIT.ok;
}

export const run = (argv: string[]) => toggle(argv, true);
