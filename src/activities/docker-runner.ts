// The container runner: agents as Docker containers on the worker's Docker engine.
//
// One container per agent, named containerName(job, agent) and labelled with the job, the
// agent and the spec hash. As with the local runner's environment marker, the container
// (found by its name, checked by its labels) is the truth about what runs, never a remembered
// id: a retried start finds the container a killed worker created and reuses or replaces it,
// so there is never a second copy.
//
// The engine is the one the Docker CLI would use: /var/run/docker.sock, or DOCKER_HOST
// (docker-modem reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself).
//
// Networking:
//   network unset or `host`: host networking; the agent binds 127.0.0.1 (AGENT_HOST from the
//     plan) and is reached like a local process.
//   network NAME: a user-defined bridge network (created on first use, labelled with the job),
//     where peers reach each other by container name (Docker's embedded DNS, plus an explicit
//     alias). The agent port is also published on 127.0.0.1 only, for health checks and the CLI.
import { ApplicationFailure } from '@temporalio/activity';
import Docker from 'dockerode';
import { isAbsolute, resolve } from 'node:path';
import { containerName, type AgentPlan } from '../job/plan';
import { healthRound, pollHealth } from './health';
import type {
  AgentEvent,
  AgentRef,
  LogChunk,
  LogRequest,
  RunnerActivities,
  StartedAgent,
  StopOptions,
  StoppedAgent,
  WatchedAgent,
  WatchOptions,
} from './types';
import { activityContext, heartbeat } from './context';
import { MARKER, markerOf, SPEC } from './markers';
import { buildAgentEnv, resolveSecretsOrFail, scrub, scrubLogs, secretValues } from './agent-env';

/** A container's stderr tail with the agent's secret values hidden (it reaches status and history). */
const scrubbedTail = async (ref: string, a: { id: string; deployment: AgentPlan['deployment'] }) =>
  scrub(await stderrTail(ref), secretValues(a.id, a.deployment.secrets, process.env));

export const LABEL_JOB = 'a2a-deploy.job';
export const LABEL_AGENT = 'a2a-deploy.agent';
export const LABEL_SPEC = 'a2a-deploy.spec';

/** Lines of stderr quoted in error messages and events. */
const STDERR_LINES = 15;

let client: Docker | undefined;
/** One client per worker process, created on first use (so importing this file needs no engine). */
function docker(): Docker {
  return (client ??= new Docker());
}

/**
 * Runs `fn` while heartbeating every second: pulls, stops and engine calls can take longer
 * than the workflow's 5 s heartbeat timeout without a natural place to heartbeat from.
 */
async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(), 1000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Engine errors

interface EngineError {
  statusCode?: number;
  code?: string;
  message?: string;
  json?: { message?: string };
}

const statusOf = (e: unknown) => (e as EngineError)?.statusCode;

/** The engine's own message (dockerode prefixes it with "(HTTP code N) ..."). */
function engineMessage(e: unknown): string {
  const err = e as EngineError;
  return err?.json?.message ?? err?.message ?? String(e);
}

/**
 * An engine that cannot be reached is a retryable failure (dockerd restarting); everything
 * else passes through as it is.
 */
function rethrow(e: unknown, what: string): never {
  const code = (e as EngineError)?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ECONNRESET') {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    throw ApplicationFailure.retryable(
      `${what}: cannot reach the Docker engine at ${where} (${code}); is dockerd running? (scripts/install-docker.sh starts one)`,
      'DockerUnavailable',
    );
  }
  throw e;
}

