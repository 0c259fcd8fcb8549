// Argument parsing on node's util.parseArgs: unknown flags and wrong arity are input errors (exit 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, EXIT } from './exit-codes';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], usage: string, options: O, minPositionals = 0, maxPositionals = Infinity) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError((err as Error).message.split('\n')[0], EXIT.invalidInput, `usage: ${usage}`);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    process.stdout.write(`usage: ${usage}\n`);
    throw new CliError('', EXIT.ok);
  }
  const n = parsed.positionals.length;
  if (n < minPositionals || n > maxPositionals) {
    throw new CliError(
      n < minPositionals ? 'missing argument' : `unexpected argument '${parsed.positionals[maxPositionals]}'`,
      EXIT.invalidInput,
      `usage: ${usage}`,
    );
  }
  return parsed as {
    values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string };
    positionals: string[];
  };
}
