// Stopping things the one way: SIGTERM, a grace period, then SIGKILL. The same steps stop a
// local agent (a process group), a container, a remote agent (over SSH), the dev server, a
// background worker and what gc collects; only how to signal and how to look differ.
import { waitUntil, type WaitOptions } from '../common/wait';
import { isAlive } from './proc';

export type StopSignal = 'SIGTERM' | 'SIGKILL';

/** Something that can be signalled and watched until it is gone. */
export interface Terminable {
  signal(sig: StopSignal): void | Promise<void>;
  /** Resolves true once it is gone, false if it is still there after `ms`. */
  waitGone(ms: number): Promise<boolean>;
}

export interface GraceOptions {
  /** how long SIGTERM may take before SIGKILL */
  graceMs: number;
  /** SIGKILL at once */
  force?: boolean;
  /** how long to wait for the end after SIGKILL (default 5 s) */
  killWaitMs?: number;
  /** the first signal (SIGTERM, or SIGKILL when forced) was already sent */
  firstSignalSent?: boolean;
}

/** SIGTERM, a grace period, SIGKILL. `forced`: SIGKILL was needed; `gone`: it ended in the end. */
export async function terminateWithGrace(target: Terminable, o: GraceOptions): Promise<{ forced: boolean; gone: boolean }> {
  if (!o.force) {
    if (!o.firstSignalSent) await target.signal('SIGTERM');
    if (await target.waitGone(o.graceMs)) return { forced: false, gone: true };
    await target.signal('SIGKILL');
  } else if (!o.firstSignalSent) {
    await target.signal('SIGKILL');
  }
  return { forced: true, gone: await target.waitGone(o.killWaitMs ?? 5000) };
}

// The one poll-until helper; exported here too, where the stop paths have always found it.
export { waitUntil, type WaitOptions };

/** Signals the process group led by `pid` (the process and its children), or the process alone
 *  if it leads none; a process that is gone already is no error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Waits until the process is gone (see waitUntil); true when it is. */
export const waitGone = (pid: number, ms: number, opts: WaitOptions = {}) => waitUntil(() => !isAlive(pid), ms, opts);

/** TERM → grace → KILL for a local process group. */
export function terminateProcess(pid: number, o: GraceOptions & WaitOptions): Promise<{ forced: boolean; gone: boolean }> {
  return terminateWithGrace(
    {
      signal: (sig) => signalGroup(pid, sig),
      waitGone: (ms) => waitGone(pid, ms, o),
    },
    o,
  );
}