/** Inspects a container; undefined when there is none by that name or id. */
async function inspectContainer(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker().getContainer(idOrName).inspect();
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    rethrow(e, `inspecting container ${idOrName}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Logs

/**
 * Splits the engine's multiplexed log stream (containers without a TTY): each frame is an
 * 8-byte header [stream, 0, 0, 0, size (uint32 big-endian)] followed by `size` bytes.
 */
export function demuxLogs(buf: Buffer): { stdout: Buffer; stderr: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i];
    const size = buf.readUInt32BE(i + 4);
    const frame = buf.subarray(i + 8, i + 8 + size);
    (stream === 2 ? err : out).push(frame);
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

const lastLines = (text: string, n: number) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .slice(-n)
    .join('\n');

/** Both streams of a container's log, whole (from the json-file log, bounded by rotation). */
async function containerLogs(idOrName: string, opts: { stdout?: boolean; stderr?: boolean; tail?: number } = {}) {
  try {
    const buf = await docker()
      .getContainer(idOrName)
      .logs({
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        follow: false,
        ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      });
    return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(buf as unknown as string));
  } catch (e) {
    if (statusOf(e) === 404) return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    rethrow(e, `reading the logs of ${idOrName}`);
  }
}

/** The last lines a container wrote to stderr, for error messages; '' when there is none. */
async function stderrTail(idOrName: string, lines = STDERR_LINES): Promise<string> {
  try {
    // The engine tails before it filters by stream, so ask for more lines than we keep.
    const { stderr } = await containerLogs(idOrName, { stdout: false, stderr: true, tail: 200 });
    return lastLines(stderr.toString('utf8'), lines);
  } catch {
    return ''; // only ever decoration on another error
  }
}

// ---------------------------------------------------------------------------------------------
// What to run

const isHostNetwork = (agent: AgentPlan) => !agent.deployment.network || agent.deployment.network === 'host';

/** argv for the container, or undefined for the image's own CMD. */
async function containerCmd(agent: AgentPlan, image: string): Promise<string[] | undefined> {
  const { command, module, args } = agent.run;
  if (command) return [...command, ...args];
  // A module path is used as given: it names a file inside the image (e.g. /app/dist/agents/weather.js).
  if (module) return ['node', module, ...args];
  if (args.length === 0) return undefined;
  // Arguments without a command: appended to the image's CMD (or, with an ENTRYPOINT, they are the CMD).
  const info = await docker().getImage(image).inspect();
  return info.Config.Entrypoint && info.Config.Entrypoint.length > 0 ? [...args] : [...(info.Config.Cmd ?? []), ...args];
}

/** `256m`, `1g`, `512k` or plain bytes (the schema's memory syntax). */
export function memoryBytes(spec: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(spec.trim());
  if (!m) throw ApplicationFailure.nonRetryable(`memory '${spec}' is not a size like 256m or 1g`, 'AgentSpecError');
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** `host:container[:ro|rw]` with a relative host path resolved against the job file's folder. */
export function bindOf(volume: string, baseDir: string): string {
  const [host, container, mode] = volume.split(':');
  const hostPath = isAbsolute(host) ? host : resolve(baseDir, host);
  return mode ? `${hostPath}:${container}:${mode}` : `${hostPath}:${container}`;
}

// ---------------------------------------------------------------------------------------------
// Images

const missingImage = (image: string, agent: AgentPlan, why: string) =>
  ApplicationFailure.nonRetryable(
    `image '${image}' of agent '${agent.id}' is not on this Docker engine and ${why}; ` +
      `build or load it on the worker's machine (docker image ls; docker load / docker import; ` +
      `for the example agents: scripts/build-agent-image.sh ${image}), or set pull: if-not-present / always with a reachable registry`,
    'ImageNotFound',
  );

async function imageExists(image: string): Promise<boolean> {
  try {
    await docker().getImage(image).inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    rethrow(e, `inspecting image ${image}`);
  }
}

/** Pulls an image; resolves with the error message when the pull failed. */
async function pull(image: string): Promise<string | undefined> {
  try {
    const stream = await docker().pull(image);
    // Errors after the pull started arrive as progress events, not as a rejected call.
    await new Promise<void>((done, fail) =>
      docker().modem.followProgress(
        stream,
        (err: Error | null) => (err ? fail(err) : done()),
        () => heartbeat(),
      ),
    );
    return undefined;
  } catch (e) {
    const code = (e as EngineError)?.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') rethrow(e, `pulling ${image}`);
    return engineMessage(e);
  }
}

/** Applies the pull policy; fails without retries when the image cannot be had. */
async function ensureImage(agent: AgentPlan, image: string): Promise<void> {
  const policy = agent.deployment.pull;
  if (policy === 'never') {
    if (!(await imageExists(image))) throw missingImage(image, agent, 'pull is never');
    return;
  }
  if (policy === 'if-not-present' && (await imageExists(image))) return;
  const failed = await pull(image);
  if (!failed) return;
  // `always` with an unreachable registry still runs a local copy: an offline engine keeps
  // deploying what it has, and a registry that is down is not a reason to stop a redeploy.
  if (policy === 'always' && (await imageExists(image))) {
    activityContext()?.log.warn(`pulling ${image} failed (${failed}); using the local copy`);
    return;
  }
  throw missingImage(image, agent, `pulling it failed: ${failed}`);
}

// ---------------------------------------------------------------------------------------------
// Networks

/** Creations in flight in this worker, so parallel starts of one job create its network once. */
const creatingNetworks = new Map<string, Promise<void>>();

function checkNetworkName(agent: AgentPlan, network: string) {
  // Docker's built-in networks have no name resolution between containers (or no network at
  // all), so peers could never reach the agent at its plan URL http://<container name>:port.
  if (network === 'bridge' || network === 'none' || network === 'default') {
    throw ApplicationFailure.nonRetryable(
      `agent '${agent.id}': network '${network}' is one of Docker's built-in networks, where agents cannot reach each other by name; ` +
        `use 'host' or name a job network (e.g. network: ${'<job>'}-net)`,
      'AgentSpecError',
    );
  }
}

async function ensureNetwork(job: string, network: string): Promise<void> {
  const pending = creatingNetworks.get(network);
  if (pending) return pending;
  const p = (async () => {
    try {
      await docker().getNetwork(network).inspect();
      return;
    } catch (e) {
      if (statusOf(e) !== 404) rethrow(e, `inspecting network ${network}`);
    }
    try {
      await docker().createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL_JOB]: job } });
    } catch (e) {
      if (statusOf(e) !== 409) rethrow(e, `creating network ${network}`); // 409: another worker made it first
    }
  })();
  creatingNetworks.set(network, p);
  try {
    await p;
  } finally {
    creatingNetworks.delete(network);
  }
}

