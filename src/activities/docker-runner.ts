// PLACEHOLDER until the container runner lands: refuses container agents with a clear error.
import { ApplicationFailure } from '@temporalio/activity';
import type { RunnerActivities } from './types';

const refuse = async (): Promise<never> => {
  throw ApplicationFailure.nonRetryable('the container target is not available in this build', 'TargetUnavailable');
};
export const dockerRunner: RunnerActivities = { startAgent: refuse, waitHealthy: refuse, stopAgent: refuse, watchAgents: refuse, readLogs: refuse };
