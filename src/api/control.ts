// Acting on a running job: pause, resume, stop, restart (Temporal updates, so the answer is
// definite or a reason) and send (an A2A message to one of its agents). In the API, not in the
// commands of the same names, so that JobManager and the CLI share one implementation.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { pauseUpdate, planQuery, restartUpdate, resumeUpdate, stopUpdate, type JobPhase, type RestartResult } from '../workflows/api';
import type { SendOutcome } from './a2a-send';
import { JobFailedError, NotFoundError, RefusedError } from './errors';
import Docker from 'dockerode';
import { machineAgents } from '../activities/machine-agents';
import { serverMarkerOf } from '../activities/markers';
import { teardownSkipped, executionWord, leftoverNote } from '../jobs/execution';
import { collectLeftovers, type Leftover } from '../jobs/leftovers';
import { jobStatus, recordRequest, serverView, workerAnswers, type JobContext } from './jobs';

/** A job that has a handle, and whether its workflow runs. */
interface Job {
  name: string;
  handle: WorkflowHandle;
  running: boolean;
}

function notRunning(name: string, hint?: string): RefusedError {
  return new RefusedError(`job '${name}' is not running`, `job '${name}' is not running`, hint);
}

/** The reason an update's validator (or handler) gave, as a RefusedError. */
function refused(what: string, err: unknown): RefusedError {
  const reason = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
  return new RefusedError(`${what}: ${reason}`, reason);
}

/** Pause (true) or resume (false); the job's phase after it. */
export async function toggleJob({ name, handle, running }: Job, pause: boolean): Promise<JobPhase> {
  if (!running) throw notRunning(name);
  // An update needs a worker to answer it and would wait for one forever.
  if (!(await workerAnswers(handle))) throw await recordRequest(handle, name, pause ? 'pause' : 'resume');
  try {
    return await handle.executeUpdate(pause ? pauseUpdate : resumeUpdate);
  } catch (err) {
    throw refused(`cannot ${pause ? 'pause' : 'resume'} ${name}`, err);
  }
}

export interface StopOptions {
  /** kill at once instead of SIGTERM and the agents' stop_grace */
  force?: boolean;
  /** called once the job accepted the stop, before the teardown is waited for */
  onAccepted?: () => void;
}

export interface StopResult {
  job: string;
  /**
   * `stopped`, or `failed` when the teardown failed; for a run that had ended without its
   * teardown (terminated, timed out) its execution status: `terminated` or `timed-out`
   */
  phase: JobPhase | 'terminated' | 'timed-out';
  /** how many agents the job had */
  agents: number;
  elapsedMs: number;
  /** only for a run that had ended without its teardown: what was left of it on this machine, removed */
  leftovers?: Leftovers;
}

export interface Leftovers {
  /** the run's execution status, e.g. TERMINATED */
  execution: string;
  /** what may still run elsewhere, and how it goes away */
  note: string;
  /** this server's agents of the job that were still on this machine */
  removed: Leftover[];
}

/**
 * The job's run is over. After a terminate (or a timeout) no teardown ran: remove what is left of
 * it on this machine (the workers collect it anyway, elsewhere too). Any other ended run is refused.
 */
export async function stopEnded(ctx: JobContext, { name, handle }: Job): Promise<StopResult> {
  const t0 = Date.now();
  const view = await serverView(handle, name);
  if (!teardownSkipped(view.execution, view.phase))
    throw new RefusedError(
      `job '${name}' is not running (its workflow ${executionWord(view.execution)}${view.phase ? `, phase ${view.phase}` : ''})`,
      `job '${name}' is not running`,
      `see \`a2a-deploy status ${name}\``,
    );
  const { removed } = await collectLeftovers({
    client: ctx.client,
    server: await serverMarkerOf(ctx.client.workflowService, ctx.cfg),
    machine: machineAgents(new Docker()),
    job: name,
  });
  const agents = Object.keys(view.agents ?? {}).length;
  return {
    job: name,
    phase: view.execution === 'TIMED_OUT' ? 'timed-out' : 'terminated',
    agents,
    elapsedMs: Date.now() - t0,
    leftovers: { execution: view.execution, note: leftoverNote(name, view.execution, agents), removed },
  };
}

