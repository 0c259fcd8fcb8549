// The deploy workflow: one per job, its durable supervisor. It walks the plan computed by the
// CLI (it decides nothing about topology): it starts each agent as soon as every agent it calls
// is healthy, then watches the agents and applies their restart policies, accepts pause,
// resume, redeploy and stop, and tears down callers before callees. Everything that touches
// the world is an activity; this file only keeps state and order.
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { AgentEvent, JobActivities } from '../activities/types';
import { diffPlans } from '../job/diff';
import type { AgentPlan, DeployPlan } from '../job/plan';
import {
  SA_PHASE,
  pauseUpdate,
  planQuery,
  redeployUpdate,
  resumeUpdate,
  statusQuery,
  stopUpdate,
  type AgentState,
  type AgentStatus,
  type DeployJobInput,
  type DeployJobResult,
  type JobPhase,
  type JobStatus,
  type RedeployResult,
  type StopRequest,
} from './api';

// Since this patch an agent is started and health-gated by one activity (deployAgent): one
// round trip through Temporal per dependency level instead of two.
const ONE_ACTIVITY_PER_AGENT = 'one-activity-per-agent';
// Heartbeats make a worker's death visible within seconds, so a restarted worker resumes fast.
const HEARTBEAT = '5s';
// A watch returns at least this often even when nothing happens, so the workflow can
// continue-as-new when Temporal suggests it.
const WATCH_ROUND = '30 minutes';

const runner = (agent: { id: string; target: string; taskQueue: string }, opts: Partial<ActivityOptions> = {}) =>
  proxyActivities<JobActivities>({
    taskQueue: agent.taskQueue, // a host worker pulls the work of the agents on its machine
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: HEARTBEAT,
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
    summary: `${agent.id} (${agent.target})`,
    ...opts,
  });

