// What a container is made of, from the agent's plan: pure functions (unit-tested).
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import { isAbsolute, resolve } from 'node:path';
import type { AgentPlan } from '../../job/plan';
import { MARKER, markerOf, SERVER, SPEC } from '../markers';
import { buildAgentEnv, resolveSecretsOrFail } from '../agent-env';
import { LABEL_AGENT, LABEL_JOB, LABEL_SERVER, LABEL_SPEC } from './labels';
import { isHostNetwork } from './networks';
import { sizeBytes } from '../../job/schema';

/** `256m`, `1g`, `512k` or plain bytes (the schema's memory syntax). */
export function memoryBytes(spec: string): number {
  const bytes = sizeBytes(spec);
  if (bytes === undefined) throw ApplicationFailure.nonRetryable(`memory '${spec}' is not a size like 256m or 1g`, 'AgentSpecError');
  return bytes;
}

/** `host:container[:ro|rw]` with a relative host path resolved against the job file's folder. */
export function bindOf(volume: string, baseDir: string): string {
  const [host, container, mode] = volume.split(':');
  const hostPath = isAbsolute(host) ? host : resolve(baseDir, host);
  return mode ? `${hostPath}:${container}:${mode}` : `${hostPath}:${container}`;
}

/** The create options of an agent's container (without its Cmd, which may need the image). */
export function containerOptions(
  job: string,
  agent: AgentPlan,
  name: string,
  image: string,
  server: string,
): Docker.ContainerCreateOptions {
  const hostNet = isHostNetwork(agent);
  const network = agent.deployment.network!;
  const port = `${agent.port}/tcp`;
  const d = agent.deployment;
  return {
    name,
    Image: image,
    // The plan's environment, inherit_env, the secrets read on this worker now, and the markers.
    Env: Object.entries(
      buildAgentEnv({
        base: false,
        workerEnv: process.env,
        inherit: d.inheritEnv,
        planEnv: agent.env,
        secrets: resolveSecretsOrFail(agent.id, d.secrets, process.env),
        markers: { [MARKER]: markerOf(job, agent.id), [SPEC]: agent.specHash, [SERVER]: server },
      }),
    ).map(([k, v]) => `${k}=${v}`),
    Labels: { [LABEL_JOB]: job, [LABEL_AGENT]: agent.id, [LABEL_SPEC]: agent.specHash, [LABEL_SERVER]: server },
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
      // Memory and swap at the same limit: swapping cannot get round it.
      ...(d.memory ? { Memory: memoryBytes(d.memory), MemorySwap: memoryBytes(d.memory) } : {}),
      ...(d.pids ? { PidsLimit: d.pids } : {}),
    },
    ...(hostNet ? {} : { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name] } } } }),
    ...(d.workdir ? { WorkingDir: d.workdir } : {}),
  };
}
