// A tiny workflow that reads one agent's logs on the worker that runs it, so `logs` works for
// agents on any host: the host's worker pulls the request like any other work.
import { proxyActivities } from '@temporalio/workflow';
import type { LogChunk, LogRequest, RunnerActivities } from '../activities/types';

export async function agentLogs(req: LogRequest): Promise<LogChunk> {
  const { readLogs } = proxyActivities<RunnerActivities>({
    taskQueue: req.agent.taskQueue,
    scheduleToStartTimeout: '15s', // no worker on that host: say so rather than wait
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 2 },
  });
  return readLogs(req);
}
