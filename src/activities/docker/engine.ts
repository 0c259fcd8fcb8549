// Talking to the Docker engine: its errors (an unreachable engine is retryable, the rest
// passes through) and the one lookup everything uses, inspecting a container.
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';

export interface EngineError {
  statusCode?: number;
  code?: string;
  message?: string;
  json?: { message?: string };
}

export const statusOf = (e: unknown) => (e as EngineError)?.statusCode;

/** The engine's own message (dockerode prefixes it with "(HTTP code N) ..."). */
export function engineMessage(e: unknown): string {
  const err = e as EngineError;
  return err?.json?.message ?? err?.message ?? String(e);
}

/**
 * An engine that cannot be reached is a retryable failure (dockerd restarting); everything
 * else passes through as it is.
 */
export function rethrow(e: unknown, what: string): never {
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
export async function inspectContainer(docker: Docker, idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(idOrName).inspect();
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    rethrow(e, `inspecting container ${idOrName}`);
  }
}
