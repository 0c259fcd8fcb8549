// The benchmark's command line. --help prints the comment at the top of bench/run.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from './options';
import { STEPS } from './scenarios';

export type { Options };

/** Bad command-line input: said in one line, exit 2. */
export class UsageError extends Error {}

/** The leading `//` comment block of bench/run.ts, without the slashes. */
export function usage(): string {
  const lines = readFileSync(join(__dirname, '..', 'run.ts'), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return (
    lines
      .slice(0, end < 0 ? lines.length : end)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n'
  );
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, build: false, help: false };
  const value = (i: number, flag: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value (see --help)`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--build') o.build = true;
    else if (a === '--only') o.only = value(++i, a).split(',');
    else if (a.startsWith('--only=')) o.only = a.slice(7).split(',');
    else if (a === '--reps') {
      o.reps = Number(value(++i, a));
      if (!Number.isInteger(o.reps) || o.reps < 1) throw new UsageError(`--reps needs a whole number ≥ 1, not ${argv[i]}`);
    } else if (a === '--health-interval') o.healthInterval = value(++i, a);
    else if (a === '--report') o.report = value(++i, a);
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new UsageError(`unknown argument ${a} (see --help)`);
  }
  for (const n of o.only ?? []) if (!STEPS.includes(n)) throw new UsageError(`unknown scenario ${n}; one of ${STEPS.join(', ')}`);
  return o;
}
