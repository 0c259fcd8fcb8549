// Containers: create and start one for an agent, signal, stop and remove it, describe how it
// ended, and list what this deployer made (for gc).
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import { oomWords } from '../../process/cgroups';
import type { AgentPlan } from '../../job/plan';
import { terminateWithGrace, waitUntil, type StopSignal } from '../../process/terminate';
import type { StartedAgent } from '../types';
import { heartbeat } from '../context';
import { engineMessage, inspectContainer, rethrow, statusOf } from './engine';
import { LABEL_AGENT, LABEL_JOB, LABEL_SERVER, LABEL_SPEC } from './labels';
import { isHostNetwork, type JobNetworks } from './networks';
import { containerOptions } from './spec';

/** argv for the container, or undefined for the image's own CMD. */
async function containerCmd(docker: Docker, agent: AgentPlan, image: string): Promise<string[] | undefined> {
  const { command, module, args } = agent.run;
  if (command) return [...command, ...args];
  // A module path is used as given: it names a file inside the image (e.g. /app/dist/agents/weather.js).
  if (module) return ['node', module, ...args];
  if (args.length === 0) return undefined;
  // Arguments without a command: appended to the image's CMD (or, with an ENTRYPOINT, they are the CMD).
  const info = await docker.getImage(image).inspect();
  return info.Config.Entrypoint && info.Config.Entrypoint.length > 0 ? [...args] : [...(info.Config.Cmd ?? []), ...args];
}

async function signal(docker: Docker, idOrName: string, sig: StopSignal) {
  try {
    await docker.getContainer(idOrName).kill({ signal: sig });
  } catch (e) {
    // 404: gone; 409: not running (it exited meanwhile). Both mean there is nothing to signal.
    if (statusOf(e) === 404 || statusOf(e) === 409) return;
    rethrow(e, `signalling ${idOrName}`);
  }
}

/**
 * SIGTERM, then SIGKILL after the grace period (or SIGKILL at once when forced). Our own
 * loop rather than the engine's stop, for millisecond grace periods and heartbeats while
 * waiting. Returns whether the container had to be killed.
 */
export async function terminate(docker: Docker, idOrName: string, graceMs: number, force: boolean): Promise<boolean> {
  // Gone, or no longer running.
  const stopped = async () => !(await inspectContainer(docker, idOrName))?.State.Running;
  const { forced } = await terminateWithGrace(
    {
      signal: (sig) => signal(docker, idOrName, sig),
      waitGone: (ms) => waitUntil(stopped, ms, { pollMs: 50, fastPollMs: 50, onWait: () => heartbeat() }),
    },
    { graceMs, force, killWaitMs: 10_000 },
  );
  return forced;
}

export async function removeContainer(docker: Docker, idOrName: string) {
  try {
    await docker.getContainer(idOrName).remove({ force: true });
  } catch (e) {
    // 404: gone; 409: a removal is already in progress (a concurrent stop). Either way it goes.
    if (statusOf(e) === 404 || statusOf(e) === 409) return;
    rethrow(e, `removing container ${idOrName}`);
  }
}

/** "agent 'x' exited with code 3 before becoming healthy", from the container's last state. */
export function describeExit(id: string, info: Docker.ContainerInspectInfo | undefined, when = ''): string {
  const suffix = when ? ` ${when}` : '';
  if (!info) return `agent '${id}' is gone${suffix}: its container was removed`;
  const s = info.State;
  // Docker says the kernel killed it for its memory limit; the limit is the container's own.
  const memory = info.HostConfig?.Memory;
  const how = s.OOMKilled
    ? `${oomWords(memory ? { memoryLimitBytes: memory } : {})} (exit code ${s.ExitCode})`
    : `exited with code ${s.ExitCode}`;
  return `agent '${id}' ${how}${suffix}${s.Error ? ` (${s.Error})` : ''}`;
}

