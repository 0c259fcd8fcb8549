// Agents' output, as lines: read by the worker that runs each agent (or from this machine's log
// files when no worker answers), once or followed. In the API, not in the `logs` command, so
// that JobManager and the CLI share one implementation.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { LOCAL_FOLLOW_CHUNK_BYTES, readLogDir } from '../activities/log-files';
import type { LogChunk } from '../activities/types';
import { sleep } from '../common/sleep';
import { agentDir, homeDir, jobDir } from '../config/paths';
import { SAFE_ID } from '../config/names';
import type { AgentPlan } from '../job/plan';
import { agentLogs } from '../workflows';
import { WORKFLOW_TASK_QUEUE } from '../workflows/api';
import { NotFoundError } from './errors';
import { isNoWorker, jobPlan, noWorkerError, type JobContext } from './jobs';
import type { WorkflowHandle } from '@temporalio/client';

export interface LogOptions {
  /** only this agent */
  agent?: string;
  /** the last N lines of each stream first (default 50) */
  tail?: number;
  /** keep reading new output until `signal` aborts or the loop is left */
  follow?: boolean;
  signal?: AbortSignal;
  /** how often new output is looked for when following (default 500 ms) */
  intervalMs?: number;
  /** told when the lines come from this machine's log files because no worker answers */
  onNotice?: (text: string) => void;
}

/** One line an agent wrote (empty lines are skipped). */
export interface LogLine {
  agent: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** The lines, and which agents they come from (known before the first line). */
export interface LogStream extends AsyncIterable<LogLine> {
  agents: string[];
  /** `worker`: read by the workers that run the agents; `files`: this machine's log files (no worker answers) */
  source: 'worker' | 'files';
}

type Reader = (id: string, offsets?: LogChunk['offsets']) => Promise<LogChunk>;

export async function openLogs(ctx: JobContext, handle: WorkflowHandle, job: string, opts: LogOptions = {}): Promise<LogStream> {
  const tail = opts.tail ?? 50;
  const home = ctx.cfg.home ?? homeDir();
  let plan;
  try {
    plan = await jobPlan(handle);
  } catch (err) {
    if (!isNoWorker(err)) throw err;
    return localLogs(job, home, tail, opts, err.message);
  }
  const ids = plan.stages.flat();
  if (opts.agent && !ids.includes(opts.agent))
    throw new NotFoundError(`job '${job}' has no agent '${opts.agent}'`, `agents: ${ids.join(', ')}`, job, opts.agent);
  const agents = opts.agent ? [opts.agent] : ids;
  const read: Reader = (id, offsets) => readAgentLogs(ctx, home, job, plan.agents[id], tail, offsets);
  return { agents, source: 'worker', [Symbol.asyncIterator]: () => logLines(agents, read, opts) };
}

/** No worker answers: the log files on this machine, which is where a local agent writes them. */
function localLogs(job: string, home: string, tail: number, opts: LogOptions, why: string): LogStream {
  const dir = jobDir(job, home);
  let ids: string[] = [];
  try {
    ids = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .filter((n) => SAFE_ID.test(n)) // an agent's folder is named by its id; nothing else is one
      .sort();
  } catch {
    /* none here */
  }
  if (opts.agent) ids = ids.filter((id) => id === opts.agent);
  if (ids.length === 0)
    throw noWorkerError(
      job,
      opts.agent ? ` and agent '${opts.agent}' has no log files on this machine` : ' and it has no log files on this machine',
    );
  opts.onNotice?.(`${why}; showing the log files in ${dir} (agents on other hosts are not shown)`);
  const read: Reader = (id, offsets) => Promise.resolve(readLogDir(agentDir(job, id, home), tail, offsets, LOCAL_FOLLOW_CHUNK_BYTES));
  return { agents: ids, source: 'files', [Symbol.asyncIterator]: () => logLines(ids, read, opts) };
}

async function* logLines(ids: string[], read: Reader, opts: LogOptions): AsyncGenerator<LogLine> {
  const offsets = new Map<string, LogChunk['offsets']>();
  // Each read returns at most a chunk per stream (activities/log-files.ts), and the next read
  // waits until the caller has taken these lines, so memory stays at about a chunk. While an
  // agent writes faster than that, read again at once rather than let its output pile up.
  let more = false;
  for (let first = true; first || (opts.follow && !opts.signal?.aborted); first = false) {
    if (!first) await (more ? new Promise((r) => setImmediate(r)) : sleep(opts.intervalMs ?? 500));
    const chunks = await Promise.all(ids.map((id) => read(id, first ? undefined : offsets.get(id))));
    more = chunks.some((c) => c.more);
    for (const [i, id] of ids.entries()) {
      offsets.set(id, chunks[i].offsets);
      for (const stream of ['stdout', 'stderr'] as const)
        for (const text of chunks[i][stream].split('\n')) if (text.length > 0) yield { agent: id, stream, text };
    }
  }
}

/**
 * Logs of agents the main worker runs on this very machine are read from their files; any
 * other agent's are fetched by its own worker, through a short workflow on its host's queue.
 * So are a local agent's with secrets: its worker knows their values (an `env:` one lives in
 * the worker's environment, not the caller's) and scrubs them out, as for every other runner.
 */
async function readAgentLogs(
  ctx: JobContext,
  home: string,
  job: string,
  agent: AgentPlan,
  tail: number,
  offsets?: LogChunk['offsets'],
): Promise<LogChunk> {
  const dir = agentDir(job, agent.id, home);
  if (agent.target === 'localhost' && agent.taskQueue === WORKFLOW_TASK_QUEUE && !agent.deployment.secrets && existsSync(dir))
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
