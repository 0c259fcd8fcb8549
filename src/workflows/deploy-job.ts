// The deploy workflow: one per job, its durable supervisor. It walks the plan computed by the
// CLI (it decides nothing about topology): it starts each agent as soon as every agent it calls
// is healthy, then watches the agents and applies their restart policies, accepts pause,
// resume, restart, redeploy and stop, and tears down callers before callees. Everything that
// touches the world is an activity; decisions are pure functions (decisions.ts), messages are
// wired in handlers.ts; this file keeps state and order.
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { AgentEvent } from '../activities/types';
import { diffPlans } from '../job/diff';
import type { DeployPlan } from '../job/plan';
import {
  SA_PAUSED,
  SA_PHASE,
  type AgentState,
  type AgentStatus,
  type DeployJobInput,
  type DeployJobResult,
  type JobPhase,
  type RedeployResult,
  type RestartResult,
  type StatusMemo,
} from './api';
import {
  adoptPlan,
  decideCrash,
  describeJob,
  initialStatus,
  memoBulkChanges,
  memoDue,
  restorePlan,
  settledPhase,
  statusMemo,
  type JobState,
} from './decisions';
import { agentSteps, knownProcess, runner, withPriority } from './agent-steps';
import { failureMessage } from './failure-message';
import { registerHandlers } from './handlers';

