import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readLogDir } from '../../activities/log-files';
import type { LogChunk } from '../../activities/types';
import { agentDir } from '../../config/paths';
import type { AgentPlan } from '../../job/plan';
import { agentLogs } from '../../workflows';
import { planQuery, WORKFLOW_TASK_QUEUE } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { jobContext, jobHandle, type JobContext } from '../jobs';

export const usage = 'a2a-deploy logs JOB [AGENT] [--tail N] [--follow]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, usage, { tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' } }, 1, 2);
  const [name, only] = positionals;
  const tail = values.tail === undefined ? 50 : Number(values.tail);
  if (!Number.isInteger(tail) || tail < 0) throw new CliError(`--tail takes a whole number, not '${values.tail}'`, EXIT.invalidInput);
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle } = await jobHandle(ctx, name);
  const plan = await handle.query(planQuery);
  const ids = plan.stages.flat();
  if (only && !ids.includes(only))
    throw new CliError(`job '${name}' has no agent '${only}'`, EXIT.invalidInput, `agents: ${ids.join(', ')}`);
  const agents = (only ? [only] : ids).map((id) => plan.agents[id]);
  const width = Math.max(...agents.map((a) => a.id.length + 4));
  const print = (label: string, text: string) => {
    for (const line of text.split('\n')) if (line.length > 0) process.stdout.write(`${label.padEnd(width)} | ${line}\n`);
  };
  const offsets = new Map<string, LogChunk['offsets']>();
  const readAll = async (first: boolean) => {
    const chunks = await Promise.all(agents.map((a) => readAgentLogs(ctx, name, a, tail, first ? undefined : offsets.get(a.id))));
    agents.forEach((a, i) => {
      print(a.id, chunks[i].stdout);
      print(`${a.id}:err`, chunks[i].stderr);
      offsets.set(a.id, chunks[i].offsets);
    });
  };
  await readAll(true);
  if (!values.follow) return EXIT.ok;
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  process.once('SIGTERM', () => (stop = true));
  while (!stop) {
    await new Promise((r) => setTimeout(r, 500));
    await readAll(false);
  }
  return EXIT.ok;
}

/**
 * Logs of agents the main worker runs on this very machine are read from their files; any
 * other agent's are fetched by its own worker, through a short workflow on its host's queue.
 */
async function readAgentLogs(
  ctx: JobContext,
  job: string,
  agent: AgentPlan,
  tail: number,
  offsets?: LogChunk['offsets'],
): Promise<LogChunk> {
  const dir = agentDir(job, agent.id);
  if (agent.target === 'localhost' && agent.taskQueue === WORKFLOW_TASK_QUEUE && existsSync(dir)) return readLogDir(dir, tail, offsets);
  try {
    return await ctx.client.workflow.execute(agentLogs, {
      workflowId: `a2a-logs-${job}-${agent.id}-${randomUUID().slice(0, 8)}`,
      taskQueue: WORKFLOW_TASK_QUEUE,
      args: [{ job, agent, tail, ...(offsets ? { offsets } : {}) }],
      workflowExecutionTimeout: '1 minute',
    });
  } catch (err) {
    const why = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    return {
      stdout: '',
      stderr: `(cannot read logs of ${agent.id} on ${agent.deployment.worker ?? 'the main worker'}: ${why})`,
      offsets: offsets ?? { stdout: 0, stderr: 0 },
    };
  }
}
