import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stderrTail } from '../../activities/health';
import { agentDir } from '../../config/paths';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus } from '../jobs';

export const usage = 'a2a-deploy logs JOB [AGENT] [--tail N] [--follow]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, usage, { tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' } }, 1, 2);
  const [name, only] = positionals;
  const tail = values.tail === undefined ? 50 : Number(values.tail);
  if (!Number.isInteger(tail) || tail < 0) throw new CliError(`--tail takes a whole number, not '${values.tail}'`, EXIT.invalidInput);
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle } = await jobHandle(ctx, name);
  const status = await jobStatus(handle);
  const ids = status.stages.flat();
  if (only && !ids.includes(only)) throw new CliError(`job '${name}' has no agent '${only}'`, EXIT.invalidInput, `agents: ${ids.join(', ')}`);
  const files = (only ? [only] : ids).flatMap((id) => {
    const dir = status.agents[id].logDir ?? agentDir(name, id);
    return [
      { id, label: `${id}`, path: join(dir, 'stdout.log') },
      { id, label: `${id}:err`, path: join(dir, 'stderr.log') },
    ];
  });
  const width = Math.max(...files.map((f) => f.label.length));
  const print = (label: string, text: string) => {
    for (const line of text.split('\n')) if (line.length > 0) process.stdout.write(`${label.padEnd(width)} | ${line}\n`);
  };
  for (const f of files) if (tail > 0) print(f.label, stderrTail(f.path, tail, 1 << 20));
  if (!values.follow) return EXIT.ok;

  // Follow: print what each file gains, until interrupted.
  const offsets = new Map(files.map((f) => [f.path, sizeOf(f.path)]));
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  process.once('SIGTERM', () => (stop = true));
  while (!stop) {
    for (const f of files) {
      const size = sizeOf(f.path);
      const from = offsets.get(f.path)!;
      if (size < from) offsets.set(f.path, 0); // truncated or replaced: start over
      if (size > from) {
        print(f.label, readRange(f.path, from, size));
        offsets.set(f.path, size);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return EXIT.ok;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readRange(path: string, from: number, to: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