/** Stops a job and waits until every agent is down. */
export async function stopJob({ name, handle, running }: Job, opts: StopOptions = {}): Promise<StopResult> {
  if (!running) throw notRunning(name, `see \`a2a-deploy status ${name}\``);
  // An update needs a worker to answer it and would wait for one forever.
  if (!(await workerAnswers(handle))) throw await recordRequest(handle, name, 'stop', !!opts.force);
  try {
    await handle.executeUpdate(stopUpdate, { args: [{ force: !!opts.force }] });
  } catch (err) {
    throw refused(`cannot stop ${name}`, err);
  }
  opts.onAccepted?.();
  const t0 = Date.now();
  try {
    await handle.result();
  } catch (err) {
    // A job that failed while stopping still reports how it ended.
    if (!(err instanceof WorkflowFailedError)) throw err;
  }
  // The run has ended: its memo holds the final phase and agents. A query would make a worker
  // replay the whole history, which a worker busy with other jobs' stops did not do within 3 s.
  const view = await serverView(handle, name);
  if (view.phase && view.agents)
    return { job: name, phase: view.phase as JobPhase, agents: Object.keys(view.agents).length, elapsedMs: Date.now() - t0 };
  const status = await jobStatus(handle);
  return { job: name, phase: status.phase, agents: Object.keys(status.agents).length, elapsedMs: Date.now() - t0 };
}

/** Restarts agents (none named: all) through the health gate, callees first; resolves when they are back. */
export async function restartAgents(
  { name, handle, running }: Job,
  agents: string[],
  onStarted?: () => void,
): Promise<RestartResult & { elapsedMs: number }> {
  if (!running) throw notRunning(name, `see \`a2a-deploy status ${name}\``);
  onStarted?.();
  const t0 = Date.now();
  let result;
  try {
    result = await handle.executeUpdate(restartUpdate, { args: [agents.length ? { agents } : {}] });
  } catch (err) {
    throw refused(`cannot restart in ${name}`, err);
  }
  return { ...result, elapsedMs: Date.now() - t0 };
}

export interface SendOptions {
  /** an agent id; default the job's entry agent */
  agent?: string;
  /** how long to wait for the reply (default 30 s) */
  timeoutMs?: number;
  /** stream the reply (message/stream); an agent that does not stream gets a blocking send */
  stream?: boolean;
  /** each line of the reply's text as it arrives */
  onLine?: (line: string) => void;
  /** remarks about the exchange (e.g. the agent does not stream) */
  onNote?: (note: string) => void;
}

export interface SendResult extends SendOutcome {
  job: string;
  agent: string;
  /** the agent's URL as its peers know it */
  url: string;
}

/** Sends a text message to a healthy agent of the job and returns its reply. */
export async function sendToAgent({ name, handle }: Job, text: string, opts: SendOptions = {}): Promise<SendResult> {
  const status = await jobStatus(handle);
  const target = opts.agent ?? status.entry;
  const agent = status.agents[target];
  if (!agent)
    throw new NotFoundError(`job '${name}' has no agent '${target}'`, `agents: ${Object.keys(status.agents).join(', ')}`, name, target);
  if (agent.state !== 'healthy')
    throw new JobFailedError(
      `agent '${target}' of job '${name}' is ${agent.state}, not healthy`,
      name,
      `see \`a2a-deploy status ${name}\``,
    );
  // A container on a job network is known to its peers by name; from here it answers on
  // its port published on 127.0.0.1, which is where its health is checked too.
  const plan = await handle.query(planQuery);
  const url = plan.agents[target]?.target === 'container' ? new URL(plan.agents[target].healthUrl).origin : agent.url;
  // Loaded here: the A2A client is big, and only `send` needs it.
  const [{ sendText }, { failureText }] = await Promise.all([import('./a2a-send'), import('./a2a-reply')]);
  try {
    const outcome = await sendText(url, text, {
      timeoutMs: opts.timeoutMs ?? 30_000,
      stream: opts.stream === true,
      onLine: opts.onLine ?? (() => {}),
      onNote: opts.onNote ?? (() => {}),
    });
    return { job: name, agent: target, url: agent.url, ...outcome };
  } catch (err) {
    throw new JobFailedError(`sending to ${target} at ${url} failed: ${failureText(err)}`, name);
  }
}