export async function deployJob({ plan: initialPlan, carried }: DeployJobInput): Promise<DeployJobResult> {
  let plan = initialPlan;
  const now = () => new Date().toISOString(); // workflow time: deterministic on replay
  const fresh = (a: AgentPlan): AgentStatus => ({
    id: a.id,
    stage: a.stage,
    target: a.target,
    state: 'pending',
    url: a.url,
    since: now(),
    restarts: 0,
  });
  const status: JobStatus = carried?.status ?? {
    job: plan.job,
    topology: plan.topology,
    phase: 'deploying',
    entry: plan.entry,
    stages: plan.stages,
    paused: false,
    agents: Object.fromEntries(Object.values(plan.agents).map((a) => [a.id, fresh(a)])),
  };
  const restartTimes: Record<string, number[]> = carried?.restartTimes ?? {};
  let stopRequest: StopRequest | undefined;
  let pendingRedeploy: { plan: DeployPlan; done: (r: RedeployResult) => void } | undefined;
  /** bumped whenever the set of agents to watch changes, so the watch is renewed */
  let watchEpoch = 0;
  let inFlight = 0; // restarts under way

  const setAgent = (id: string, state: AgentState, extra: Partial<AgentStatus> = {}) => {
    Object.assign(status.agents[id], { state, since: now(), ...extra });
    describe();
  };
  const setPhase = (phase: JobPhase) => {
    if (status.phase === phase) return;
    status.phase = phase;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
    describe();
  };
  // Running, or degraded while some agent is down for good.
  const settle = () => {
    if (status.phase !== 'running' && status.phase !== 'degraded') return;
    setPhase(Object.values(status.agents).some((a) => a.state === 'failed' || a.state === 'exited') ? 'degraded' : 'running');
  };
  // What the Web UI shows for this job, in words.
  // The Web UI's description of the job, rebuilt once per workflow activation however many
  // agents changed in it (rebuilding it on every change made a 1,000-agent deploy quadratic).
  let describing = false;
  const describe = () => {
    if (describing) return;
    describing = true;
    void Promise.resolve().then(() => {
      describing = false;
      writeDescription();
    });
  };
  const writeDescription = () => {
    const agents = Object.values(status.agents);
    const healthy = agents.filter((a) => a.state === 'healthy').length;
    const lines = [
      `**${plan.job}**: ${status.phase}${status.paused ? ' (paused)' : ''}, ${healthy}/${agents.length} agents healthy (${plan.topology}, entry agent ${plan.entry})`,
      '',
      ...plan.stages.map(
        (stage, i) =>
          `stage ${i}: ${stage.map((id) => `${id} ${status.agents[id].state}${status.agents[id].restarts ? ` (${status.agents[id].restarts} restarts)` : ''}`).join(', ')}`,
      ),
      ...(status.error ? ['', `error: ${status.error}`] : []),
    ];
    setCurrentDetails(lines.join('\n'));
  };
  const ending = () => stopRequest !== undefined || status.phase === 'stopping' || status.phase === 'stopped' || status.phase === 'failed';

  setHandler(statusQuery, () => status);
  setHandler(planQuery, () => plan);
  setHandler(
    stopUpdate,
    (req) => {
      stopRequest = req;
      return status.phase;
    },
    {
      validator: (_req: StopRequest) => {
        if (ending())
          throw new Error(
            `job ${plan.job} is already ${status.phase === 'failed' ? 'failed and torn down' : status.phase === 'stopped' ? 'stopped' : 'stopping'}`,
          );
      },
    },
  );
  setHandler(
    pauseUpdate,
    () => {
      status.paused = true;
      describe();
      return status.phase;
    },
    {
      validator: () => {
        if (ending()) throw new Error(`job ${plan.job} is ${status.phase}; there is nothing to pause`);
        if (status.paused) throw new Error(`job ${plan.job} is already paused`);
      },
    },
  );
  setHandler(
    resumeUpdate,
    () => {
      status.paused = false;
      describe();
      return status.phase;
    },
    {
      validator: () => {
        if (!status.paused) throw new Error(`job ${plan.job} is not paused`);
      },
    },
  );
  setHandler(redeployUpdate, async (next) => new Promise<RedeployResult>((done) => (pendingRedeploy = { plan: next, done })), {
    validator: (next: DeployPlan) => {
      if (next.job !== plan.job) throw new Error(`this is job ${plan.job}, not ${next.job}`);
      if (status.phase !== 'running' && status.phase !== 'degraded')
        throw new Error(`job ${plan.job} is ${status.phase}; a redeploy needs it running`);
      if (status.paused) throw new Error(`job ${plan.job} is paused; resume it first`);
      if (pendingRedeploy) throw new Error(`a redeploy of ${plan.job} is already under way`);
    },
  });
  describe();

  try {
    if (!carried) {
      const failure = await deployAgents(plan.stages.flat());
      if (failure) {
        status.error = failure;
        setPhase('stopping');
        await teardown(plan.stages.flat(), true);
        setPhase('failed');
        throw ApplicationFailure.nonRetryable(failure, 'DeployFailed');
      }
      if (!stopRequest) setPhase('running');
      settle();
    }
    await supervise();
    setPhase('stopping');
    await teardown(plan.stages.flat(), !!stopRequest?.force);
    setPhase('stopped');
    return { job: plan.job, phase: 'stopped' };
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled (e.g. from the Web UI): tear down all the same, then end as cancelled.
    await CancellationScope.nonCancellable(async () => {
      setPhase('stopping');
      await teardown(plan.stages.flat(), false);
      setPhase('stopped');
    });
    throw err;
  }

  /** Starts and health-gates one agent; throws on failure. */
  async function startOne(agent: AgentPlan) {
    setAgent(agent.id, 'starting');
    if (patched(ONE_ACTIVITY_PER_AGENT)) {
      const s = await runner(agent, {
        startToCloseTimeout: agent.stopGraceMs + agent.health.timeoutMs + 90_000,
        ...workerDeadline(agent),
      }).deployAgent({ job: plan.job, agent });
      setAgent(agent.id, 'healthy', {
        pid: s.pid,
        logDir: s.logDir,
        lastError: undefined,
        ...(s.containerId ? { containerId: s.containerId } : {}),
      });
      return;
    }
    // Histories recorded before the patch: start, then wait-healthy, as two activities.
    const s = await runner(agent, {
      startToCloseTimeout: agent.stopGraceMs + 60_000,
      // No worker on the agent's host: fail after the job file's deadline, naming the host.
      ...workerDeadline(agent),
    }).startAgent({ job: plan.job, agent });
    setAgent(agent.id, 'checking', { pid: s.pid, logDir: s.logDir, ...(s.containerId ? { containerId: s.containerId } : {}) });
    await runner(agent, { startToCloseTimeout: agent.health.timeoutMs + 30_000, ...workerDeadline(agent) }).waitHealthy({
      job: plan.job,
      agent,
      pid: s.pid,
      ...(s.containerId ? { containerId: s.containerId } : {}),
    });
    setAgent(agent.id, 'healthy', { lastError: undefined });
  }

  /**
   * Starts the given agents, each once every agent it calls is healthy (agents outside `ids`
   * count as ready when healthy). Returns the first failure, if any; after one, nothing new starts.
   */
  async function deployAgents(ids: string[]): Promise<string | undefined> {
    let failure: string | undefined;
    const ready = new Map<string, Promise<boolean>>();
    const deployOne = async (agent: AgentPlan): Promise<boolean> => {
      setAgent(agent.id, 'waiting');
      const deps = await Promise.all(agent.dependsOn.map((d) => ready.get(d) ?? Promise.resolve(status.agents[d]?.state === 'healthy')));
      // A pause lets agents already starting finish, and starts nothing new until resumed.
      await condition(() => !status.paused || stopRequest !== undefined);
      if (!deps.every(Boolean) || failure || stopRequest) return false;
      try {
        await startOne(agent);
        return true;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const message = failureMessage(agent, err);
        setAgent(agent.id, 'failed', { lastError: message });
        failure ??= message;
        log.warn('agent failed to deploy', { agent: agent.id, message });
        return false;
      }
    };
    // Stage order guarantees each agent's callees were registered before it.
    const order = plan.stages.flat().filter((id) => ids.includes(id));
    for (const id of order) ready.set(id, deployOne(plan.agents[id]));
    await Promise.all(ready.values());
    return failure;
  }

  /** Stops callers before callees: the highest stage first, each stage in parallel. */
  async function teardown(ids: string[], force: boolean, stages = plan.stages, agents = plan.agents) {
    for (const stage of [...stages].reverse()) {
      await Promise.all(
        stage
          .filter(
            (id) => ids.includes(id) && status.agents[id] && status.agents[id].state !== 'pending' && status.agents[id].state !== 'waiting',
          )
          .map(async (id) => {
            const agent = agents[id];
            const keep = status.agents[id].state === 'failed' ? 'failed' : 'stopped';
            setAgent(id, 'stopping', { lastError: status.agents[id].lastError });
            try {
              await runner(agent, { startToCloseTimeout: agent.stopGraceMs + 30_000, ...workerDeadline(agent) }).stopAgent({
                job: plan.job,
                agent,
                force,
              });
              setAgent(id, keep, { pid: undefined });
            } catch (err) {
              if (isCancellation(err)) throw err;
              // Teardown goes on for the others; this agent's state says what went wrong.
              setAgent(id, 'failed', { lastError: `could not stop: ${failureMessage(agent, err)}` });
            }
          }),
      );
    }
    for (const id of ids) if (status.agents[id] && !['failed', 'stopped'].includes(status.agents[id].state)) setAgent(id, 'stopped');
  }

  /** Watches the running agents until the job is stopped; restarts, redeploys, continues-as-new. */
  async function supervise() {
    for (;;) {
      if (stopRequest) return;
      if (pendingRedeploy && inFlight === 0) {
        const { plan: next, done } = pendingRedeploy;
        done(await redeploy(next));
        pendingRedeploy = undefined;
        continue;
      }
      if (workflowInfo().continueAsNewSuggested && inFlight === 0 && !pendingRedeploy) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof deployJob>({ plan, carried: { status, restartTimes } });
      }
      const watched = Object.values(status.agents).filter((a) => a.state === 'healthy' && a.pid !== undefined);
      const epoch = watchEpoch;
      const wake = () =>
        stopRequest !== undefined ||
        watchEpoch !== epoch ||
        (pendingRedeploy !== undefined && inFlight === 0) ||
        workflowInfo().continueAsNewSuggested;
      if (watched.length === 0) {
        await condition(wake);
        continue;
      }
      // The watch and the wake-up condition share a scope, so whichever loses the race is
      // cancelled and nothing is left pending from one round to the next.
      const scope = new CancellationScope();
      // One watch per machine and target: each runs on the worker next to its agents.
      const groups = new Map<string, typeof watched>();
      for (const a of watched) {
        const p = plan.agents[a.id];
        const key = `${p.taskQueue}\u0000${p.target}`;
        groups.set(key, [...(groups.get(key) ?? []), a]);
      }
      const watches = [...groups.values()].map((group) => {
        const first = plan.agents[group[0].id];
        return scope.run(() =>
          runner(
            { id: `${group.length} agents`, target: first.target, taskQueue: first.taskQueue },
            { startToCloseTimeout: WATCH_ROUND, retry: { maximumInterval: '10s' } },
          ).watchAgents({
            job: plan.job,
            agents: group.map((a) => {
              const p = plan.agents[a.id];
              return {
                id: a.id,
                pid: a.pid!,
                ...(a.containerId ? { containerId: a.containerId } : {}),
                healthUrl: p.healthUrl,
                ...(p.health.type ? { readiness: { type: p.health.type, agentUrl: p.url } } : {}),
                target: p.target,
                deployment: p.deployment,
              };
            }),
          }),
        );
      });
      const watch = Promise.race(watches);
      const woken = scope.run(() => condition(wake));
      const events = await Promise.race([watch, woken.then(() => undefined)]).catch((err) => {
        if (isCancellation(err)) return undefined;
        // A watch round that timed out or failed is simply renewed.
        log.warn('watch ended with an error; renewing', { error: String(err) });
        return [] as AgentEvent[];
      });
      scope.cancel();
      await Promise.allSettled([...watches, woken]);
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('job cancelled');
      if (events === undefined) continue;
      for (const ev of events) onAgentEvent(ev);
    }
  }

  function onAgentEvent(ev: AgentEvent) {
    const agent = plan.agents[ev.id];
    const a = status.agents[ev.id];
    if (!agent || a.state !== 'healthy') return;
    const lastError = `${ev.detail}${ev.stderr ? `\n--- last lines of ${ev.id}'s stderr ---\n${ev.stderr}` : ''}`;
    const cleanExit = ev.kind === 'exited' && ev.exitCode === 0;
    const policy = agent.restart.policy;
    if (policy === 'never' || (policy === 'on-failure' && cleanExit)) {
      setAgent(ev.id, cleanExit ? 'exited' : 'failed', { pid: undefined, lastError });
      settle();
      return;
    }
    // Restarts allowed within the window; older ones are forgotten.
    const t = Date.now();
    const recent = (restartTimes[ev.id] ?? []).filter((x) => t - x < agent.restart.windowMs);
    if (recent.length >= agent.restart.maxRestarts) {
      setAgent(ev.id, 'failed', {
        pid: undefined,
        lastError: `${lastError}\n(gave up after ${recent.length} restarts within ${agent.restart.windowMs / 1000}s)`,
      });
      restartTimes[ev.id] = recent;
      settle();
      return;
    }
    restartTimes[ev.id] = [...recent, t];
    const backoff = Math.min(agent.restart.maxBackoffMs, agent.restart.backoffMs * 2 ** recent.length);
    setAgent(ev.id, 'restarting', { lastError, restarts: a.restarts + 1 });
    settle();
    inFlight++;
    void (async () => {
      try {
        await sleep(backoff);
        await condition(() => !status.paused || stopRequest !== undefined); // paused: leave it be
        if (stopRequest) return;
        // The old process may still be alive (unhealthy) or half-dead: stop it first.
        await runner(agent, { startToCloseTimeout: agent.stopGraceMs + 30_000 }).stopAgent({ job: plan.job, agent });
        await startOne(agent);
      } catch (err) {
        if (isCancellation(err)) return; // the job is being cancelled; its teardown stops this agent
        // A failed restart counts as a crash: the next watch sees no healthy agent, so we retry here.
        const message = failureMessage(agent, err);
        setAgent(agent.id, 'healthy', { lastError: message });
        onAgentEvent({ id: agent.id, kind: 'exited', exitCode: null, detail: message, stderr: '' });
      } finally {
        inFlight--;
        watchEpoch++;
        settle();
      }
    })();
  }

  /** Rolling redeploy: apply a changed plan, touching only what changed; roll back on failure. */
  async function redeploy(next: DeployPlan): Promise<RedeployResult> {
    const before = plan;
    const d = diffPlans(before, next);
    const result = { added: d.added, removed: d.removed, changed: d.changed };
    if (d.added.length + d.removed.length + d.changed.length === 0) return { applied: true, ...result };
    watchEpoch++;
    // Removed agents go first (callers before callees, in the old order).
    await teardown(d.removed, false, before.stages, before.agents);
    for (const id of d.removed) delete status.agents[id];
    // Changed agents are stopped just before their new spec starts, in the new plan's order.
    plan = next;
    status.stages = next.stages;
    status.entry = next.entry;
    for (const id of d.added) status.agents[id] = fresh(next.agents[id]);
    for (const id of d.changed)
      Object.assign(status.agents[id], { stage: next.agents[id].stage, url: next.agents[id].url, target: next.agents[id].target });
    for (const id of d.changed) {
      await runner(before.agents[id], { startToCloseTimeout: before.agents[id].stopGraceMs + 30_000 }).stopAgent({
        job: plan.job,
        agent: before.agents[id],
      });
      setAgent(id, 'pending', { pid: undefined });
    }
    const failure = await deployAgents([...d.added, ...d.changed]);
    if (!failure) {
      settle();
      return { applied: true, ...result };
    }
    // Roll back: stop what the new plan started, restore the previous specs.
    await teardown([...d.added, ...d.changed], true, next.stages, next.agents);
    for (const id of d.added) delete status.agents[id];
    plan = before;
    status.stages = before.stages;
    status.entry = before.entry;
    for (const id of [...d.changed, ...d.removed])
      status.agents[id] = { ...fresh(before.agents[id]), restarts: status.agents[id]?.restarts ?? 0 };
    const restoreFailure = await deployAgents([...d.changed, ...d.removed]);
    status.error = restoreFailure ? `rollback failed too: ${restoreFailure}` : undefined;
    settle();
    return { applied: false, rolledBack: true, error: failure, ...result };
  }
}