/** Removes a job network we created once no container uses it (best effort). */
async function releaseNetwork(job: string, network: string): Promise<void> {
  try {
    const net = docker().getNetwork(network);
    const info = (await net.inspect()) as { Labels?: Record<string, string>; Containers?: Record<string, unknown> };
    if (info.Labels?.[LABEL_JOB] !== job || Object.keys(info.Containers ?? {}).length > 0) return;
    await net.remove();
  } catch {
    /* gone already, in use again, or not ours: all fine */
  }
}

// ---------------------------------------------------------------------------------------------
// Container lifecycle

/** Waits until the container is no longer running (or gone); false on timeout. */
async function waitStopped(idOrName: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const info = await inspectContainer(idOrName);
    if (!info || !info.State.Running) return true;
    if (Date.now() >= deadline) return false;
    heartbeat();
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function signal(idOrName: string, sig: 'SIGTERM' | 'SIGKILL') {
  try {
    await docker().getContainer(idOrName).kill({ signal: sig });
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
async function terminate(idOrName: string, graceMs: number, force: boolean): Promise<boolean> {
  if (!force) {
    await signal(idOrName, 'SIGTERM');
    if (await waitStopped(idOrName, graceMs)) return false;
  }
  await signal(idOrName, 'SIGKILL');
  await waitStopped(idOrName, 10_000);
  return true;
}

async function removeContainer(idOrName: string) {
  try {
    await docker().getContainer(idOrName).remove({ force: true });
  } catch (e) {
    // 404: gone; 409: a removal is already in progress (a concurrent stop). Either way it goes.
    if (statusOf(e) === 404 || statusOf(e) === 409) return;
    rethrow(e, `removing container ${idOrName}`);
  }
}

/** "agent 'x' exited with code 3 before becoming healthy", from the container's last state. */
function describeExit(id: string, info: Docker.ContainerInspectInfo | undefined, when = ''): string {
  const suffix = when ? ` ${when}` : '';
  if (!info) return `agent '${id}' is gone${suffix}: its container was removed`;
  const s = info.State;
  const how = s.OOMKilled ? `was killed for running out of memory (exit code ${s.ExitCode})` : `exited with code ${s.ExitCode}`;
  return `agent '${id}' ${how}${suffix}${s.Error ? ` (${s.Error})` : ''}`;
}

async function createAndStart(job: string, agent: AgentPlan, name: string, image: string): Promise<Docker.ContainerInspectInfo> {
  const hostNet = isHostNetwork(agent);
  const network = agent.deployment.network!;
  const port = `${agent.port}/tcp`;
  const d = agent.deployment;
  const options: Docker.ContainerCreateOptions = {
    name,
    Image: image,
    Env: Object.entries(
      buildAgentEnv({
        base: false,
        workerEnv: process.env,
        inherit: d.inheritEnv,
        planEnv: agent.env,
        secrets: resolveSecretsOrFail(agent.id, d.secrets, process.env),
        markers: { [MARKER]: markerOf(job, agent.id), [SPEC]: agent.specHash },
      }),
    ).map(([k, v]) => `${k}=${v}`),
    Labels: { [LABEL_JOB]: job, [LABEL_AGENT]: agent.id, [LABEL_SPEC]: agent.specHash },
    StopSignal: 'SIGTERM',
    StopTimeout: Math.max(1, Math.ceil(agent.stopGraceMs / 1000)), // for a plain `docker stop` too
    ...(hostNet ? {} : { ExposedPorts: { [port]: {} } }),
    HostConfig: {
      NetworkMode: hostNet ? 'host' : network,
      // Published on loopback only: peers use the job network, the worker uses 127.0.0.1.
      ...(hostNet ? {} : { PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: String(agent.port) }] } }),
      // A tiny init as PID 1: it forwards SIGTERM and reaps, so an agent without its own
      // SIGTERM handler (PID 1 ignores unhandled signals) still stops within the grace period.
      Init: true,
      // Restarts are the workflow's business (restart policies, backoff, limits).
      RestartPolicy: { Name: 'no' },
      // json-file keeps the logs readable through the API whatever the engine's default driver is.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      Binds: d.volumes.map((v) => bindOf(v, agent.baseDir)),
      ...(d.cpus ? { NanoCpus: Math.round(d.cpus * 1e9) } : {}),
      ...(d.memory ? { Memory: memoryBytes(d.memory) } : {}),
    },
    ...(hostNet ? {} : { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name] } } } }),
  };
  const cmd = await containerCmd(agent, image);
  if (cmd) options.Cmd = cmd;
  if (agent.deployment.workdir) options.WorkingDir = agent.deployment.workdir;

  let container: Docker.Container;
  for (let attempt = 1; ; attempt++) {
    if (!hostNet) await ensureNetwork(job, network);
    try {
      container = await docker().createContainer(options);
      break;
    } catch (e) {
      const msg = engineMessage(e);
      // The job network was removed (its last agent stopped) between ensureNetwork and here.
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
    await removeContainer(container.id);
    if (statusOf(e) !== undefined) {
      throw ApplicationFailure.nonRetryable(`cannot start the container of agent '${agent.id}': ${engineMessage(e)}`, 'AgentStartError');
    }
    rethrow(e, `starting container ${name}`);
  }
  return (await inspectContainer(container.id)) ?? (await container.inspect());
}

