// What /proc says about a process: its state, parent and group, and its environment. The
// runners find their agents by a marker in the environment; gc and the tests look the same way.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z (zombie), X (dead), ... */
  state: string;
  ppid: number;
  /** the process group: an agent leads its own, so pgrp === pid for the agent itself */
  pgrp: number;
  /**
   * When the process started, in clock ticks since boot (field 22): with the pid, it names one
   * process for good (a reused pid has another start time), whatever the process does to its
   * environment.
   */
  startTime: string;
}

/** The pids in /proc now. */
export function listPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** State, parent, group and start time of a process; undefined when it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (in parentheses) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, ppid, pgrp] = fields;
    return { state, ppid: Number(ppid), pgrp: Number(pgrp), startTime: fields[19] };
  } catch {
    return undefined;
  }
}

const isDead = (stat: ProcStat | undefined) => !stat || stat.state.startsWith('Z') || stat.state.startsWith('X');

/** Whether a process lives (a zombie does not: it has ended and only waits to be reaped). */
export function isAlive(pid: number): boolean {
  if (process.platform === 'linux') return !isDead(procStat(pid));
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's environment; undefined when it is gone or not readable (another user's, a kernel thread). */
export function procEnviron(pid: number): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The environment of a live process; undefined when it is gone or a zombie. */
export function liveEnviron(pid: number): Record<string, string> | undefined {
  return isDead(procStat(pid)) ? undefined : procEnviron(pid);
}

export interface FoundProcess {
  pid: number;
  env: Record<string, string>;
}

/**
 * Scans /proc for live processes whose environment `match`es. It reads every process's
 * environment (about 66 ms with 1,000 processes), so callers keep it off hot paths.
 * `leadersOnly`: only process group leaders (an agent's children inherit its environment).
 */
export function scanProcesses(match: (env: Record<string, string>) => boolean, opts: { leadersOnly?: boolean } = {}): FoundProcess[] {
  const found: FoundProcess[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const stat = procStat(pid);
    if (isDead(stat) || (opts.leadersOnly && stat!.pgrp !== pid)) continue;
    const env = procEnviron(pid);
    if (env && match(env)) found.push({ pid, env });
  }
  return found;
}
