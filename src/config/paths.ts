// Where a2a-deploy keeps its state on this machine: the embedded Temporal server's SQLite
// file, worker pid and logs, and per-agent pid files and logs.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SAFE_ID } from './names';

export function homeDir(): string {
  return resolve(process.env.A2A_DEPLOY_HOME || join(homedir(), '.a2a-deploy'));
}

/** A name that becomes a folder: never a path ('..', '/'), whoever made it (see SAFE_ID). */
function folderName(name: string): string {
  if (!SAFE_ID.test(name)) throw new Error(`refused: ${JSON.stringify(name).slice(0, 70)} is not a job or agent name`);
  return name;
}

/** A job's and an agent's folders under a state home (the worker hands its runners the home it uses). */
export const jobDir = (job: string, home = homeDir()) => join(home, 'jobs', folderName(job));
export const agentDir = (job: string, agent: string, home = homeDir()) => join(jobDir(job, home), folderName(agent));

/** Repository (package) root, from src/config or dist/config alike. */
export const packageRoot = () => resolve(__dirname, '..', '..');
