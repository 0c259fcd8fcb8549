// What every runner writes into an agent's environment, so the agent can be found again by
// what it carries rather than by a remembered pid or id (local /proc, remote /proc, containers).

/** job/agent: which agent this process is. */
export const MARKER = 'A2A_DEPLOY_AGENT';
/** the spec hash it was started with: a retried start with the same spec reuses it. */
export const SPEC = 'A2A_DEPLOY_SPEC';
/** Which Temporal server and namespace the agent belongs to, so `gc` never touches the agents
 *  of another a2a-deploy (another server) on the same machine. */
export const SERVER = 'A2A_DEPLOY_SERVER';

export const markerOf = (job: string, agent: string) => `${job}/${agent}`;

/**
 * The SERVER value for a connection: computed once by the worker (and by gc), never per spawn.
 * It ends with the namespace's id, which is unique per server database: every embedded dev
 * server listens on 127.0.0.1:7233/default, so address and namespace alone made two homes'
 * agents look alike, and one home's worker collected the other's running agents (issue 23).
 * Agents carrying the older `address/namespace` marker are never collected (their owner can't be told).
 */
export const serverMarker = (cfg: { address: string; namespace: string }, namespaceId: string) =>
  `${cfg.address}/${cfg.namespace}/${namespaceId}`;

interface NamespaceService {
  describeNamespace(req: { namespace: string }): Promise<{ namespaceInfo?: { id?: string | null } | null }>;
}

/** Asks the server for its namespace's id and returns this server's marker. */
export async function serverMarkerOf(service: NamespaceService, cfg: { address: string; namespace: string }): Promise<string> {
  const id = (await service.describeNamespace({ namespace: cfg.namespace })).namespaceInfo?.id;
  if (!id) throw new Error(`Temporal did not say the id of namespace ${cfg.namespace}`);
  return serverMarker(cfg, id);
}

/** The markers a process's environment carries (all undefined for a process that is not an agent). */
export const markersIn = (env: Record<string, string>) => ({ marker: env[MARKER], spec: env[SPEC], server: env[SERVER] });

/**
 * Whether markers found on a process (or container) are this agent's of this server. Every
 * lookup checks all of them together: a job name alone is not unique across installations (two
 * homes, two servers on one machine), and killing the other one's agent is the worst mistake.
 */
export const isMarkedAs = (m: { marker?: string; server?: string } | undefined, job: string, agent: string, server: string) =>
  !!m && m.marker === markerOf(job, agent) && m.server === server;
