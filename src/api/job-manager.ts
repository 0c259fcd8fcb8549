// The TypeScript API: everything the CLI does, as methods that return typed results and throw
// typed errors (./errors). The CLI (src/cli/commands) is a thin layer over this class.
import type { Client } from '@temporalio/client';
import { sleep } from '../common/sleep';
import type { DeployPlan } from '../job/plan';
import type { TemporalConfig } from '../temporal/connection';
import { workflowUiUrl } from '../temporal/connection';
import { workflowIdFor, type JobPhase, type RestartResult } from '../workflows/api';
import {
  restartAgents,
  sendToAgent,
  stopEnded,
  stopJob,
  toggleJob,
  type SendOptions,
  type SendResult,
  type StopOptions,
  type StopResult,
} from './control';
import { checkPlanSize, startJob, type StartOptions, type StartResult } from './deploy';
import {
  checkAgentList,
  checkJobInput,
  checkName,
  checkOlderThan,
  checkOptions,
  checkPlan,
  checkTimeoutMs,
  described,
  isPlanInput,
} from './input-checks';
import { InvalidInputError } from './errors';
import { jobContext, jobHandle, type JobContext } from './jobs';
import { listJobs, listQuery, type JobSummary, type ListFilter } from './list';
import { jobVars, loadPlan, validateJob, type JobInput, type ValidationResult, type VarsOptions } from './load';
import { openLogs, type LogOptions, type LogStream } from './logs';
import { resolveConfig, type JobManagerOptions } from './options';
import { deleteJob, pruneJobs, type DeleteResult, type PruneResult } from './retention';
import { jobReport, type JobReport } from './status';

/** Where `${NAME}` in a job file gets its values: env files and the environment, or the variables themselves. */
export type LoadOptions = VarsOptions & { vars?: Readonly<Record<string, string | undefined>> };

/**
 * Deploys and drives a2a jobs on Temporal.
 *
 * ```ts
 * const jm = new JobManager();
 * const { status } = await jm.start('jobs/examples/simple-weather.yaml');
 * await jm.stop(status!.job);
 * await jm.close();
 * ```
 *
 * Connects lazily, on the first call that needs Temporal. With no server configured it uses the
 * embedded dev server (started if need be, with a background worker), as the CLI does.
 */
export class JobManager {
  private cfg?: TemporalConfig;
  private readonly contexts: { worker?: Promise<JobContext>; plain?: Promise<JobContext> } = {};

  constructor(private readonly options: JobManagerOptions = {}) {}

  /** The Temporal settings in use: the options over the environment. Throws InvalidInputError for unreadable TLS settings. */
  get config(): TemporalConfig {
    this.cfg ??= resolveConfig(this.options);
    return this.cfg;
  }

  /** The job's page in the Temporal Web UI. */
  webUiUrl(job: string): string {
    return workflowUiUrl(this.config, workflowIdFor(job));
  }

  /**
   * Checks a job (a file path, or a parsed job object) and returns every problem located at
   * FILE:LINE:COL. Never throws for a bad job: see `ok` and `diagnostics`. Needs no Temporal.
   * @throws InvalidInputError when an env file is unreadable or malformed
   */
  validate(input: JobInput, opts: LoadOptions = {}): ValidationResult {
    checkJobInput(input);
    opts = checkOptions(opts, 'options');
    return validateJob(input, opts.vars ?? jobVars(opts));
  }

  /**
   * The deploy plan of a job: its stages, and each agent's target, URL and calls. Needs no Temporal.
   * @throws InvalidInputError with `locations` (FILE:LINE:COL) for every problem in the job
   */
  plan(input: JobInput, opts: LoadOptions = {}): DeployPlan {
    checkJobInput(input);
    opts = checkOptions(opts, 'options');
    return loadPlan(input, opts.vars ?? jobVars(opts)).plan;
  }

