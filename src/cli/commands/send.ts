import { randomUUID } from 'node:crypto';
import { ClientFactory } from '@a2a-js/sdk/client';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus } from '../jobs';
import { planQuery } from '../../workflows/api';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'send');
  const [name, text] = positionals;
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle } = await jobHandle(ctx, name);
  const status = await jobStatus(handle);
  const target = values.agent ?? status.entry;
  const agent = status.agents[target];
  if (!agent)
    throw new CliError(`job '${name}' has no agent '${target}'`, EXIT.invalidInput, `agents: ${Object.keys(status.agents).join(', ')}`);
  if (agent.state !== 'healthy')
    throw new CliError(
      `agent '${target}' of job '${name}' is ${agent.state}, not healthy`,
      EXIT.jobFailed,
      `see \`a2a-deploy status ${name}\``,
    );

  const timeoutMs = values.timeout ?? 30_000;
  let reply;
  try {
    // A container on a job network is known to its peers by name; from here it answers on
    // its port published on 127.0.0.1, which is where its health is checked too.
    const plan = await handle.query(planQuery);
    const url = plan.agents[target]?.target === 'container' ? new URL(plan.agents[target].healthUrl).origin : agent.url;
    const client = await new ClientFactory().createFromUrl(url);
    reply = await client.sendMessage(
      { message: { messageId: randomUUID(), role: 'ROLE_USER', parts: [{ content: { $case: 'text', value: text } }] } } as never,
      { signal: AbortSignal.timeout(timeoutMs) } as never,
    );
  } catch (err) {
    throw new CliError(`sending to ${target} at ${agent.url} failed: ${(err as Error).message}`, EXIT.jobFailed);
  }
  const message =
    'parts' in (reply as object)
      ? (reply as { parts: unknown[] })
      : ((reply as { status?: { message?: { parts: unknown[] } } }).status?.message ?? { parts: [] });
  const texts = (message.parts as { content?: { $case: string; value: unknown } }[])
    .filter((p) => p.content?.$case === 'text')
    .map((p) => String(p.content!.value));
  if (values.json) process.stdout.write(JSON.stringify({ job: name, agent: target, url: agent.url, reply }, null, 2) + '\n');
  else process.stdout.write(texts.join('\n') + '\n');
  return EXIT.ok;
}
