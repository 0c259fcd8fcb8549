// What the CLI writes to a terminal is text, never terminal commands: an agent's stderr (in
// `start`'s failure, `status`'s last error, `logs`) or a name in a job file may hold escape
// sequences that clear the screen, set the window title or draw fake lines (`\r\e[K`). Written to a
// terminal, every control character but newline and tab is shown as an escape (`\x1b`) instead.
// Output to a pipe or a file keeps its bytes as they were (`logs > file`, scripts reading it), and
// `--json` output is JSON, in which control characters are escaped anyway.

// C0 controls but \t and \n, DEL, C1 controls, and the bidirectional overrides that reorder text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** The text with each control character shown as an escape: `\x1b`, `\r`, `\u202e`. */
export function neutralise(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return '\\r';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** From here on, what the process writes to stdout and stderr is neutralised where it is a terminal. */
export function guardTerminalOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (!stream.isTTY) continue;
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(typeof chunk === 'string' || Buffer.isBuffer(chunk) ? neutralise(chunk.toString()) : chunk, ...rest)) as typeof stream.write;
  }
}
