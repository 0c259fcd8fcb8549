// PLACEHOLDER until the remote runner lands: refuses remote agents with a clear error.
import { ApplicationFailure } from '@temporalio/activity';
import type { RunnerActivities } from './types';

const refuse = async (): Promise<never> => {
  throw ApplicationFailure.nonRetryable('the remote target is not available in this build', 'TargetUnavailable');
};
export const sshRunner: RunnerActivities = { startAgent: refuse, waitHealthy: refuse, stopAgent: refuse, watchAgents: refuse, readLogs: refuse };
