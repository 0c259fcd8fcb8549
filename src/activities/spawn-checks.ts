// Starting a local agent's process, with every way it can fail for good worded as a
// non-retryable failure that names the agent: a NUL byte, E2BIG, a missing workdir, a missing
// or non-executable command. Node words them as "spawn node ENOENT" (the workdir's absence
// looks exactly like the command's), throws a TypeError for a NUL byte and a bare E2BIG; each
// of those was retried five times before.
import { ApplicationFailure } from '@temporalio/activity';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { statSync } from 'node:fs';
import { execProblem } from '../common/exec-limits';

const unrunnable = (agentId: string, what: string) =>
  ApplicationFailure.nonRetryable(`agent '${agentId}' cannot be started: ${what}`, 'AgentSpecError');

/** Throws the non-retryable failure for an argv/environment the OS would refuse, or a workdir that is not a folder. */
export function refuseUnrunnable(agentId: string, argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string): void {
  const problem = execProblem(argv, env);
  if (problem) throw unrunnable(agentId, problem);
  let isDir: boolean | undefined;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    throw unrunnable(agentId, `its workdir ${cwd} does not exist on this machine (deployment.workdir, relative to the job file's folder)`);
  }
  if (!isDir) throw unrunnable(agentId, `its workdir ${cwd} is not a folder`);
}

/** The failure for a spawn error: the command's absence or permissions, or E2BIG, in words. */
export function spawnFailure(agentId: string, argv: readonly string[], cwd: string, e: NodeJS.ErrnoException): ApplicationFailure {
  const cmd = JSON.stringify(argv[0]);
  switch (e.code) {
    case 'ENOENT':
      // refuseUnrunnable saw the workdir a moment ago: the command is what is missing.
      return unrunnable(agentId, `command ${cmd} not found (looked in PATH, from ${cwd})`);
    case 'EACCES':
      return unrunnable(agentId, `command ${cmd} is not executable (EACCES)`);
    case 'E2BIG':
      return unrunnable(agentId, 'its arguments and environment are too large for the OS (E2BIG); pass large data in a file');
    default:
      return ApplicationFailure.retryable(`agent '${agentId}' cannot be started: ${e.message}`, 'AgentStartError');
  }
}

/** spawn, with what it throws synchronously (E2BIG, a NUL byte: ERR_INVALID_ARG_VALUE) turned into a worded failure. */
export function spawnOrFail(agentId: string, argv: readonly string[], opts: SpawnOptions): ChildProcess {
  try {
    return spawn(argv[0], argv.slice(1), opts);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_INVALID_ARG_VALUE' || e.code === 'ERR_INVALID_ARG_TYPE')
      throw unrunnable(agentId, `${e.message.split('\n')[0]} (a NUL byte or a value that is not text)`);
    throw spawnFailure(agentId, argv, String(opts.cwd ?? '.'), e);
  }
}
