// Quoting: the one function through which every job value reaches a remote shell, and the
// two ways a path from the job file is read (on the remote host, on the worker's machine).
import { ApplicationFailure } from '@temporalio/activity';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Single-quotes a string for POSIX sh: inside '…' nothing is special except ' itself. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) {
    // A NUL cannot be passed in argv or the environment: refuse rather than truncate silently.
    throw ApplicationFailure.nonRetryable(
      `a value contains a NUL byte, which no process can receive: ${JSON.stringify(value)}`,
      'AgentSpecError',
    );
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A remote path as a shell word: `~` and `~/…` are the login user's home, the rest is literal. */
export function remotePath(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return `"$HOME"/${shellQuote(p.slice(2))}`;
  return shellQuote(p);
}

/** A path on the worker's machine: `~` expanded, relative paths against the job file's folder. */
export function localPath(p: string, baseDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