/**
 * Work for a host worker that may never come gets a deadline (the job file's worker_timeout);
 * work for the main worker just queues, however long a big job's backlog is.
 */
const workerDeadline = (agent: AgentPlan) => (agent.deployment.worker ? { scheduleToStartTimeout: agent.workerTimeoutMs } : {});

function failureMessage(agent: AgentPlan, err: unknown): string {
  const agentId = agent.id;
  // An activity failure wraps the runner's ApplicationFailure; its details carry stderr.
  let cause = err as { message?: string; cause?: unknown; details?: unknown[]; timeoutType?: unknown } | undefined;
  for (let c = cause; c; c = c.cause as typeof c) {
    // TimeoutType.SCHEDULE_TO_START: nobody polled the agent's queue in time.
    if (c.timeoutType === 2 || c.timeoutType === 'SCHEDULE_TO_START') {
      const who = agent.deployment.worker ? `host ${agent.deployment.worker}'s worker` : 'the main worker';
      return `agent '${agentId}': ${who} did not pick up the work within ${agent.workerTimeoutMs / 1000}s (task queue ${agent.taskQueue}); start it with \`a2a-deploy worker${agent.deployment.worker ? ` --host ${agent.deployment.worker}` : ''}\``;
    }
  }
  while (cause && cause.cause && !cause.details?.length) cause = cause.cause as typeof cause;
  const tail =
    typeof cause?.details?.[0] === 'string' && cause.details[0] ? `\n--- last lines of ${agentId}'s stderr ---\n${cause.details[0]}` : '';
  const message = cause?.message ?? String(err);
  return `${message.includes(agentId) ? message : `agent '${agentId}': ${message}`}${tail}`;
}
