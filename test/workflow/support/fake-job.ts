// Plans built in code and runner activities that only pretend: the workflow tests drive the real
// deploy workflow on Temporal's time-skipping test server, with agents that "start", "crash" and
// "stop" on command, and every call recorded (with its workflow time) for the assertions.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  AgentEvent,
  AgentRef,
  DeployedAgent,
  JobActivities,
  KnownProcess,
  StopBatch,
  StopBatchResult,
  StopOptions,
  WatchOptions,
} from '../../../src/activities/types';
import type { AgentPlan, DeployPlan, RestartPlan } from '../../../src/job/plan';

export interface AgentSketch {
  id: string;
  /** agents this one calls: they start first */
  calls?: string[];
  restart?: Partial<RestartPlan>;
  /** anything that changes the spec (and so its hash) */
  version?: number;
}

/** A plan like resolvePlan's, for agents on the main task queue of `taskQueue`. */
export function makePlan(job: string, sketches: AgentSketch[], taskQueue: string, priority = 'normal'): DeployPlan {
  const stageOf = new Map<string, number>();
  const stage = (s: AgentSketch): number => {
    if (!stageOf.has(s.id)) stageOf.set(s.id, 1 + Math.max(-1, ...(s.calls ?? []).map((c) => stage(sketches.find((x) => x.id === c)!))));
    return stageOf.get(s.id)!;
  };
  const agents: Record<string, AgentPlan> = {};
  sketches.forEach((s, i) => {
    const port = 19500 + i;
    agents[s.id] = {
      id: s.id,
      target: 'localhost',
      port,
      url: `http://127.0.0.1:${port}`,
      healthUrl: `http://127.0.0.1:${port}/health`,
      stage: stage(s),
      connectsTo: s.calls ?? [],
      dependsOn: s.calls ?? [],
      run: { command: ['fake-agent'], args: [] },
      env: { AGENT_ID: s.id },
      health: { path: '/health', timeoutMs: 30_000, intervalMs: 100 },
      restart: { policy: 'always', maxRestarts: 5, windowMs: 600_000, backoffMs: 1_000, maxBackoffMs: 30_000, ...s.restart },
      stopGraceMs: 10_000,
      deployment: { sshPort: 22, node: 'node', pull: 'if-not-present', volumes: [] },
      taskQueue,
      workerTimeoutMs: 120_000,
      baseDir: '/tmp',
      specHash: `${s.id}-v${s.version ?? 1}`,
    };
  });
  const height = Math.max(...stageOf.values());
  const stages = Array.from({ length: height + 1 }, (_, h) => sketches.filter((s) => stageOf.get(s.id) === h).map((s) => s.id));
  const called = new Set(sketches.flatMap((s) => s.calls ?? []));
  return {
    job,
    priority,
    topology: 'dag',
    sourceFile: `/tmp/${job}.yaml`,
    stages,
    agents,
    entry: sketches.find((s) => !called.has(s.id))!.id,
  };
}

export interface Call {
  activity: 'deployAgent' | 'stopAgent' | 'stopAgents' | 'watchAgents';
  job: string;
  agent: string;
  specHash?: string;
  force?: boolean;
  /** stopAgent: what the workflow told it of the running agent */
  known?: KnownProcess;
  /** workflow (server) time at which the activity was scheduled */
  at: number;
  /** the Temporal task priority it was scheduled with (priorityKey; undefined: none) */
  priority?: number;
  /** stopAgents: each agent's level in the batch (callers at 0), when the batch is a whole teardown */
  levels?: number[];
}

const sleepOrCancel = async (ms: number) => {
  Context.current().heartbeat();
  await Context.current().sleep(ms);
};

/** Fake agents for every job the worker runs: what tests make them do, and what was asked of them. */
export class FakeAgents {
  readonly calls: Call[] = [];
  private pid = 1000;
  /** the pid each agent got from its latest deploy, by job/agent */
  private pids = new Map<string, number>();
  /** crashed agents (by job/agent): dead until deployed again, as a real process would be */
  private crashed = new Map<string, { pid: number | undefined; event: AgentEvent }>();
  /** deployAgent waits while an agent's gate is closed */
  private gates = new Map<string, { open: Promise<void>; release: () => void }>();
  /** spec hashes whose deploy fails */
  readonly failing = new Set<string>();

