// Reading agents' logs on the workers that run them, so `logs` works for agents on any host:
// the host's worker pulls the request like any other work.
//
// agentLogsSession serves one `logs` command: each read is an update on it (a readLogs activity
// on the agent's task queue), so following a job for an hour is one workflow, not one per read
// (a read every 0.5 s made one each). The command deletes it when done; it ends
// by itself once no read has come for a while (a command killed outright).
// agentLogs, the one-read workflow of older clients, stays for them.
import { allHandlersFinished, condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { LogChunk, LogRequest, RunnerActivities } from '../activities/types';

const readOn = (req: LogRequest) =>
  proxyActivities<RunnerActivities>({
    taskQueue: req.agent.taskQueue,
    scheduleToStartTimeout: '15s', // no worker on that host: say so rather than wait
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 2 },
  }).readLogs(req);

export async function agentLogs(req: LogRequest): Promise<LogChunk> {
  return readOn(req);
}

export const readLogsUpdate = defineUpdate<LogChunk, [LogRequest]>('readLogs');
/** A session no read came to for this long ends (its command is gone). */
const SESSION_IDLE = '2 minutes';

export async function agentLogsSession(): Promise<void> {
  let reads = 0;
  let inFlight = 0;
  setHandler(readLogsUpdate, async (req) => {
    reads++;
    inFlight++;
    try {
      return await readOn(req);
    } finally {
      inFlight--;
    }
  });
  for (;;) {
    const seen = reads;
    if (!(await condition(() => reads !== seen, SESSION_IDLE)) && inFlight === 0) break;
  }
  await condition(allHandlersFinished);
}
