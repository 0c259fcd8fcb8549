import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';

/** Shared by pause and resume: a Temporal update, so the answer is definite (or a reason). */
export async function toggle(argv: string[], pause: boolean): Promise<number> {
  const { values, positionals } = parse(argv, pause ? 'pause' : 'resume');
  const name = positionals[0];
  const jm = jobManager({ quiet: true });
  const phase = await (pause ? jm.pause(name) : jm.resume(name)).finally(() => jm.close());
  if (values.json) process.stdout.write(JSON.stringify({ job: name, phase, paused: pause }) + '\n');
  else if (pause)
    process.stdout.write(
      `Job ${name} paused (${phase}): agents keep running; nothing new starts and no agent is restarted until \`a2a-deploy resume ${name}\`.\n`,
    );
  else process.stdout.write(`Job ${name} resumed (${phase}).\n`);
  return EXIT.ok;
}

export const run = (argv: string[]) => toggle(argv, true);
