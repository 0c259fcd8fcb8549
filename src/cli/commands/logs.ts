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
    // The lines of one read arrive together: written in one go (not a write per line), bounded,
    // and waiting for a slow reader, so a fast writer followed costs about a chunk of memory.
    let out = '';
    let flushing: Promise<void> | undefined;
    const flush = async () => {
      const text = out;
      out = '';
      if (text && !process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
    };
    for await (const l of lines) {
      out += `${(l.stream === 'stdout' ? l.agent : `${l.agent}:err`).padEnd(width)} | ${l.text}\n`;
      if (out.length >= 64 * 1024) await flush();
      flushing ??= new Promise<void>((r) => setImmediate(r)).then(async () => {
        flushing = undefined;
        await flush();
      });
    }
    await flushing;
    await flush();
  } finally {
    await jm.close();
  }
  return EXIT.ok;
}
