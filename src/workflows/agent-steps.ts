// The workflow's steps on agents, each a sequence of activities: start one agent through its
// health gate, deploy a set of agents in dependency order, tear a set down callers first.
// Shared by the deploy, the restart update and the redeploy (deploy-job.ts).
import { condition, isCancellation, log, patched, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { JobActivities, KnownProcess } from '../activities/types';
import type { AgentPlan } from '../job/plan';
import type { AgentState, AgentStatus } from './api';
import type { JobState } from './decisions';
import { failureMessage } from './failure-message';
import { priorityKeyOf } from '../config/names';

// Since this patch an agent is started and health-gated by one activity (deployAgent): one
// round trip through Temporal per dependency level instead of two.
const ONE_ACTIVITY_PER_AGENT = 'one-activity-per-agent';
// Since this patch an agent that becomes healthy again keeps its last error and its time: after
// an automatic restart, status still says why it was restarted.
const KEEP_LAST_ERROR = 'keep-last-error-after-restart';
// Since this patch stopAgent is told the pid (with its start time) and container id the
// workflow knows, so a stop finds the agent even when its state folder and markers do not.
const STOP_WITH_KNOWN_PROCESS = 'stop-with-known-process';
// Since this patch a teardown stops each level's agents in batches (stopAgents), one activity per
// worker, target and STOP_BATCH agents, instead of one activity per agent.
const BATCHED_STOPS = 'batched-stops';
const STOP_BATCH = 100;
// Since this patch a teardown of at most STOP_BATCH agents on one worker and target is one
// stopAgents activity that stops the levels in order itself: a small job's stop costs one round
// trip through Temporal instead of one per level (a 5-stage pipeline's teardown was 8x the floor's).
const ONE_STOP_ACTIVITY = 'one-stop-activity';
// Heartbeats make a worker's death visible within seconds, so a restarted worker resumes fast.
// Workers send them every 2 s at most (worker.ts HEARTBEAT_EVERY), so a live worker whose event
// loop stalls for up to 8 s (a saturated 2-core machine, a long GC) is not taken for dead, and a
// dead one is noticed within 10 s. (At 5 s with the SDK's default throttle of 80%, 4 s, one second
// of stall failed whole deploys.)
const HEARTBEAT = '10s';

export const runner = (agent: { id: string; target: string; taskQueue: string }, opts: Partial<ActivityOptions> = {}) =>
  proxyActivities<JobActivities>({
    taskQueue: agent.taskQueue, // a host worker pulls the work of the agents on its machine
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: HEARTBEAT,
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
    summary: `${agent.id} (${agent.target})`,
    ...opts,
  });

/**
 * Work for a host worker that may never come gets a deadline (the job file's worker_timeout);
 * work for the main worker just queues, however long a big job's backlog is.
 */
const workerDeadline = (agent: AgentPlan) => (agent.deployment.worker ? { scheduleToStartTimeout: agent.workerTimeoutMs } : {});

/**
 * An activity's options with the job's priority (job.priority as Temporal's priorityKey), so that
 * on saturated workers a critical job's agents start before a low one's. Activities inherit the
 * workflow's priority anyway; setting it here keeps it after a continue-as-new and follows a
 * redeploy that changes it.
 */
export const withPriority = (job: JobState, opts: Partial<ActivityOptions>): Partial<ActivityOptions> =>
  job.prioritized ? { priority: { priorityKey: priorityKeyOf(job.plan.priority) }, ...opts } : opts;

/** What stopAgent is told of the agent besides its plan: what the workflow recorded at its start. */
export function knownProcess(a: AgentStatus | undefined): { known?: KnownProcess } {
  if (!a || !patched(STOP_WITH_KNOWN_PROCESS)) return {};
  const known: KnownProcess = {
    ...(a.pid !== undefined ? { pid: a.pid } : {}),
    ...(a.procStart ? { procStart: a.procStart } : {}),
    ...(a.containerId ? { containerId: a.containerId } : {}),
  };
  return Object.keys(known).length ? { known } : {};
}

export type SetAgent = (id: string, state: AgentState, extra?: Partial<AgentStatus>) => void;

export function agentSteps(job: JobState, setAgent: SetAgent) {
  const { status } = job;
  /** Starts and health-gates one agent; throws on failure. */
  async function startOne(agent: AgentPlan) {
    setAgent(agent.id, 'starting');
    const cleared = patched(KEEP_LAST_ERROR) ? {} : { lastError: undefined };
    if (patched(ONE_ACTIVITY_PER_AGENT)) {
      const s = await runner(
        agent,
        withPriority(job, {
          startToCloseTimeout: agent.stopGraceMs + agent.health.timeoutMs + 90_000,
          ...workerDeadline(agent),
        }),
      ).deployAgent({ job: job.plan.job, agent });
      setAgent(agent.id, 'healthy', {
        pid: s.pid,
        logDir: s.logDir,
        ...cleared,
        ...(s.containerId ? { containerId: s.containerId } : {}),
        ...(s.procStart ? { procStart: s.procStart } : {}),
      });
      return;
    }
    // Histories recorded before the patch: start, then wait-healthy, as two activities.
    const s = await runner(
      agent,
      withPriority(job, {
        startToCloseTimeout: agent.stopGraceMs + 60_000,
        // No worker on the agent's host: fail after the job file's deadline, naming the host.
        ...workerDeadline(agent),
      }),
    ).startAgent({ job: job.plan.job, agent });
    setAgent(agent.id, 'checking', { pid: s.pid, logDir: s.logDir, ...(s.containerId ? { containerId: s.containerId } : {}) });
    await runner(agent, withPriority(job, { startToCloseTimeout: agent.health.timeoutMs + 30_000, ...workerDeadline(agent) })).waitHealthy({
      job: job.plan.job,
      agent,
      pid: s.pid,
      ...(s.containerId ? { containerId: s.containerId } : {}),
    });
    setAgent(agent.id, 'healthy', cleared);
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
      await condition(() => !status.paused || job.stopRequest !== undefined);
      if (!deps.every(Boolean) || failure || job.stopRequest) return false;
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
    const order = job.plan.stages.flat().filter((id) => ids.includes(id));
    for (const id of order) ready.set(id, deployOne(job.plan.agents[id]));
    await Promise.all(ready.values());
    return failure;
  }

  /** Stops callers before callees: the highest stage first, each stage in parallel. */
  async function teardown(ids: string[], force: boolean, stages = job.plan.stages, agents = job.plan.agents) {
    const wanted = new Set(ids);
    const batched = patched(BATCHED_STOPS);
    const started = (id: string) =>
      wanted.has(id) && status.agents[id] && status.agents[id].state !== 'pending' && status.agents[id].state !== 'waiting';
    const keepOf = (id: string) => (status.agents[id].state === 'failed' ? ('failed' as const) : ('stopped' as const));
    // Callers first: the highest stage is level 0.
    const levels = [...stages].reverse().map((stage) => stage.filter(started));
    const all = levels.flat();
    const oneQueue = all.every((id) => agents[id].taskQueue === agents[all[0]].taskQueue && agents[id].target === agents[all[0]].target);
    if (batched && all.length > 0 && all.length <= STOP_BATCH && oneQueue && patched(ONE_STOP_ACTIVITY)) {
      const keep = new Map(all.map((id) => [id, keepOf(id)]));
      for (const id of all) setAgent(id, 'stopping');
      await stopLevel(
        all.map((id) => agents[id]),
        force,
        keep,
        levels.flatMap((level, i) => level.map(() => i)),
      );
    } else
      for (const level of levels) {
        const keep = new Map(level.map((id) => [id, keepOf(id)]));
        for (const id of level) setAgent(id, 'stopping');
        if (batched)
          await stopLevel(
            level.map((id) => agents[id]),
            force,
            keep,
          );
        else await Promise.all(level.map((id) => stopOne(agents[id], force, keep.get(id)!)));
      }
    for (const id of ids) if (status.agents[id] && !['failed', 'stopped'].includes(status.agents[id].state)) setAgent(id, 'stopped');
  }

  /** One activity per agent (histories recorded before batched stops). */
  async function stopOne(agent: AgentPlan, force: boolean, keep: AgentState) {
    try {
      await runner(agent, withPriority(job, { startToCloseTimeout: agent.stopGraceMs + 30_000, ...workerDeadline(agent) })).stopAgent({
        job: job.plan.job,
        agent,
        force,
        ...knownProcess(status.agents[agent.id]),
      });
      setAgent(agent.id, keep, { pid: undefined });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Teardown goes on for the others; this agent's state says what went wrong.
      setAgent(agent.id, 'failed', { lastError: `could not stop: ${failureMessage(agent, err)}` });
    }
  }

  /**
   * A level's agents in batches: one stopAgents per worker and target, of at most STOP_BATCH
   * agents; or, with `levels` (ONE_STOP_ACTIVITY), a whole small teardown in one batch.
   */
  async function stopLevel(level: AgentPlan[], force: boolean, keep: Map<string, AgentState>, levels?: number[]) {
    const groups = new Map<string, AgentPlan[]>();
    for (const a of level) {
      const key = `${a.taskQueue}\u0000${a.target}`;
      const group = groups.get(key) ?? [];
      if (!groups.has(key)) groups.set(key, group);
      group.push(a);
    }
    const batches: AgentPlan[][] = [];
    for (const group of groups.values()) for (let i = 0; i < group.length; i += STOP_BATCH) batches.push(group.slice(i, i + STOP_BATCH));
    await Promise.all(
      batches.map(async (batch) => {
        const first = batch[0];
        const grace = Math.max(...batch.map((a) => a.stopGraceMs));
        const deadline = batch.find((a) => a.deployment.worker);
        try {
          const results = await runner(
            { id: `${batch.length} agents`, target: first.target, taskQueue: first.taskQueue },
            withPriority(job, { startToCloseTimeout: grace + 60_000, ...(deadline ? workerDeadline(deadline) : {}) }),
          ).stopAgents({
            job: job.plan.job,
            ...(force ? { force } : {}),
            agents: batch.map((agent) => ({ agent, ...knownProcess(status.agents[agent.id]) })),
            ...(levels ? { levels } : {}),
          });
          // Results come in the batch's order.
          results.forEach((r, i) => {
            if ('stopped' in r) setAgent(r.id, keep.get(r.id)!, { pid: undefined });
            else setAgent(r.id, 'failed', { lastError: `could not stop: ${failureMessage(batch[i], new Error(r.error))}` });
          });
        } catch (err) {
          if (isCancellation(err)) throw err;
          for (const a of batch) setAgent(a.id, 'failed', { lastError: `could not stop: ${failureMessage(a, err)}` });
        }
      }),
    );
  }

  return { startOne, deployAgents, teardown };
}
