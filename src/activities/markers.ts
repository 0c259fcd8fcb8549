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

/** The SERVER value for a connection: computed once by the worker (and by gc), never per spawn. */
export const serverMarker = (cfg: { address: string; namespace: string }) => `${cfg.address}/${cfg.namespace}`;

/** The markers a process's environment carries (all undefined for a process that is not an agent). */
export const markersIn = (env: Record<string, string>) => ({ marker: env[MARKER], spec: env[SPEC], server: env[SERVER] });
