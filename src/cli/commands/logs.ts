import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'logs');
  const [name, only] = positionals;
  const jm = jobManager({ quiet: true });
  // Following ends with Ctrl-C (or SIGTERM); a one-off read keeps the default (exit at once).
  const stop = new AbortController();
  if (values.follow) {
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
  }
  try {
    const lines = await jm.logs(name, {
      ...(only ? { agent: only } : {}),
      tail: values.tail ?? 50,
      follow: !!values.follow,
      signal: stop.signal,
      onNotice: (text) => process.stderr.write(`a2a-deploy: ${text}\n`),
    });
    const width = Math.max(...lines.agents.map((id) => id.length + 4));
    for await (const l of lines)
      process.stdout.write(`${(l.stream === 'stdout' ? l.agent : `${l.agent}:err`).padEnd(width)} | ${l.text}\n`);
  } finally {
    await jm.close();
  }
  return EXIT.ok;
}
