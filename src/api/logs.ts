// Agents' output, as lines: read by the worker that runs each agent (or from this machine's log
// files when no worker answers), once or followed. In the API, not in the `logs` command, so
// that JobManager and the CLI share one implementation.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { LOCAL_FOLLOW_CHUNK_BYTES, readLogDir } from '../activities/log-files';
import type { LogChunk, LogRequest } from '../activities/types';
import { sleep } from '../common/sleep';
import { agentDir, homeDir, jobDir } from '../config/paths';
import { SAFE_ID } from '../config/names';
import type { AgentPlan } from '../job/plan';
import { agentLogsSession } from '../workflows';
import { readLogsUpdate } from '../workflows/agent-logs';
import { WORKFLOW_TASK_QUEUE } from '../workflows/api';
import { NotFoundError } from './errors';
import { isNoWorker, jobPlan, noWorkerError, type JobContext } from './jobs';
import type { Client, WorkflowHandle } from '@temporalio/client';

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
  const session = new LogSession(ctx.client, job);
  const read: Reader = (id, offsets) => readAgentLogs(session, home, job, plan.agents[id], tail, offsets);
  return { agents, source: 'worker', [Symbol.asyncIterator]: () => logLines(agents, read, opts, () => session.close()) };
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

/** How long an unfinished last line is held for the rest of it before it is shown as it is. */
const PARTIAL_LINE_MS = 2500;

async function* logLines(ids: string[], read: Reader, opts: LogOptions, done?: () => Promise<void>): AsyncGenerator<LogLine> {
  try {
    yield* readLines(ids, read, opts);
  } finally {
    await done?.();
  }
}

async function* readLines(ids: string[], read: Reader, opts: LogOptions): AsyncGenerator<LogLine> {
  const offsets = new Map<string, LogChunk['offsets']>();
  // An agent's last line without its newline yet (it writes it in parts): held, by agent and
  // stream, until the rest comes or for PARTIAL_LINE_MS, so a line comes out whole (and the
  // worker scrubs a secret written in parts whole: agent-env.ts, scrubLogsWith).
  const partial = new Map<string, { text: string; since: number }>();
  // Each read returns at most a chunk per stream (activities/log-files.ts), and the next read
  // waits until the caller has taken these lines, so memory stays at about a chunk. While an
  // agent writes faster than that, read again at once rather than let its output pile up.
  let more = false;
  for (let first = true; first || (opts.follow && !opts.signal?.aborted); first = false) {
    if (!first) await (more ? new Promise((r) => setImmediate(r)) : sleep(opts.intervalMs ?? 500));
    const chunks = await Promise.all(ids.map((id) => read(id, first ? undefined : offsets.get(id))));
    more = chunks.some((c) => c.more);
    const last = !opts.follow || !!opts.signal?.aborted;
    for (const [i, id] of ids.entries()) {
      offsets.set(id, chunks[i].offsets);
      for (const stream of ['stdout', 'stderr'] as const) {
        const key = `${id}\0${stream}`;
        const held = partial.get(key);
        const lines = ((held?.text ?? '') + chunks[i][stream]).split('\n');
        let rest = lines.pop()!;
        const since = rest && held && chunks[i][stream].indexOf('\n') < 0 ? held.since : Date.now();
        if (rest && (last || Date.now() - since >= PARTIAL_LINE_MS)) {
          lines.push(rest);
          rest = '';
        }
        if (rest) partial.set(key, { text: rest, since });
        else partial.delete(key);
        for (const text of lines) if (text.length > 0) yield { agent: id, stream, text };
      }
    }
  }
  // Following stopped: what is held comes out as it is.
  for (const [key, { text }] of partial) {
    const [agent, stream] = key.split('\0') as [string, 'stdout' | 'stderr'];
    yield { agent, stream, text };
  }
}

/**
 * Logs of agents the main worker runs on this very machine are read from their files; any
 * other agent's are fetched by its own worker, through a short workflow on its host's queue.
 * So are a local agent's with secrets: its worker knows their values (an `env:` one lives in
 * the worker's environment, not the caller's) and scrubs them out, as for every other runner.
 */
async function readAgentLogs(
  session: LogSession,
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
    return await session.read({ job, agent, tail, ...(offsets ? { offsets } : {}) });
  } catch (err) {
    const why = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    return {
      stdout: '',
      stderr: `(cannot read logs of ${agent.id} on ${agent.deployment.worker ?? 'the main worker'}: ${why})`,
      offsets: offsets ?? { stdout: 0, stderr: 0 },
    };
  }
}

/** The workflow ids of a job's log sessions start with this (`.` is in no job name). */
export const logSessionPrefix = (job: string) => `a2a-logs-${job}.`;
/** A session's history grows with each read: after this many, the next read opens a fresh one. */
const READS_PER_SESSION = 500;

/**
 * One `logs` command's reads through the workers: one agentLogsSession workflow (started at the
 * first read), each read an update on it; closed and deleted when the command is done.
 */
class LogSession {
  private handle?: Promise<WorkflowHandle>;
  /** sessions replaced after READS_PER_SESSION reads: reads in flight may still use them */
  private retired: Promise<WorkflowHandle>[] = [];
  private reads = 0;

  constructor(
    private readonly client: Client,
    private readonly job: string,
  ) {}

  async read(req: LogRequest): Promise<LogChunk> {
    if (++this.reads > READS_PER_SESSION && this.handle) {
      this.reads = 1;
      this.retired.push(this.handle);
      this.handle = undefined;
    }
    this.handle ??= this.client.workflow.start(agentLogsSession, {
      workflowId: `${logSessionPrefix(this.job)}${randomUUID().slice(0, 8)}`,
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowExecutionTimeout: '1 day',
    });
    const started = this.handle;
    const handle = await started.catch((err: unknown) => {
      if (this.handle === started) this.handle = undefined; // the next read tries again
      throw err;
    });
    return handle.executeUpdate(readLogsUpdate, { args: [req] });
  }

  /** Ends the sessions and removes them from Temporal (deleting a running workflow ends it). */
  async close(): Promise<void> {
    const all = [...this.retired, ...(this.handle ? [this.handle] : [])];
    this.retired = [];
    this.handle = undefined;
    await Promise.all(
      all.map(async (started) => {
        const handle = await started.catch(() => undefined);
        if (!handle) return;
        await this.client.workflowService
          .deleteWorkflowExecution({ namespace: this.client.options.namespace, workflowExecution: { workflowId: handle.workflowId } })
          .catch(() => undefined); // gone already; or it ends by itself when idle
      }),
    );
  }
}
