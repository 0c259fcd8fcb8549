import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { LOCAL_FOLLOW_CHUNK_BYTES, readLogDir } from '../../activities/log-files';
import type { LogChunk } from '../../activities/types';
import { agentDir, jobDir } from '../../config/paths';
import type { AgentPlan } from '../../job/plan';
import { agentLogs } from '../../workflows';
import { WORKFLOW_TASK_QUEUE } from '../../workflows/api';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { isNoWorker, jobContext, jobHandle, jobPlan, noWorkerError, type JobContext } from '../jobs';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'logs');
  const [name, only] = positionals;
  const tail = values.tail ?? 50;
  const ctx = await jobContext({ needWorker: true, quiet: true });
  const { handle } = await jobHandle(ctx, name);
  let plan;
  try {
    plan = await jobPlan(handle);
  } catch (err) {
    if (!isNoWorker(err)) throw err;
    return localLogs(name, only, tail, !!values.follow, (err as Error).message);
  }
  const ids = plan.stages.flat();
  if (only && !ids.includes(only))
    throw new CliError(`job '${name}' has no agent '${only}'`, EXIT.invalidInput, `agents: ${ids.join(', ')}`);
  return printLogs(only ? [only] : ids, (id, offsets) => readAgentLogs(ctx, name, plan.agents[id], tail, offsets), !!values.follow);
}

/** No worker answers: the log files on this machine, which is where a local agent writes them. */
async function localLogs(job: string, only: string | undefined, tail: number, follow: boolean, why: string): Promise<number> {
  const dir = jobDir(job);
  let ids: string[] = [];
  try {
    ids = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    /* none here */
  }
  if (only) ids = ids.filter((id) => id === only);
  if (ids.length === 0)
    throw noWorkerError(job, only ? ` and agent '${only}' has no log files on this machine` : ' and it has no log files on this machine');
  process.stderr.write(`a2a-deploy: ${why}; showing the log files in ${dir} (agents on other hosts are not shown)\n`);
  return printLogs(ids, (id, offsets) => Promise.resolve(readLogDir(agentDir(job, id), tail, offsets, LOCAL_FOLLOW_CHUNK_BYTES)), follow);
}

type Reader = (id: string, offsets?: LogChunk['offsets']) => Promise<LogChunk>;

async function printLogs(ids: string[], read: Reader, follow: boolean): Promise<number> {
  const width = Math.max(...ids.map((id) => id.length + 4));
  /** One write per chunk (not per line), waiting for a slow reader: memory stays at about a chunk. */
  const print = async (label: string, text: string) => {
    if (!text) return;
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (lines.length === 0) return;
    const prefix = `${label.padEnd(width)} | `;
    if (!process.stdout.write(`${prefix}${lines.join(`\n${prefix}`)}\n`)) await new Promise((r) => process.stdout.once('drain', r));
  };
  const offsets = new Map<string, LogChunk['offsets']>();
  /** Reads every agent once; true when some had more waiting than one chunk. */
  const readAll = async (first: boolean) => {
    const chunks = await Promise.all(ids.map((id) => read(id, first ? undefined : offsets.get(id))));
    for (const [i, id] of ids.entries()) {
      await print(id, chunks[i].stdout);
      await print(`${id}:err`, chunks[i].stderr);
      offsets.set(id, chunks[i].offsets);
    }
    return chunks.some((c) => c.more);
  };
  await readAll(true);
  if (!follow) return EXIT.ok;
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  process.once('SIGTERM', () => (stop = true));
  // Each read returns at most a chunk per stream (activities/log-files.ts); while an agent
  // writes faster than that, read again at once rather than let its output pile up.
  let more = false;
  while (!stop) {
    if (!more) await new Promise((r) => setTimeout(r, 500));
    else await new Promise((r) => setImmediate(r));
    more = await readAll(false);
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
  if (agent.target === 'localhost' && agent.taskQueue === WORKFLOW_TASK_QUEUE && existsSync(dir))
    return readLogDir(dir, tail, offsets, LOCAL_FOLLOW_CHUNK_BYTES);
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
