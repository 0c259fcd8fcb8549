import { parse } from '../args';
import { failureText } from '../../api/a2a-reply';
import { sendText } from '../../api/a2a-send';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, jobStatus } from '../../api/jobs';
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
  // A container on a job network is known to its peers by name; from here it answers on
  // its port published on 127.0.0.1, which is where its health is checked too.
  const plan = await handle.query(planQuery);
  const url = plan.agents[target]?.target === 'container' ? new URL(plan.agents[target].healthUrl).origin : agent.url;
  const json = values.json === true;
  try {
    const outcome = await sendText(url, text, {
      timeoutMs,
      stream: values.stream === true,
      onLine: (line) => json || process.stdout.write(line + '\n'),
      onNote: (note) => process.stderr.write(`note: ${note}\n`),
    });
    if (json) process.stdout.write(JSON.stringify({ job: name, agent: target, url: agent.url, ...outcome }, null, 2) + '\n');
    return outcome.state === 'failed' || outcome.state === 'rejected' ? EXIT.jobFailed : EXIT.ok;
  } catch (err) {
    throw new CliError(`sending to ${target} at ${url} failed: ${failureText(err)}`, EXIT.jobFailed);
  }
}
