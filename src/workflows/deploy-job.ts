// The deploy workflow: one per job. It walks the plan computed by the CLI (it decides nothing
// about topology), starting each agent as soon as every agent it calls is healthy, then holds
// the job until it is stopped, and tears down callers before callees. Everything that touches
// the world is an activity; this file only keeps state and order.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RunnerActivities } from '../activities/types';
import type { AgentPlan } from '../job/plan';
import {
  SA_PHASE,
  statusQuery,
  stopUpdate,
  type AgentState,
  type AgentStatus,
  type DeployJobInput,
  type DeployJobResult,
  type JobPhase,
  type JobStatus,
  type StopRequest,
} from './api';

const runner = (agent: AgentPlan, opts: Partial<ActivityOptions> = {}) =>
  proxyActivities<RunnerActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
    summary: `${agent.id} (${agent.target})`,
    ...opts,
  });

export async function deployJob({ plan }: DeployJobInput): Promise<DeployJobResult> {
  const now = () => new Date().toISOString(); // workflow time: deterministic on replay
  const status: JobStatus = {
    job: plan.job,
    topology: plan.topology,
    phase: 'deploying',
    entry: plan.entry,
    stages: plan.stages,
    paused: false,
    agents: Object.fromEntries(
      Object.values(plan.agents).map((a): [string, AgentStatus] => [a.id, { id: a.id, stage: a.stage, target: a.target, state: 'pending', url: a.url, since: now() }]),
    ),
  };
  let stopRequest: StopRequest | undefined;

  const setAgent = (id: string, state: AgentState, extra: Partial<AgentStatus> = {}) => {
    Object.assign(status.agents[id], { state, since: now(), ...extra });
  };
  const setPhase = (phase: JobPhase) => {
    status.phase = phase;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
    describe();
  };
  // What the Web UI shows for this job, in words.
  const describe = () => {
    const count = (s: AgentState) => Object.values(status.agents).filter((a) => a.state === s).length;
    const total = Object.keys(status.agents).length;
    const lines = [
      `**${plan.job}**: ${status.phase}${status.paused ? ' (paused)' : ''}, ${count('healthy')}/${total} agents healthy (${plan.topology}, entry agent ${plan.entry})`,
      '',
      ...plan.stages.map((stage, i) => `stage ${i}: ${stage.map((id) => `${id} ${status.agents[id].state}`).join(', ')}`),
      ...(status.error ? ['', `error: ${status.error}`] : []),
    ];
    setCurrentDetails(lines.join('\n'));
  };

  setHandler(statusQuery, () => status);
  setHandler(
    stopUpdate,
    (req) => {
      stopRequest = req;
      return status.phase;
    },
    {
      validator: (_req: StopRequest) => {
        if (stopRequest || status.phase === 'stopping' || status.phase === 'stopped') throw new Error(`job ${plan.job} is already ${status.phase === 'stopped' ? 'stopped' : 'stopping'}`);
        if (status.phase === 'failed') throw new Error(`job ${plan.job} has failed and is already torn down`);
      },
    },
  );
  describe();

  const started = new Set<string>();
  try {
    const failure = await deployAll();
    if (failure) {
      status.error = failure;
      setPhase('stopping');
      await teardown(true);
      setPhase('failed');
      throw ApplicationFailure.nonRetryable(failure, 'DeployFailed');
    }
    if (!stopRequest) setPhase('running');
    await condition(() => stopRequest !== undefined);
    setPhase('stopping');
    await teardown(!!stopRequest?.force);
    setPhase('stopped');
    return { job: plan.job, phase: 'stopped' };
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled (e.g. from the Web UI): tear down all the same, then end as cancelled.
    await CancellationScope.nonCancellable(async () => {
      setPhase('stopping');
      await teardown(false);
      setPhase('stopped');
    });
    throw err;
  }

  /** Starts every agent once its callees are healthy; returns the first failure, if any. */
  async function deployAll(): Promise<string | undefined> {
    let failure: string | undefined;
    const ready = new Map<string, Promise<boolean>>();
    const deployOne = async (agent: AgentPlan): Promise<boolean> => {
      setAgent(agent.id, 'waiting');
      const deps = await Promise.all(agent.dependsOn.map((d) => ready.get(d)!));
      if (!deps.every(Boolean) || failure || stopRequest) return false;
      setAgent(agent.id, 'starting');
      describe();
      try {
        started.add(agent.id);
        const s = await runner(agent).startAgent({ job: plan.job, agent });
        setAgent(agent.id, 'checking', { pid: s.pid, logDir: s.logDir });
        await runner(agent, {
          startToCloseTimeout: agent.health.timeoutMs + 30_000,
          heartbeatTimeout: '10s',
        }).waitHealthy({ job: plan.job, agent, pid: s.pid });
        setAgent(agent.id, 'healthy');
        describe();
        return true;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const message = failureMessage(agent.id, err);
        setAgent(agent.id, 'failed', { lastError: message });
        failure ??= message;
        log.warn('agent failed to deploy', { agent: agent.id, message });
        return false;
      }
    };
    // Stage order guarantees each agent's callees were registered before it.
    for (const id of plan.stages.flat()) ready.set(id, deployOne(plan.agents[id]));
    await Promise.all(ready.values());
    return failure;
  }

  /** Stops callers before callees: the highest stage first, each stage in parallel. */
  async function teardown(force: boolean) {
    for (const stage of [...plan.stages].reverse()) {
      await Promise.all(
        stage
          .filter((id) => started.has(id) || status.agents[id].pid !== undefined)
          .map(async (id) => {
            const agent = plan.agents[id];
            const failed = status.agents[id].state === 'failed';
            setAgent(id, 'stopping', failed ? { lastError: status.agents[id].lastError } : {});
            await runner(agent, { startToCloseTimeout: agent.stopGraceMs + 30_000, heartbeatTimeout: agent.stopGraceMs + 10_000 }).stopAgent({ job: plan.job, agent, force });
            setAgent(id, failed ? 'failed' : 'stopped', { pid: undefined });
          }),
      );
      describe();
    }
    for (const a of Object.values(status.agents)) if (a.state !== 'failed') setAgent(a.id, 'stopped');
  }
}

function failureMessage(agentId: string, err: unknown): string {
  // An activity failure wraps the runner's ApplicationFailure; its details carry stderr.
  let cause = err as { message?: string; cause?: unknown; details?: unknown[] } | undefined;
  while (cause && cause.cause && !(cause as { details?: unknown[] }).details?.length) cause = cause.cause as typeof cause;
  const app = cause as { message?: string; details?: unknown[] };
  const tail = typeof app?.details?.[0] === 'string' && app.details[0] ? `\n--- last lines of ${agentId}'s stderr ---\n${app.details[0]}` : '';
  const message = app?.message ?? String(err);
  return `${message.includes(agentId) ? message : `agent '${agentId}': ${message}`}${tail}`;
}

