// The one way to wait a while. Node-only code; workflow code uses Temporal's own sleep.

/** Resolves after `ms` milliseconds; with `cancelled`, settles as soon as that does (an
 *  activity's `cancelled` rejects, so a cancelled activity's wait ends in its cancellation). */
export function sleep(ms: number, cancelled?: Promise<unknown>): Promise<unknown> {
  const timer = new Promise<void>((r) => setTimeout(r, ms));
  return cancelled ? Promise.race([timer, cancelled]) : timer;
}
