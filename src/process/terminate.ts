// Stopping things the one way: SIGTERM, a grace period, then SIGKILL. The same steps stop a
// local agent (a process group), a container, a remote agent (over SSH), the dev server, a
// background worker and what gc collects; only how to signal and how to look differ.
import { sleep } from '../common/sleep';
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

export interface WaitOptions {
  /** poll interval after the first 200 ms (default 25) */
  pollMs?: number;
  /** poll interval in the first 200 ms (default 5) */
  fastPollMs?: number;
  onWait?: () => void;
}

/**
 * Polls `done` until it is true or `ms` pass; true when it became true. The first 200 ms are
 * polled every 5 ms (most processes exit within milliseconds of SIGTERM, and a teardown waits
 * for each level before signalling the next), then every `pollMs`. `onWait` runs between polls
 * (activities heartbeat there).
 */
export async function waitUntil(done: () => boolean | Promise<boolean>, ms: number, opts: WaitOptions = {}): Promise<boolean> {
  const t0 = Date.now();
  const deadline = t0 + ms;
  while (Date.now() < deadline) {
    if (await done()) return true;
    opts.onWait?.();
    await sleep(Date.now() - t0 < 200 ? (opts.fastPollMs ?? 5) : (opts.pollMs ?? 25));
  }
  return done();
}

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