  /** The agent's next deploys wait until released. */
  hold(job: string, agent: string): void {
    let release!: () => void;
    const open = new Promise<void>((r) => (release = r));
    this.gates.set(`${job}/${agent}`, { open, release });
  }
  release(job: string, agent: string): void {
    this.gates.get(`${job}/${agent}`)?.release();
    this.gates.delete(`${job}/${agent}`);
  }
  /** The agent dies; the watch reports it. */
  crash(job: string, agent: string): void {
    const event: AgentEvent = {
      id: agent,
      kind: 'exited',
      exitCode: 1,
      detail: `${agent} exited with code 1`,
      stderr: `${agent}: crashing on purpose`,
    };
    this.crashed.set(`${job}/${agent}`, { pid: this.pids.get(`${job}/${agent}`), event });
  }
  of(activity: Call['activity'], job?: string): Call[] {
    return this.calls.filter((c) => c.activity === activity && (!job || c.job === job));
  }

  private record(activity: Call['activity'], job: string, agent: string, extra: Partial<Call> = {}) {
    const { currentAttemptScheduledTimestampMs: at, priority } = Context.current().info;
    this.calls.push({ activity, job, agent, at, ...(priority?.priorityKey ? { priority: priority.priorityKey } : {}), ...extra });
  }

  activities(): Partial<JobActivities> {
    return {
      deployAgent: async ({ job, agent }: AgentRef): Promise<DeployedAgent> => {
        this.record('deployAgent', job, agent.id, { specHash: agent.specHash });
        const key = `${job}/${agent.id}`;
        const gate = this.gates.get(key);
        while (gate && this.gates.get(key) === gate) await Promise.race([gate.open, sleepOrCancel(200)]);
        if (this.failing.has(agent.specHash))
          throw ApplicationFailure.nonRetryable(`agent '${agent.id}' exited during start (code 1)`, 'AgentFailed', [
            `${agent.id}: bad spec`,
          ]);
        const pid = ++this.pid;
        this.pids.set(key, pid);
        this.crashed.delete(key);
        return {
          pid,
          procStart: `start-of-${pid}`,
          reused: false,
          startedAt: new Date().toISOString(),
          logDir: `/tmp/${agent.id}`,
          health: { attempts: 1, ms: 1 },
        };
      },
      stopAgent: async ({ job, agent, force, known }: StopOptions) => {
        this.record('stopAgent', job, agent.id, { force: !!force, ...(known ? { known } : {}) });
        return { wasRunning: true, forced: !!force };
      },
      // A batch records one stop per agent, as the agents are stopped one by one.
      stopAgents: async ({ job, force, agents, levels }: StopBatch): Promise<StopBatchResult> => {
        this.record('stopAgents', job, agents.map(({ agent }) => agent.id).join(','), levels ? { levels } : {});
        return agents.map(({ agent, known }) => {
          this.record('stopAgent', job, agent.id, { force: !!force, ...(known ? { known } : {}) });
          return { id: agent.id, stopped: { wasRunning: true, forced: !!force } };
        });
      },
      // Returns once one of its agents (the very process it watches, by pid) is dead. A crash is
      // state, not a message: a cancelled round that still sees it swallows nothing.
      watchAgents: async ({ job, agents }: WatchOptions): Promise<AgentEvent[]> => {
        this.record('watchAgents', job, agents.map((a) => a.id).join(','));
        for (;;) {
          const dead = agents
            .map((a) => ({ a, c: this.crashed.get(`${job}/${a.id}`) }))
            .filter(({ a, c }) => c && c.pid === a.pid)
            .map(({ c }) => c!.event);
          if (dead.length > 0) return dead;
          await sleepOrCancel(50);
        }
      },
    };
  }
}
