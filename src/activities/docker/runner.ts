// The container runner: agents as Docker containers on the worker's Docker engine.
//
// One container per agent, named containerName(job, agent) and labelled with the job, the
// agent and the spec hash. As with the local runner's environment marker, the container
// (found by its name, checked by its labels) is the truth about what runs, never a remembered
// id: a retried start finds the container a killed worker created and reuses or replaces it,
// so there is never a second copy.
//
// The engine is the one the worker hands us (the Docker CLI's: /var/run/docker.sock, or
// DOCKER_HOST; docker-modem reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself).
//
// Networking:
//   network unset or `host`: host networking; the agent binds 127.0.0.1 (AGENT_HOST from the
//     plan) and is reached like a local process.
//   network NAME: a user-defined bridge network (created on first use, labelled with the job),
//     where peers reach each other by container name (Docker's embedded DNS, plus an explicit
//     alias). The agent port is also published on 127.0.0.1 only, for health checks and the CLI.
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import { lastLines } from '../../common/text-tail';
import { containerName, type AgentPlan } from '../../job/plan';
import { activityContext, withHeartbeat } from '../context';
import { pollHealth } from '../health';
import type { AgentEvent, RunnerActivities, WatchedAgent } from '../types';
import { watchLoop } from '../watch';
import { createAndStart, describeExit, findAgentContainer, nameTakenError, removeContainer, started, terminate } from './containers';
import { inspectContainer } from './engine';
import { ensureImage } from './images';
import { LABEL_AGENT, LABEL_JOB, LABEL_SERVER, LABEL_SPEC } from './labels';
import { containerLogs, stderrTail } from './logs';
import { scrub, scrubLogsWith, secretValues } from '../agent-env';
import { checkNetworkName, isHostNetwork, JobNetworks } from './networks';
import { containerUsage } from './usage';
import { limitsOf } from '../limits';
import { hasLimits } from '../../process/cgroups';
import { primeOomKills, recordOomKill, recordUsage } from '../../metrics/instruments';

/** What the worker hands the container runner. */
export interface DockerRunnerDeps {
  docker: Docker;
  /** the SERVER marker (see ../markers.ts): a label on every container, checked by every lookup */
  serverMarker: string;
}

