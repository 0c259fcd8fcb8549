// Which readiness probe a job file's `config.health` asks for, and what URL path it probes.
// Pure: the plan records both; the probes themselves live in src/activities/readiness.ts.
import type { JobFile } from './schema';

export type ReadinessType = 'a2a' | 'http' | 'tcp';

/** Where A2A SDKs serve the agent card (the probe falls back to the pre-0.3 path itself). */
export const AGENT_CARD_PATH = '/.well-known/agent-card.json';

type HealthSpec = JobFile['agents'][number]['config']['health'];

/**
 * A job that gives `health.path` keeps the HTTP check it had before readiness types; otherwise
 * an agent is ready when its card answers (`a2a`).
 */
export function readinessOf(health: Pick<HealthSpec, 'type' | 'path'>): { type: ReadinessType; path: string } {
  const type = health.type ?? (health.path ? 'http' : 'a2a');
  const path = type === 'http' ? (health.path ?? '/health') : type === 'a2a' ? AGENT_CARD_PATH : '/';
  return { type, path };
}
