// Argument parsing from the declared specs (./specs): unknown flags, bad values and wrong arity
// are input errors (exit 2) that never echo a long argument back.
import { parseArgs } from 'node:util';
import { parseDuration, formatMs } from '../common/duration';
import { SAFE_ID } from '../job/schema';
import { CliError, EXIT } from './exit-codes';
import { COMMAND_SPECS, MAX_MESSAGE_BYTES, type CommandName, type CommandSpec, type OptionSpec } from './specs';

type Value<O> = O extends { kind: 'boolean' }
  ? boolean
  : O extends { kind: 'integer' | 'duration' }
    ? number
    : O extends { multiple: true }
      ? string[]
      : string;
export type Values<S extends CommandSpec> = { -readonly [K in keyof S['options']]?: Value<S['options'][K]> };

export function parse<N extends CommandName>(argv: string[], name: N) {
  const spec: CommandSpec = COMMAND_SPECS[name];
  const hint = `usage: ${usageLine(name)} (see a2a-deploy ${name} --help)`;
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([k, o]) => [
      k,
      {
        type: o.kind === 'boolean' ? 'boolean' : 'string',
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  ) as Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }>;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError(clip((err as Error).message.split('\n')[0]), EXIT.invalidInput, hint);
  }
  const raw = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (raw.help) {
    process.stdout.write(commandHelp(name) + '\n');
    throw new CliError('', EXIT.ok);
  }
  const { min, max } = arity(spec.args);
  const n = parsed.positionals.length;
  if (n < min) throw new CliError(`missing ${placeholders(spec.args)[n]}`, EXIT.invalidInput, hint);
  if (n > max) throw new CliError(`unexpected argument ${shown(parsed.positionals[max])}`, EXIT.invalidInput, hint);
  for (const group of spec.exclusive ?? []) {
    const given = group.filter((k) => raw[k] !== undefined);
    if (given.length > 1)
      throw new CliError(`${given.map((k) => `--${k}`).join(' and ')} cannot be given together`, EXIT.invalidInput, hint);
  }
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'help' || v === undefined) continue;
    values[k] =
      typeof v === 'boolean' ? v : Array.isArray(v) ? v.map((x) => optionValue(k, spec.options[k], x)) : optionValue(k, spec.options[k], v);
  }
  const words = placeholders(spec.args);
  parsed.positionals.forEach((v, i) => POSITIONAL_CHECKS[words[Math.min(i, words.length - 1)]]?.(v));
  return { values: values as Values<(typeof COMMAND_SPECS)[N]>, positionals: parsed.positionals };
}

/** 'JOB [AGENT]' -> ['JOB', 'AGENT'] */
const placeholders = (args: string) =>
  args
    .split(' ')
    .filter(Boolean)
    .map((w) => w.replace(/[[\].]/g, ''));

/** How many positionals an args string such as 'JOB [AGENT]' or 'FILE...' takes. */
export function arity(args: string): { min: number; max: number } {
  const words = args.split(' ').filter(Boolean);
  return {
    min: words.filter((w) => !w.startsWith('[')).length,
    max: words.some((w) => w.endsWith('...')) ? Infinity : words.length,
  };
}

/** Checks and converts one option's value as its spec says. */
export function optionValue(name: string, o: OptionSpec, v: string): string | number {
  const bad = (what: string) =>
    new CliError(`--${name} ${what}, not ${shown(v)}`, EXIT.invalidInput, `--${name} ${o.value ?? ''}: ${o.help}`);
  switch (o.kind) {
    case 'integer': {
      const n = /^\d{1,15}$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n)) throw bad('takes a whole number');
      if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max))
        throw bad(`takes a number from ${o.min ?? 0} to ${o.max ?? Infinity}`);
      return n;
    }
    case 'duration': {
      const ms = parseDuration(v);
      if (ms === undefined || ms <= 0) throw bad('takes a duration such as 30s, 500ms or 2m');
      if (o.maxMs !== undefined && ms > o.maxMs) throw bad(`takes at most ${formatMs(o.maxMs)}`);
      return ms;
    }
    case 'choice':
      if (!o.choices!.includes(v)) throw bad(`takes one of ${o.choices!.join(', ')}`);
      return v;
    default:
      return o.names ? checkName(o.names, v, `--${name} ${o.value ?? ''}: ${o.help}`) : v;
  }
}