const started = (info: Docker.ContainerInspectInfo, name: string, reused: boolean): StartedAgent => ({
  pid: info.State.Pid,
  containerId: info.Id,
  reused,
  startedAt: info.State.StartedAt && !info.State.StartedAt.startsWith('0001') ? info.State.StartedAt : new Date().toISOString(),
  logDir: `docker:${name}`,
});

// ---------------------------------------------------------------------------------------------
// gc support

export interface JobContainer {
  id: string;
  name: string;
  job: string;
  agent: string;
  spec: string;
  /** created, running, exited, ... */
  state: string;
  image: string;
}

/** Every container this deployer made (all jobs, or one), running or not. */
export async function listJobContainers(job?: string): Promise<JobContainer[]> {
  try {
    const list = await docker().listContainers({ all: true, filters: { label: [job ? `${LABEL_JOB}=${job}` : LABEL_JOB] } });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      job: c.Labels[LABEL_JOB],
      agent: c.Labels[LABEL_AGENT] ?? '',
      spec: c.Labels[LABEL_SPEC] ?? '',
      state: c.State,
      image: c.Image,
    }));
  } catch (e) {
    rethrow(e, 'listing containers');
  }
}

// ---------------------------------------------------------------------------------------------

export const dockerRunner: RunnerActivities = {
  async startAgent({ job, agent }: AgentRef): Promise<StartedAgent> {
    const name = containerName(job, agent.id);
    const image = agent.deployment.image;
    if (!image) throw ApplicationFailure.nonRetryable(`agent '${agent.id}' has target container but no deployment.image`, 'AgentSpecError');
    if (!isHostNetwork(agent)) checkNetworkName(agent, agent.deployment.network!);

    return withHeartbeat(async () => {
      for (let attempt = 1; ; attempt++) {
        const existing = await inspectContainer(name);
        if (existing) {
          if (existing.Config.Labels?.[LABEL_SPEC] === agent.specHash && existing.State.Running) {
            // Idempotent: this exact spec already runs (a retried or replayed start).
            return started(existing, name, true);
          }
          // An older spec, or this spec but exited (a fresh start is wanted): replace it.
          if (existing.State.Running) await terminate(existing.Id, agent.stopGraceMs, false);
          await removeContainer(existing.Id);
        }
        await ensureImage(agent, image);
        try {
          return started(await createAndStart(job, agent, name, image), name, false);
        } catch (e) {
          // A concurrent start won the name: look again (reuse it, or replace it if stale).
          if ((e as { nameConflict?: boolean }).nameConflict && attempt < 3) continue;
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
        last = await inspectContainer(id);
        return !!last?.State.Running;
      },
      describeExit: () => describeExit(agent.id, last, 'before becoming healthy'),
      stderr: () => scrubbedTail(id, agent),
      signal: ctx?.cancellationSignal ?? new AbortController().signal,
      heartbeat: (d) => ctx?.heartbeat(d),
    });
  },

  async stopAgent({ job, agent, force }: StopOptions): Promise<StoppedAgent> {
    const name = containerName(job, agent.id);
    return withHeartbeat(async () => {
      const info = await inspectContainer(name);
      if (!info) return { wasRunning: false, forced: false }; // idempotent: nothing to stop
      const wasRunning = info.State.Running;
      const forced = wasRunning ? await terminate(info.Id, agent.stopGraceMs, !!force) : false;
      await removeContainer(info.Id);
      if (!isHostNetwork(agent)) await releaseNetwork(job, agent.deployment.network!);
      return { wasRunning, forced };
    });
  },

  async watchAgents({ agents, job, unhealthyAfter = 3 }: WatchOptions): Promise<AgentEvent[]> {
    const ctx = activityContext();
    const misses = new Map<string, number>();
    const never = new Promise<never>(() => {});
    const refOf = (a: WatchedAgent) => a.containerId ?? containerName(job, a.id);
    // Liveness is an inspect per agent, cheap, so checked often; health is an HTTP call, less often.
    for (let round = 0; ; round++) {
      const events: AgentEvent[] = [];
      const states = await Promise.all(agents.map((a) => inspectContainer(refOf(a))));
      const alive = [];
      for (const [i, a] of agents.entries()) {
        const info = states[i];
        if (info?.State.Running) {
          alive.push(a);
          continue;
        }
        events.push({
          id: a.id,
          kind: 'exited',
          exitCode: info ? info.State.ExitCode : null,
          detail: describeExit(a.id, info),
          stderr: await scrubbedTail(refOf(a), a),
        });
      }
      if (round % 4 === 0) events.push(...(await healthRound(alive, misses, unhealthyAfter, (a) => scrubbedTail(refOf(a), a))));
      if (events.length > 0) return events;
      ctx?.heartbeat({ round });
      await Promise.race([new Promise((r) => setTimeout(r, 500)), ctx?.cancelled ?? never]);
    }
  },

  async readLogs({ job, agent, tail, offsets }: LogRequest): Promise<LogChunk> {
    // The whole log (bounded by json-file rotation) so that offsets are exact byte counts of
    // each stream; a follower passes them back and gets only what came after.
    const logs = await containerLogs(containerName(job, agent.id));
    const read = (stream: 'stdout' | 'stderr') => {
      const buf = logs[stream];
      if (!offsets) return tail > 0 ? lastLines(buf.toString('utf8'), tail) : '';
      const from = buf.length < offsets[stream] ? 0 : offsets[stream]; // replaced container or rotated log: start over
      return buf.subarray(from).toString('utf8');
    };
    return scrubLogs(
      { stdout: read('stdout'), stderr: read('stderr'), offsets: { stdout: logs.stdout.length, stderr: logs.stderr.length } },
      agent,
    );
  },
};
