// Variables in job files, Compose-style: ${NAME}, ${NAME:-default} (unset or empty),
// ${NAME-default} (unset), ${NAME:?message} (unset or empty is an error), ${NAME?message},
// and $$ for a literal '$'. A '$' followed by anything else is kept as it is.
// Pure: the variables come in as a map, so the CLI decides what they are (environment, files).
import { readFileSync } from 'node:fs';

export type Vars = Readonly<Record<string, string | undefined>>;

export interface InterpolationError {
  /** offset in the input string of the '${' that failed */
  offset: number;
  /** the text that failed, as written ('${NAME}'), to find it in the file */
  token: string;
  message: string;
  hint?: string;
}

export type Interpolated = { value: string; changed: boolean } | { error: InterpolationError };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(input: string, vars: Vars): Interpolated {
  if (!input.includes('$')) return { value: input, changed: false };
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out += c;
      i++;
      continue;
    }
    const close = input.indexOf('}', i + 2);
    if (close < 0)
      return {
        error: {
          offset: i,
          token: '${',
          message: "unterminated '${' in a value",
          hint: "close it with '}', or write '$$' for a literal '$'",
        },
      };
    const body = input.slice(i + 2, close);
    const m = /^([^:?\-}]*)(:?[-?])?([\s\S]*)$/.exec(body)!;
    const [, name, op, arg] = m;
    if (!NAME.test(name)) {
      return {
        error: {
          offset: i,
          token: input.slice(i, close + 1),
          message: `invalid variable name '${name}' in '\${${body}}'`,
          hint: "names are letters, digits and _; write '$$' for a literal '$'",
        },
      };
    }
    if (!op && arg) {
      return {
        error: {
          offset: i,
          token: input.slice(i, close + 1),
          message: `unsupported form '\${${body}}'`,
          hint: 'use ${NAME}, ${NAME:-default} or ${NAME:?message}',
        },
      };
    }
    const value = vars[name];
    const emptyCounts = op?.startsWith(':') ?? false;
    const missing = value === undefined || (emptyCounts && value === '');
    if (!missing) out += value;
    else if (op === ':-' || op === '-') out += arg;
    else if (op === ':?' || op === '?') {
      return {
        error: {
          offset: i,
          token: input.slice(i, close + 1),
          message: `variable ${name} ${value === undefined ? 'is not set' : 'is empty'}: ${arg || 'required'}`,
        },
      };
    } else {
      return {
        error: {
          offset: i,
          token: input.slice(i, close + 1),
          message: `variable ${name} is not set`,
          hint: `set it in the environment or an --env-file, give a default with \${${name}:-default}, or write '$$' for a literal '$'`,
        },
      };
    }
    i = close + 1;
  }
  return { value: out, changed: true };
}

export interface EnvFileError {
  file: string;
  line: number;
  message: string;
}

/** Parses KEY=VALUE lines: blank lines and '#' comments are skipped, `export ` is allowed, one pair of matching quotes is removed. */
export function parseEnvFile(file: string, text: string): { vars: Record<string, string>; errors: EnvFileError[] } {
  const vars: Record<string, string> = {};
  const errors: EnvFileError[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!m) {
      errors.push({ file, line: idx + 1, message: 'expected KEY=VALUE' });
      return;
    }
    let value = m[2].trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    vars[m[1]] = value;
  });
  return { vars, errors };
}

/**
 * The variables a job file sees: the env files in order (a later file wins over an earlier
 * one), then the process environment, which wins over every file.
 */
export function loadVars(envFiles: readonly string[], env: Vars = process.env): { vars: Vars; errors: EnvFileError[] } {
  const merged: Record<string, string | undefined> = {};
  const errors: EnvFileError[] = [];
  for (const file of envFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      errors.push({ file, line: 1, message: `cannot read env file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const parsed = parseEnvFile(file, text);
    Object.assign(merged, parsed.vars);
    errors.push(...parsed.errors);
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return { vars: merged, errors };
}