export { parseDuration, formatMs };

/** A user's argument as it may be shown in a message: quoted, and only if short and printable. */
export function shown(v: string): string {
  return v.length <= 64 && /^[\x20-\x7e]*$/.test(v) ? `'${v}'` : `an argument of ${v.length} characters`;
}

const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 120)}... (${s.length} characters)` : s);

/** Job, agent and worker names follow the job file's rule. */
export function checkName(what: 'job' | 'agent' | 'worker', v: string, hint: string): string {
  if (!SAFE_ID.test(v))
    throw new CliError(
      `${shown(v)} is not ${what === 'agent' ? 'an' : 'a'} ${what} name`,
      EXIT.invalidInput,
      `${what} names start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 63); ${hint}`,
    );
  return v;
}

/** Positionals checked by what they hold, before any command acts on them. */
const POSITIONAL_CHECKS: Record<string, ((v: string) => unknown) | undefined> = {
  JOB: (v) => checkName('job', v, 'see `a2a-deploy list --all` for known jobs'),
  AGENT: (v) => checkName('agent', v, 'see `a2a-deploy status JOB` for its agents'),
  MESSAGE: checkMessage,
};

export function checkMessage(text: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MESSAGE_BYTES)
    throw new CliError(
      `the message is ${Math.ceil(bytes / 1024)} KiB; send takes at most ${MAX_MESSAGE_BYTES / 1024} KiB`,
      EXIT.invalidInput,
      'send a shorter prompt; agents that need a document should fetch it themselves',
    );
  if (text.trim() === '') throw new CliError('the message is empty', EXIT.invalidInput, 'a2a-deploy send JOB "your message"');
}

export function usageLine(name: CommandName): string {
  const spec: CommandSpec = COMMAND_SPECS[name];
  const flags = Object.entries(spec.options).map(([k, o]) => `[--${k}${o.value ? ` ${o.value}` : ''}]${o.multiple ? '...' : ''}`);
  return ['a2a-deploy', name, spec.args, ...flags].filter(Boolean).join(' ');
}

export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMAND_SPECS[name];
  const rows = Object.entries(spec.options).map(([k, o]) => [
    `${o.short ? `-${o.short}, ` : ''}--${k}${o.value ? ` ${o.value}` : ''}`,
    o.help,
  ]);
  rows.push(['-h, --help', 'this help']);
  const width = Math.max(...rows.map((r) => r[0].length));
  const lines = [`usage: ${usageLine(name)}`, '', spec.summary[0].toUpperCase() + spec.summary.slice(1) + '.', '', 'Options:'];
  lines.push(...rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`));
  for (const group of spec.exclusive ?? []) lines.push(`(${group.map((k) => `--${k}`).join(' and ')} exclude each other)`);
  return lines.join('\n');
}

export function globalHelp(): string {
  const names = Object.keys(COMMAND_SPECS) as CommandName[];
  return [
    'usage: a2a-deploy COMMAND [options]   (a2a-deploy COMMAND --help for its options)',
    '',
    ...names.flatMap((n) => [`  ${usageLine(n).slice('a2a-deploy '.length)}`, `      ${COMMAND_SPECS[n].summary}`]),
    '',
    'Exit codes: 0 done, 1 the job failed, 2 invalid input (or a refused request), 3 Temporal unreachable,',
    '4 no worker is running (a stop, pause or resume is recorded and applies when one runs).',
  ].join('\n');
}
