// Where a2a-deploy keeps its state on this machine: the embedded Temporal server's SQLite
// file, worker pid and logs, and per-agent pid files and logs.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function homeDir(): string {
  return resolve(process.env.A2A_DEPLOY_HOME || join(homedir(), '.a2a-deploy'));
}

/** An agent's folder under a state home (the worker hands its runners the home it uses). */
export const agentDir = (job: string, agent: string, home = homeDir()) => join(home, 'jobs', job, agent);

/** Repository (package) root, from src/config or dist/config alike. */
export const packageRoot = () => resolve(__dirname, '..', '..');
