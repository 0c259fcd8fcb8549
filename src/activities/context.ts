// The activity context, guarded: runners also serve `gc` and tests, which call them directly.
import { Context } from '@temporalio/activity';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats when inside an activity, so long work is not mistaken for a dead worker. */
export function heartbeat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/**
 * Runs `fn` while heartbeating every `everyMs`: pulls, stops, engine calls and slow SSH
 * handshakes can take longer than the workflow's heartbeat timeout without a natural place
 * to heartbeat from. (Timers keep the activity's context, so this reaches Temporal.)
 */
export async function withHeartbeat<T>(fn: () => Promise<T>, everyMs = 1000): Promise<T> {
  const timer = setInterval(() => heartbeat(), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