  /**
   * Deploys a job (a file path, a parsed job, or a plan from `plan()`) and by default waits until
   * every agent is healthy; `onProgress` hears each agent's state change. For a job that runs
   * already, rolls out the changed spec (`redeploy` in the result).
   * @throws InvalidInputError for a bad job, or a plan too big for one workflow input
   * @throws RefusedError when the job runs already with this exact spec, or the rollout is refused
   * @throws JobFailedError when the deploy fails (every agent it had started is stopped by then)
   * @throws TemporalUnreachableError
   */
  async start(input: JobInput | DeployPlan, opts: StartOptions & LoadOptions = {}): Promise<StartResult> {
    opts = checkOptions(opts, 'options');
    // A plan it did not make is checked as strictly as a job file: its names become paths and ids.
    const plan = isPlanInput(input) ? checkPlan(input) : this.plan(input as JobInput, opts);
    // Before connecting: a job too big is the input's fault, whatever the server.
    checkPlanSize({ cfg: this.config }, plan, typeof input === 'string' ? input : plan.sourceFile);
    return startJob(await this.context(true), plan, opts);
  }

  /**
   * A job's status: the workflow's own (`source: 'workflow'`) when a worker answers, else what
   * the server last recorded (`source: 'server'`, with the reason); for a run that ended without
   * its teardown (terminated, timed out), `source: 'ended'`: its last record and what may be left.
   * @throws NotFoundError when no job has this name
   */
  async status(job: string): Promise<JobReport> {
    checkName(job);
    const ctx = await this.context(true);
    const { handle, execution } = await jobHandle(ctx, job);
    return jobReport(ctx, handle, job, execution);
  }

  /**
   * The jobs whose workflow runs (with `all`, finished ones too), newest first, filtered by
   * phase, topology, priority, name prefix and paused.
   * @throws InvalidInputError for a filter value outside its list
   */
  async list(filter: ListFilter = {}): Promise<JobSummary[]> {
    listQuery(filter); // refuses a bad filter before connecting
    return listJobs((await this.context(false)).client, filter);
  }

