// The one way to wait for a condition: poll it until it holds or time runs out. Node-only code;
// workflow code uses Temporal's own condition().
import { sleep } from './sleep';

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