export async function createAndStart(
  docker: Docker,
  networks: JobNetworks,
  job: string,
  agent: AgentPlan,
  name: string,
  image: string,
  server: string,
): Promise<Docker.ContainerInspectInfo> {
  const hostNet = isHostNetwork(agent);
  const network = agent.deployment.network!;
  const options = containerOptions(job, agent, name, image, server);
  const cmd = await containerCmd(docker, agent, image);
  if (cmd) options.Cmd = cmd;

  let container: Docker.Container;
  for (let attempt = 1; ; attempt++) {
    if (!hostNet) await networks.ensure(job, network);
    try {
      container = await docker.createContainer(options);
      break;
    } catch (e) {
      const msg = engineMessage(e);
      // The job network was removed (its last agent stopped) between networks.ensure and here.
      if (statusOf(e) === 404 && /network/i.test(msg) && attempt < 3) continue;
      // Another start of this agent created the container first: the caller looks again.
      if (statusOf(e) === 409) throw Object.assign(new Error(msg), { nameConflict: true });
      if (statusOf(e) === 400 || statusOf(e) === 404) {
        throw ApplicationFailure.nonRetryable(`cannot create the container of agent '${agent.id}': ${msg}`, 'AgentStartError');
      }
      rethrow(e, `creating container ${name}`);
    }
  }
  try {
    await container.start();
  } catch (e) {
    // E.g. the port is taken on 127.0.0.1. Leave nothing half-made behind.
    await removeContainer(docker, container.id);
    if (statusOf(e) !== undefined) {
      throw ApplicationFailure.nonRetryable(`cannot start the container of agent '${agent.id}': ${engineMessage(e)}`, 'AgentStartError');
    }
    rethrow(e, `starting container ${name}`);
  }
  return (await inspectContainer(docker, container.id)) ?? (await container.inspect());
}

export const started = (info: Docker.ContainerInspectInfo, name: string, reused: boolean): StartedAgent => ({
  pid: info.State.Pid,
  containerId: info.Id,
  reused,
  startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001') ? info.State.StartedAt : new Date().toISOString(),
  logDir: `docker:${name}`,
});

// gc support

export interface JobContainer {
  id: string;
  name: string;
  job: string;
  agent: string;
  spec: string;
  /** the SERVER marker of the deployer that made it ('' for containers made before it was recorded) */
  server: string;
  /** created, running, exited, ... */
  state: string;
  image: string;
}

/** Every container this deployer made (all jobs, or one; all servers', or one's), running or not. */
export async function listJobContainers(
  docker: Docker,
  only: { job?: string; agent?: string; server?: string } = {},
): Promise<JobContainer[]> {
  const label = [only.job ? `${LABEL_JOB}=${only.job}` : LABEL_JOB];
  if (only.agent) label.push(`${LABEL_AGENT}=${only.agent}`);
  if (only.server) label.push(`${LABEL_SERVER}=${only.server}`);
  try {
    const list = await docker.listContainers({ all: true, filters: { label } });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      job: c.Labels[LABEL_JOB],
      agent: c.Labels[LABEL_AGENT] ?? '',
      spec: c.Labels[LABEL_SPEC] ?? '',
      server: c.Labels[LABEL_SERVER] ?? '',
      state: c.State,
      image: c.Image,
    }));
  } catch (e) {
    rethrow(e, 'listing containers');
  }
}

/** This agent's container of this server, found by its labels (the truth, not its name). */
export async function findAgentContainer(docker: Docker, job: string, agent: string, server: string) {
  const [found] = await listJobContainers(docker, { job, agent, server });
  return found ? inspectContainer(docker, found.id) : undefined;
}

/** A container with our name whose labels are not ours: never removed, named in the error. */
export function nameTakenError(name: string, agent: string, info: Docker.ContainerInspectInfo): ApplicationFailure {
  const l = info.Config.Labels ?? {};
  const owner = l[LABEL_JOB]
    ? `job '${l[LABEL_JOB]}' agent '${l[LABEL_AGENT]}' of server ${l[LABEL_SERVER] ?? '(unknown)'}`
    : 'something else';
  return ApplicationFailure.nonRetryable(
    `cannot create the container of agent '${agent}': the name ${name} is taken by a container of ${owner}`,
    'AgentStartError',
  );
}