  /**
   * Each change of a job's status, as it happens (polled every `intervalMs`, default 1 s). Ends
   * after the status seen once the job's workflow has closed, or when `signal` aborts.
   * @throws NotFoundError when no job has this name
   */
  async *watch(job: string, opts: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<JobReport> {
    checkName(job);
    const ctx = await this.context(true);
    const { handle } = await jobHandle(ctx, job);
    let last = '';
    while (!opts.signal?.aborted) {
      const execution = (await handle.describe()).status.name;
      const running = execution === 'RUNNING';
      const report = await jobReport(ctx, handle, job, execution);
      const seen = JSON.stringify(report.source === 'workflow' ? report.status : report.view);
      if (seen !== last) yield report;
      last = seen;
      if (!running) return;
      await sleep(opts.intervalMs ?? 1000);
    }
  }

  /**
   * Pauses a running job: its agents keep running, nothing new starts and no agent is restarted.
   * Returns the job's phase.
   * @throws RefusedError when the job is not running or is paused already
   * @throws NoWorkerError (recorded: 'pause') when no worker answers; the request applies when one runs
   */
  async pause(job: string): Promise<JobPhase> {
    return toggleJob(await this.job(job), true);
  }

  /**
   * Undoes pause. Returns the job's phase.
   * @throws RefusedError when the job is not running or not paused
   * @throws NoWorkerError (recorded: 'resume') when no worker answers; the request applies when one runs
   */
  async resume(job: string): Promise<JobPhase> {
    return toggleJob(await this.job(job), false);
  }

  /**
   * Tears a job down, callers before callees (with `force`, kills at once), and waits until every agent is down.
   * For a job whose run was terminated (or timed out) without its teardown, removes what is left
   * of it on this machine instead (phase `terminated` or `timed-out`, with `leftovers`).
   * @throws RefusedError when the job is not running (or stopping already), unless terminated as above
   * @throws NoWorkerError (recorded: 'stop') when no worker answers; the request applies when one runs
   */
  async stop(job: string, opts: StopOptions = {}): Promise<StopResult> {
    const j = await this.job(job);
    return j.running ? stopJob(j, opts) : stopEnded(await this.context(true), j);
  }

  /**
   * Restarts agents (none named: every agent) through the health gate, callees first, and waits
   * until they are back; `failed` lists those that did not come back.
   * @throws RefusedError when the job is not running, or an agent is unknown
   */
  async restart(job: string, agents: string[] = [], opts: { onStarted?: () => void } = {}): Promise<RestartResult & { elapsedMs: number }> {
    const names = checkAgentList(agents);
    return restartAgents(await this.job(job), names, checkOptions(opts, 'restart options').onStarted);
  }

  /**
   * Sends a text message to the job's entry agent (or `agent`) over A2A and returns the reply.
   * @throws NotFoundError when the job or the agent is unknown
   * @throws JobFailedError when the agent is not healthy or the exchange fails
   */
  async send(job: string, text: string, opts: SendOptions = {}): Promise<SendResult> {
    opts = checkOptions(opts, 'send options');
    checkTimeoutMs(opts.timeoutMs);
    if (typeof text !== 'string') throw new InvalidInputError(`the message must be a string, not ${described(text)}`);
    if (opts.agent !== undefined) checkName(opts.agent, 'agent');
    return sendToAgent(await this.job(job), text, opts);
  }

  /**
   * The agents' output, line by line: the last `tail` lines of each stream, then (with `follow`)
   * new lines until `signal` aborts or the loop is left. With no worker, this machine's log files.
   * @throws NotFoundError when the job or the agent is unknown
   */
  async logs(job: string, opts: LogOptions = {}): Promise<LogStream> {
    checkName(job);
    const ctx = await this.context(true);
    const { handle } = await jobHandle(ctx, job);
    return openLogs(ctx, handle, job, opts);
  }

  /**
   * Removes every run of a finished job from Temporal; afterwards the job is unknown.
   * @throws RefusedError while the job runs
   * @throws NotFoundError when no job has this name
   */
  async delete(job: string): Promise<DeleteResult> {
    checkName(job);
    return deleteJob((await this.context(false)).client, job);
  }

  /**
   * Removes the finished jobs whose last run ended more than `olderThan` ago (milliseconds, or
   * a duration such as `7d`, `12h`); with `dryRun`, only says which.
   * @throws InvalidInputError for a malformed duration
   */
  async prune(opts: { olderThan: number | string; dryRun?: boolean }): Promise<PruneResult> {
    const ms = checkOlderThan(checkOptions(opts, 'prune options').olderThan);
    return pruneJobs((await this.context(false)).client, ms, opts.dryRun === true);
  }

  /** Closes the connection to Temporal. What was set in motion (deploys, stops) goes on there. */
  async close(): Promise<void> {
    const open = [this.contexts.worker, this.contexts.plain];
    this.contexts.worker = this.contexts.plain = undefined;
    for (const p of open) {
      const ctx = await p?.catch(() => undefined);
      await ctx?.client.connection.close();
    }
  }

  /** The connection; needWorker: in the embedded mode, a background worker is started if none runs. */
  private context(needWorker: boolean): Promise<JobContext> {
    const key = needWorker ? 'worker' : 'plain';
    const existing = this.contexts[key] ?? (needWorker ? undefined : this.contexts.worker);
    if (existing) return existing;
    const say = this.options.onNotice ?? (() => {});
    const p = jobContext({ needWorker, cfg: this.config, say });
    // A failed connect is not remembered: the next call tries again.
    p.catch(() => this.contexts[key] === p && (this.contexts[key] = undefined));
    this.contexts[key] = p;
    return p;
  }

  private async job(name: string) {
    checkName(name);
    const { handle, running } = await jobHandle(await this.context(true), name);
    return { name, handle, running };
  }
}

export type { Client };