export function createDockerRunner({ docker, serverMarker }: DockerRunnerDeps): RunnerActivities {
  const networks = new JobNetworks(docker);
  /** A container's stderr tail with the agent's secret values hidden (it reaches status and history). */
  const scrubbedTail = async (ref: string, a: { id: string; deployment: AgentPlan['deployment'] }) =>
    scrub(await stderrTail(docker, ref), await scrubValues(ref, a));
  /** What the container was given (its environment holds the values its secrets had at its
   *  start: a `file:` source may have changed since) and what the references hold now. */
  const scrubValues = async (ref: string, a: { id: string; deployment: AgentPlan['deployment'] }): Promise<string[]> => {
    const names = Object.keys(a.deployment.secrets ?? {});
    if (names.length === 0) return [];
    const env = (await inspectContainer(docker, ref))?.Config.Env ?? [];
    const given = env.filter((e) => names.includes(e.slice(0, e.indexOf('=')))).map((e) => e.slice(e.indexOf('=') + 1));
    return [...new Set([...given, ...secretValues(a.id, a.deployment.secrets, process.env)])];
  };
  /** The container with this id, if its labels say it is this agent's of this server. */
  const labelledAs = async (id: string, job: string, agent: string) => {
    const info = await inspectContainer(docker, id);
    const l = info?.Config.Labels ?? {};
    return l[LABEL_JOB] === job && l[LABEL_AGENT] === agent && l[LABEL_SERVER] === serverMarker ? info : undefined;
  };
  return {
    async startAgent({ job, agent }) {
      const name = containerName(job, agent.id);
      const image = agent.deployment.image;
      if (!image)
        throw ApplicationFailure.nonRetryable(`agent '${agent.id}' has target container but no deployment.image`, 'AgentSpecError');
      if (!isHostNetwork(agent)) checkNetworkName(agent, agent.deployment.network!);

      return withHeartbeat(async () => {
        for (let attempt = 1; ; attempt++) {
          const existing = await findAgentContainer(docker, job, agent.id, serverMarker);
          if (existing) {
            if (existing.Config.Labels?.[LABEL_SPEC] === agent.specHash && existing.State.Running) {
              // Idempotent: this exact spec already runs (a retried or replayed start).
              return started(existing, name, true);
            }
            // An older spec, or this spec but exited (a fresh start is wanted): replace it.
            if (existing.State.Running) await terminate(docker, existing.Id, agent.stopGraceMs, false);
            await removeContainer(docker, existing.Id);
          }
          await ensureImage(docker, agent, image);
          try {
            if (agent.deployment.memory) primeOomKills(job, agent.id, 'container');
            return started(await createAndStart(docker, networks, job, agent, name, image, serverMarker), name, false);
          } catch (e) {
            if ((e as { nameConflict?: boolean }).nameConflict) {
              // The name is taken: by a concurrent start of this agent (look again: reuse it, or
              // replace it if stale), or by a container that is not ours (never touched).
              const holder = await inspectContainer(docker, name);
              if (holder && !(await findAgentContainer(docker, job, agent.id, serverMarker))) throw nameTakenError(name, agent.id, holder);
              if (attempt < 3) continue;
            }
            throw e;
          }
        }
      });
    },

    async waitHealthy({ agent, job, containerId }) {
      const id = containerId ?? containerName(job, agent.id);
      let last: Docker.ContainerInspectInfo | undefined;
      const ctx = activityContext();
      return pollHealth(agent, {
        alive: async () => {
          last = await inspectContainer(docker, id);
          return !!last?.State.Running;
        },
        describeExit: () => {
          if (last?.State.OOMKilled) recordOomKill(job, agent.id, 'container');
          return describeExit(agent.id, last, 'before becoming healthy');
        },
        stderr: () => scrubbedTail(id, agent),
        signal: ctx?.cancellationSignal ?? new AbortController().signal,
        heartbeat: (d) => ctx?.heartbeat(d),
      });
    },

    async stopAgent({ job, agent, force, known }) {
      return withHeartbeat(async () => {
        // By its labels; else by the id the workflow knows, if that container is still this agent's.
        const info =
          (await findAgentContainer(docker, job, agent.id, serverMarker)) ??
          (known?.containerId ? await labelledAs(known.containerId, job, agent.id) : undefined);
        if (!info) return { wasRunning: false, forced: false }; // idempotent: nothing to stop
        const wasRunning = info.State.Running;
        const forced = wasRunning ? await terminate(docker, info.Id, agent.stopGraceMs, !!force) : false;
        await removeContainer(docker, info.Id);
        if (!isHostNetwork(agent)) await networks.release(job, agent.deployment.network!);
        return { wasRunning, forced };
      });
    },

    async watchAgents(opts) {
      const refOf = (a: WatchedAgent) => a.containerId ?? containerName(opts.job, a.id);
      // Liveness is an inspect per agent, once a second; health is an HTTP call, less often (watch.ts).
      return watchLoop(opts, {
        intervalMs: 1000,
        liveness: async (agents) => {
          const states = await Promise.all(agents.map((a) => inspectContainer(docker, refOf(a))));
          const alive: WatchedAgent[] = [];
          const events: AgentEvent[] = [];
          for (const [i, a] of agents.entries()) {
            const info = states[i];
            if (info?.State.Running) {
              alive.push(a);
              continue;
            }
            if (info?.State.OOMKilled) recordOomKill(opts.job, a.id, 'container');
            events.push({
              id: a.id,
              kind: 'exited',
              exitCode: info ? info.State.ExitCode : null,
              detail: describeExit(a.id, info),
              stderr: await scrubbedTail(refOf(a), a),
            });
          }
          return { alive, events };
        },
        stderrOf: (a) => scrubbedTail(refOf(a), a),
        // As often as its health check: one stats read of a container with limits, into /metrics.
        upkeep: async (a) => {
          if (!hasLimits(limitsOf(a.deployment))) return;
          const u = await containerUsage(docker, refOf(a));
          if (u) recordUsage(opts.job, a.id, u);
        },
      });
    },

    async readLogs({ job, agent, tail, offsets }) {
      // The whole log (bounded by json-file rotation) so that offsets are exact byte counts of
      // each stream; a follower passes them back and gets only what came after.
      const logs = await containerLogs(docker, containerName(job, agent.id));
      const read = (stream: 'stdout' | 'stderr') => {
        const buf = logs[stream];
        if (!offsets) return tail > 0 ? lastLines(buf.toString('utf8'), tail) : '';
        const from = buf.length < offsets[stream] ? 0 : offsets[stream]; // replaced container or rotated log: start over
        return buf.subarray(from).toString('utf8');
      };
      return scrubLogsWith(
        { stdout: read('stdout'), stderr: read('stderr'), offsets: { stdout: logs.stdout.length, stderr: logs.stderr.length } },
        await scrubValues(containerName(job, agent.id), agent),
      );
    },
  };
}
