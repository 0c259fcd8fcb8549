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