// Since this patch the search attribute A2APaused and the memo `status` are kept current.
const PAUSED_ATTRIBUTE_AND_STATUS_MEMO = 'paused-attribute-and-status-memo';
// Since this patch the memo is rewritten during a deploy or stop by a count of agent changes, not
// by the workflow clock (decisions.ts memoBulkChanges).
const MEMO_BY_CHANGES = 'memo-by-changes';
// Since this patch the memo is written at fixed points of the main flow (a phase or pause change,
// the end of a restart or redeploy) and on single agent changes while the job runs, never from
// the many concurrent agent steps of a deploy, stop, restart or redeploy. How many memos those
// wrote depended on how a workflow task's events were split into activations, which differed
// between a busy worker and its replay (TMPRL1100 at stop, seen under load in the scale smoke).
const MEMO_OUTSIDE_BULK = 'memo-outside-bulk';
// Since this patch every activity carries the job's priority (agent-steps.ts withPriority).
const JOB_PRIORITY = 'job-priority-on-activities';
// A watch returns at least this often even when nothing happens, so the workflow can
// continue-as-new when Temporal suggests it.
const WATCH_ROUND = '30 minutes';
// Since this patch an agent's lastErrorAt after a crash is the time its watch found it (the
// event's `at`), not the workflow's clock, which right after a worker restart still showed the
// time of the task before it (12:34:34 for an exit found at 12:39:58, issue 23).
const ERROR_TIME_FROM_WATCH = 'error-time-from-watch';
export async function deployJob({ plan: initialPlan, carried, continueAsNewAfterEvents }: DeployJobInput): Promise<DeployJobResult> {
  const now = () => new Date().toISOString(); // workflow time: deterministic on replay
  const visible = patched(PAUSED_ATTRIBUTE_AND_STATUS_MEMO);
  const job: JobState = {
    plan: initialPlan,
    status: carried?.status ?? initialStatus(initialPlan, now()),
    restartTimes: carried?.restartTimes ?? {},
    watchEpoch: 0,
    inFlight: 0,
    prioritized: patched(JOB_PRIORITY),
  };
  const { status } = job;

  // A new error is stamped with its time; it stays (with its time) until the next one.
  const byChanges = patched(MEMO_BY_CHANGES);
  let changes = 0; // agent state changes so far (the memo's clock since MEMO_BY_CHANGES)
  const setAgent = (id: string, state: AgentState, extra: Partial<AgentStatus> = {}) => {
    changes++;
    const stamp =
      extra.lastError !== undefined ? { lastErrorAt: extra.lastErrorAt ?? now() } : 'lastError' in extra ? { lastErrorAt: undefined } : {};
    // A process gone from the status takes its start time with it.
    const gone = 'pid' in extra && extra.pid === undefined ? { procStart: undefined } : {};
    Object.assign(status.agents[id], { state, since: now(), ...extra, ...stamp, ...gone });
    describe();
  };
  const setPhase = (phase: JobPhase) => {
    if (status.phase === phase) return;
    status.phase = phase;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
    describe();
    if (outsideBulk) writeMemo();
  };
  const setPaused = (paused: boolean) => {
    status.paused = paused;
    if (visible) upsertSearchAttributes([{ key: SA_PAUSED, value: paused }]);
    describe();
    if (outsideBulk) writeMemo();
  };
  const settle = () => setPhase(settledPhase(status));
  // The Web UI's description of the job (and the memo), rebuilt once per workflow activation
  // however many agents changed in it (rebuilding it on every change made a 1,000-agent deploy
  // quadratic).
  let describing = false;
  let lastMemo: { memo: StatusMemo; atMs: number } | undefined;
  const outsideBulk = patched(MEMO_OUTSIDE_BULK);
  // Agents coming and going in bulk: their steps run concurrently (see MEMO_OUTSIDE_BULK).
  const inBulk = () =>
    status.phase === 'deploying' || status.phase === 'stopping' || job.pendingRestart !== undefined || job.pendingRedeploy !== undefined;
  /** Writes the memo now if it changed (MEMO_OUTSIDE_BULK): called from the main flow only. */
  const writeMemo = () => {
    if (!visible) return;
    const memo = statusMemo(status, now());
    if (lastMemo && JSON.stringify({ ...lastMemo.memo, updatedAt: '' }) === JSON.stringify({ ...memo, updatedAt: '' })) return;
    lastMemo = { memo, atMs: changes };
    upsertMemo({ status: memo });
  };
  const describe = () => {
    if (describing) return;
    describing = true;
    void Promise.resolve().then(() => {
      describing = false;
      setCurrentDetails(describeJob(job.plan, status));
      if (!visible) return;
      if (outsideBulk) {
        // A single change while the job runs (a crash, a restart by policy) is written at once;
        // changes in bulk wait for the main flow's next fixed point.
        if (!inBulk()) writeMemo();
        return;
      }
      const memo = statusMemo(status, now());
      const clock = byChanges ? changes : Date.now();
      if (!memoDue(lastMemo, memo, clock, byChanges ? memoBulkChanges(Object.keys(status.agents).length) : undefined)) return;
      lastMemo = { memo, atMs: clock };
      upsertMemo({ status: memo });
    });
  };
  // Temporal's suggestion (or, in tests, a history longer than the input's threshold), once no
  // restart, redeploy or restart update is under way. (Waking on the suggestion alone while a
  // restart was under way made the watch loop spin within one workflow task.)
  const continueAsNewDue = () =>
    (workflowInfo().continueAsNewSuggested ||
      (continueAsNewAfterEvents !== undefined && workflowInfo().historyLength >= continueAsNewAfterEvents)) &&
    job.inFlight === 0 &&
    !job.pendingRedeploy &&
    !job.pendingRestart;

  const { startOne, deployAgents, teardown } = agentSteps(job, setAgent);
  registerHandlers(job, { changed: describe, setPaused, now });
  if (visible && !carried) upsertSearchAttributes([{ key: SA_PAUSED, value: false }]);
  describe();

  try {
    if (!carried) {
      const failure = await deployAgents(job.plan.stages.flat());
      if (failure) {
        status.error = failure;
        setPhase('stopping');
        await teardown(job.plan.stages.flat(), true);
        setPhase('failed');
        throw ApplicationFailure.nonRetryable(failure, 'DeployFailed');
      }
      if (!job.stopRequest) setPhase('running');
      settle();
    }
    await supervise();
    setPhase('stopping');
    await teardown(job.plan.stages.flat(), !!job.stopRequest?.force);
    setPhase('stopped');
    return { job: job.plan.job, phase: 'stopped' };
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled (e.g. from the Web UI): tear down all the same, then end as cancelled.
    await CancellationScope.nonCancellable(async () => {
      setPhase('stopping');
      await teardown(job.plan.stages.flat(), false);
      setPhase('stopped');
    });
    throw err;
  }

  /** Watches the running agents until the job is stopped; restarts, redeploys, continues-as-new. */
  async function supervise() {
    for (;;) {
      if (job.stopRequest) {
        job.pendingRestart?.done({ restarted: [], failed: [], error: `job ${job.plan.job} is stopping` });
        return;
      }
      if (job.pendingRedeploy && job.inFlight === 0) {
        const { plan: next, done } = job.pendingRedeploy;
        done(await redeploy(next));
        job.pendingRedeploy = undefined;
        if (outsideBulk) writeMemo();
        continue;
      }
      if (job.pendingRestart && job.inFlight === 0) {
        const { ids, done } = job.pendingRestart;
        done(await restartAgents(ids));
        job.pendingRestart = undefined;
        if (outsideBulk) writeMemo();
        continue;
      }
      if (continueAsNewDue()) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof deployJob>({
          plan: job.plan,
          carried: { status, restartTimes: job.restartTimes },
          ...(continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents } : {}),
        });
      }
      const watched = Object.values(status.agents).filter((a) => a.state === 'healthy' && a.pid !== undefined);
      const epoch = job.watchEpoch;
      const wake = () =>
        job.stopRequest !== undefined ||
        job.watchEpoch !== epoch ||
        ((job.pendingRedeploy !== undefined || job.pendingRestart !== undefined) && job.inFlight === 0) ||
        continueAsNewDue();
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
        const p = job.plan.agents[a.id];
        const key = `${p.taskQueue}\u0000${p.target}`;
        groups.set(key, [...(groups.get(key) ?? []), a]);
      }
      const watches = [...groups.values()].map((group) => {
        const first = job.plan.agents[group[0].id];
        return scope.run(() =>
          runner(
            { id: `${group.length} agents`, target: first.target, taskQueue: first.taskQueue },
            withPriority(job, { startToCloseTimeout: WATCH_ROUND, retry: { maximumInterval: '10s' } }),
          ).watchAgents({
            job: job.plan.job,
            agents: group.map((a) => {
              const p = job.plan.agents[a.id];
              return {
                id: a.id,
                pid: a.pid!,
                ...(a.containerId ? { containerId: a.containerId } : {}),
                ...(a.procStart ? { procStart: a.procStart } : {}),
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
    const agent = job.plan.agents[ev.id];
    const a = status.agents[ev.id];
    if (!agent || a.state !== 'healthy') return;
    const decision = decideCrash(ev, agent.restart, job.restartTimes[ev.id] ?? [], Date.now());
    // When the watch found it (its own stamp, recorded in the activity's result): the workflow's
    // clock showed the time of the task before a worker restart instead (issue 23).
    const errorAt = ev.at !== undefined && patched(ERROR_TIME_FROM_WATCH) ? { lastErrorAt: ev.at } : {};
    if (decision.action === 'leave') {
      setAgent(ev.id, decision.state, { pid: undefined, lastError: decision.lastError, ...errorAt });
      settle();
      return;
    }
    job.restartTimes[ev.id] = decision.restartTimes;
    if (decision.action === 'give-up') {
      setAgent(ev.id, 'failed', { pid: undefined, lastError: decision.lastError, ...errorAt });
      settle();
      return;
    }
    const backoff = decision.backoffMs;
    setAgent(ev.id, 'restarting', { lastError: decision.lastError, restarts: a.restarts + 1, ...errorAt });
    settle();
    job.inFlight++;
    void (async () => {
      try {
        await sleep(backoff);
        await condition(() => !status.paused || job.stopRequest !== undefined); // paused: leave it be
        if (job.stopRequest) return;
        // The old process may still be alive (unhealthy) or half-dead: stop it first.
        await runner(agent, withPriority(job, { startToCloseTimeout: agent.stopGraceMs + 30_000 })).stopAgent({
          job: job.plan.job,
          agent,
          ...knownProcess(status.agents[agent.id]),
        });
        await startOne(agent);
      } catch (err) {
        if (isCancellation(err)) return; // the job is being cancelled; its teardown stops this agent
        // A failed restart counts as a crash: the next watch sees no healthy agent, so we retry here.
        const message = failureMessage(agent, err);
        setAgent(agent.id, 'healthy', { lastError: message });
        onAgentEvent({ id: agent.id, kind: 'exited', exitCode: null, detail: message, stderr: '' });
      } finally {
        job.inFlight--;
        job.watchEpoch++;
        settle();
      }
    })();
  }

  /**
   * The restart update: stops the agents (callers first), then starts them again through the
   * health gate (callees first). Their restart windows start afresh.
   */
  async function restartAgents(ids: string[]): Promise<RestartResult> {
    job.watchEpoch++;
    await teardown(ids, false);
    for (const id of ids) {
      job.restartTimes[id] = [];
      setAgent(id, 'pending', { restarts: status.agents[id].restarts + 1 });
    }
    const failure = await deployAgents(ids);
    // After a failure nothing new starts: the agents still waiting stay down, and say why.
    for (const id of ids)
      if (status.agents[id].state === 'waiting') setAgent(id, 'failed', { lastError: `not restarted: ${failure?.split('\n')[0]}` });
    settle();
    const failed = ids.filter((id) => status.agents[id].state !== 'healthy');
    return { restarted: ids.filter((id) => !failed.includes(id)), failed, ...(failure ? { error: failure } : {}) };
  }

  /** Rolling redeploy: apply a changed plan, touching only what changed; roll back on failure. */
  async function redeploy(next: DeployPlan): Promise<RedeployResult> {
    const before = job.plan;
    const d = diffPlans(before, next);
    const result = { added: d.added, removed: d.removed, changed: d.changed };
    if (d.added.length + d.removed.length + d.changed.length === 0) return { applied: true, ...result };
    job.watchEpoch++;
    // Removed agents go first (callers before callees, in the old order).
    await teardown(d.removed, false, before.stages, before.agents);
    for (const id of d.removed) delete status.agents[id];
    // Changed agents are stopped just before their new spec starts, in the new plan's order.
    job.plan = next;
    adoptPlan(status, next, d, now());
    for (const id of d.changed) {
      await runner(before.agents[id], withPriority(job, { startToCloseTimeout: before.agents[id].stopGraceMs + 30_000 })).stopAgent({
        job: job.plan.job,
        agent: before.agents[id],
        ...knownProcess(status.agents[id]),
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
    job.plan = before;
    restorePlan(status, before, d, now());
    const restoreFailure = await deployAgents([...d.changed, ...d.removed]);
    status.error = restoreFailure ? `rollback failed too: ${restoreFailure}` : undefined;
    settle();
    return { applied: false, rolledBack: true, error: failure, ...result };
  }
}
