// /proc readings: CPU and memory of the processes under test, and the agents a benchmark run
// left behind (found by their environment marker, killed by pid).
import { readFileSync } from 'node:fs';
import { MARKER } from '../../src/activities/markers';
import { scanProcesses } from '../../src/process';

/** The floor's own marker: not the runner's, so `a2a-deploy gc` never takes its agents for ours. */
export const FLOOR_MARKER = 'A2A_BENCH_FLOOR_AGENT';

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat times are in these ticks

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards), or undefined. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, or NaN when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  const f = pid === undefined ? undefined : statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : NaN; // utime, stime (fields 14, 15)
}

export interface Memory {
  rssMiB: number;
  hwmMiB: number;
}

/** Resident memory of a process in MiB: now (VmRSS) and its peak so far (VmHWM). */
export function memory(pid: number | undefined): Memory {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

/**
 * Live processes whose environment marker (the local runner's, or the floor's) names a job
 * starting with `prefix`. Group leaders only.
 */
export function markedProcesses(prefix: string): { pid: number; marker: string }[] {
  const markerOf = (env: Record<string, string>) => env[MARKER] ?? env[FLOOR_MARKER];
  return scanProcesses((env) => markerOf(env)?.startsWith(prefix) ?? false, { leadersOnly: true }).map((p) => ({
    pid: p.pid,
    marker: markerOf(p.env)!,
  }));
}

/** Kills (SIGKILL, whole group) the agents of jobs starting with `prefix`; returns how many. */
export function killMarked(prefix: string): number {
  const found = markedProcesses(prefix);
  for (const p of found) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return found.length;
}
