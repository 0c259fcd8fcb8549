// The activities a worker registers, built from what the worker hands them: the state home,
// the server marker, the Docker client and the SSH pool (no module-level singletons). Each
// activity goes to the runner of the agent's target: one runner per target.
import type Docker from 'dockerode';
import type { Target } from '../job/schema';
import { execProblem } from '../common/exec-limits';
import { SAFE_ID } from '../config/names';
import type { AgentPlan } from '../job/plan';
import { recordAgentStart } from '../metrics/instruments';
import { ApplicationFailure } from '@temporalio/activity';
import { createDockerRunner } from './docker';
import { createKubernetesRunner } from './kubernetes';
import { createLocalRunner } from './local-runner';
import { createSshRunner, type SshPool } from './ssh';
import { withHeartbeat } from './context';
import type {
  AgentEvent,
  AgentRef,
  DeployedAgent,
  JobActivities,
  LogRequest,
  RunnerActivities,
  StopBatch,
  StopBatchResult,
  StopOptions,
  WatchOptions,
} from './types';

/** How many agents of a batch are stopped at once (each waits for its process to end). */
const STOPS_AT_ONCE = 64;

export interface ActivityDeps {
  /** the state home (agents' folders of the local runner) */
  home: string;
  /** the SERVER marker local agents carry (see markers.ts), computed once by the worker */
  serverMarker: string;
  docker: Docker;
  sshPool: SshPool;
}

/**
 * A container's or a remote agent's command and environment checked against the OS limits
 * before it is tried (the local runner checks the final argv and environment itself): a NUL
 * byte or E2BIG fails at once, in words, instead of five retries of an engine's or a shell's error.
 */
function refuseUnrunnablePlan(agent: AgentPlan): void {
  if (agent.target === 'localhost') return;
  const problem = execProblem([...(agent.run.command ?? [agent.deployment.node, agent.run.module ?? '']), ...agent.run.args], agent.env);
  if (problem) throw ApplicationFailure.nonRetryable(`agent '${agent.id}' cannot be started: ${problem}`, 'AgentSpecError');
}

/**
 * The job name and agent id of every activity's input, checked again here: they become the
 * agents' folders, markers and container names, and a workflow input may come from a client
 * that skipped the API's checks. The one rule is config/names' SAFE_ID, as in a job file.
 */
function refuseBadNames(job: unknown, agents: readonly { id?: unknown }[]): void {
  const bad = [job, ...agents.map((a) => a?.id)].find((n) => typeof n !== 'string' || !SAFE_ID.test(n));
  if (bad !== undefined || agents.length === 0 || typeof job !== 'string')
    throw ApplicationFailure.nonRetryable(
      `refused: ${JSON.stringify(bad ?? job)?.slice(0, 70)} is not a job or agent name (1-63 characters: a-z, 0-9 and '-', starting with a letter)`,
      'AgentSpecError',
    );
}
const checked = <R extends { job: string; agent: AgentPlan }>(ref: R): R => (refuseBadNames(ref?.job, [ref?.agent ?? {}]), ref);

export function createActivities(deps: ActivityDeps) {
  const runners: Record<Target, RunnerActivities> = {
    localhost: createLocalRunner(deps),
    container: createDockerRunner(deps),
    remote: createSshRunner({ pool: deps.sshPool, serverMarker: deps.serverMarker }),
    kubernetes: createKubernetesRunner({ serverMarker: deps.serverMarker }),
  };
  return {
    /**
     * Start, then wait until healthy, in one activity: each dependency level of a deploy costs one
     * round trip through Temporal instead of two. Retrying it is safe because a start of an agent
     * already running with the same spec returns that agent.
     */
    deployAgent: async (ref: AgentRef): Promise<DeployedAgent> => {
      checked(ref);
      const runner = runners[ref.agent.target];
      const t0 = Date.now();
      refuseUnrunnablePlan(ref.agent);
      const started = await runner.startAgent(ref);
      const health = await runner.waitHealthy({
        ...ref,
        pid: started.pid,
        ...(started.containerId ? { containerId: started.containerId } : {}),
        ...(started.procStart ? { procStart: started.procStart } : {}),
      });
      recordAgentStart(ref, t0, started.reused);
      return { ...started, health };
    },
    startAgent: (ref: AgentRef) => {
      checked(ref);
      refuseUnrunnablePlan(ref.agent);
      return runners[ref.agent.target].startAgent(ref);
    },
    waitHealthy: (ref: AgentRef & { pid: number; containerId?: string; procStart?: string }) =>
      runners[checked(ref).agent.target].waitHealthy(ref),
    stopAgent: (opts: StopOptions) => runners[checked(opts).agent.target].stopAgent(opts),
    /**
     * Stops a batch of agents side by side: a level of a teardown costs one round trip through
     * Temporal instead of one per agent. A failed stop is reported for its agent and does not
     * fail the others; retrying the batch is safe because stopping is idempotent.
     */
    stopAgents: ({ job, force, agents, levels }: StopBatch): Promise<StopBatchResult> =>
      withHeartbeat(async () => {
        refuseBadNames(
          job,
          agents.map((a) => a.agent),
        );
        const results: StopBatchResult = new Array(agents.length);
        const stopOne = async (i: number) => {
          const { agent, known } = agents[i];
          try {
            const stopped = await runners[agent.target].stopAgent({
              job,
              agent,
              ...(force ? { force } : {}),
              ...(known ? { known } : {}),
            });
            results[i] = { id: agent.id, stopped };
          } catch (err) {
            results[i] = { id: agent.id, error: (err as Error).message ?? String(err) };
          }
        };
        // Level by level (callers first) when the batch is a whole teardown; each level side by side.
        const byLevel = new Map<number, number[]>();
        agents.forEach((_, i) => {
          const level = levels?.[i] ?? 0;
          if (!byLevel.has(level)) byLevel.set(level, []);
          byLevel.get(level)!.push(i);
        });
        for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
          const queue = byLevel.get(level)!;
          let next = 0;
          const lane = async () => {
            for (let k = next++; k < queue.length; k = next++) await stopOne(queue[k]);
          };
          await Promise.all(Array.from({ length: Math.min(STOPS_AT_ONCE, queue.length) }, lane));
        }
        return results;
      }),
    readLogs: (req: LogRequest) => runners[checked(req).agent.target].readLogs(req),
    /** The workflow watches each target's agents separately, so one runner serves a call. */
    watchAgents: (opts: WatchOptions): Promise<AgentEvent[]> => {
      refuseBadNames(opts.job, opts.agents);
      return runners[opts.agents[0].target].watchAgents(opts);
    },
  } satisfies JobActivities;
}

export type Activities = ReturnType<typeof createActivities>;

/** The activities the container target's runner offers (the benchmark checks the build has one). */
export const containerRunnerActivities = (): string[] => Object.keys(createDockerRunner({ docker: {} as Docker, serverMarker: '' }));
