// What the operating system refuses to exec, checked before trying: a NUL byte (argv and the
// environment are C strings, so it would cut the string short; Node refuses it outright), one
// string longer than MAX_ARG_STRLEN, or argv and the environment together beyond ARG_MAX (the
// kernel answers E2BIG). No retry can fix any of these, so the runners fail at once with these
// words, and validation reports them at their place in the job file.

/** Linux's MAX_ARG_STRLEN (32 pages): the longest single argument or NAME=value string, its terminating NUL included. */
export const MAX_ARG_STRLEN = 128 * 1024;
/**
 * ARG_MAX as Linux sets it by default (a quarter of the default 8 MiB stack): argv and the
 * environment together, each string with its NUL and its pointer.
 */
export const ARG_MAX = 2 * 1024 * 1024;
/** What an agent's own argv and environment may take of ARG_MAX: the rest is for the inherited variables, markers and peers. */
export const AGENT_EXEC_BUDGET = ARG_MAX - 64 * 1024;

const POINTER_BYTES = 8;

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

const kib = (bytes: number) => `${Math.round((bytes / 1024) * 10) / 10} KiB`;

/** What is wrong with one exec string (an argument, or an environment entry `NAME=value`), in words; undefined if nothing. */
export function execStringProblem(what: string, value: string, entry = value): string | undefined {
  const nul = value.indexOf('\u0000');
  if (nul >= 0) return `${what} holds a NUL byte (at character ${nul + 1}), which no program can receive in its arguments or environment`;
  const bytes = utf8Bytes(entry) + 1;
  if (bytes > MAX_ARG_STRLEN)
    return `${what} is ${kib(bytes - 1)}, more than the ${kib(MAX_ARG_STRLEN - 1)} the OS allows for one argument or variable (MAX_ARG_STRLEN); pass large data in a file`;
  return undefined;
}

/** Bytes argv and the environment take of ARG_MAX. */
export function execBytes(argv: readonly string[], env: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const a of argv) total += utf8Bytes(a) + 1 + POINTER_BYTES;
  for (const [k, v] of Object.entries(env)) total += utf8Bytes(k) + utf8Bytes(v) + 2 + POINTER_BYTES;
  return total;
}

/**
 * The first reason the OS would refuse to exec this argv with this environment, worded; undefined
 * when it can run. `limit` is ARG_MAX unless the caller keeps headroom.
 */
export function execProblem(argv: readonly string[], env: Readonly<Record<string, string>>, limit = ARG_MAX): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const p = execStringProblem(i === 0 ? `the command ${JSON.stringify(short(argv[0]))}` : `argument ${i}`, argv[i]);
    if (p) return p;
  }
  for (const [k, v] of Object.entries(env)) {
    const p = execStringProblem(`environment variable ${k}`, v, `${k}=${v}`);
    if (p) return p;
  }
  const total = execBytes(argv, env);
  if (total > limit)
    return `the arguments and environment take ${kib(total)} together, more than the ${kib(limit)} the OS allows (ARG_MAX, E2BIG); pass large data in a file`;
  return undefined;
}

const short = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s).split('\u0000').join('\\0');
