import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobManager } from '../manager';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'send');
  const [name, text] = positionals;
  const json = values.json === true;
  const jm = jobManager({ quiet: true });
  const outcome = await jm
    .send(name, text, {
      ...(values.agent ? { agent: values.agent } : {}),
      timeoutMs: values.timeout ?? 30_000,
      stream: values.stream === true,
      onLine: (line) => json || process.stdout.write(line + '\n'),
      onNote: (note) => process.stderr.write(`note: ${note}\n`),
    })
    .finally(() => jm.close());
  if (json) process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
  return outcome.state === 'failed' || outcome.state === 'rejected' ? EXIT.jobFailed : EXIT.ok;
}
