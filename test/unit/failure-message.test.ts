// How an activity's failure is worded in an agent's status: always naming the agent.
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import type { AgentPlan } from '../../src/job/plan';
import { failureMessage } from '../../src/workflows/failure-message';

const agent = (id: string) => ({ id, deployment: {}, workerTimeoutMs: 120_000, taskQueue: 'q' }) as unknown as AgentPlan;
const wrapped = (inner: ApplicationFailure) =>
  new ActivityFailure('Activity task failed', 'deployAgent', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', inner);

test('an agent id that occurs inside the text ("b" in "bytes") does not stand for naming the agent', () => {
  const err = wrapped(ApplicationFailure.nonRetryable('the environment is 3000000 bytes', 'X'));
  expect(failureMessage(agent('b'), err)).toBe("agent 'b': the environment is 3000000 bytes");
});

test("a message that names the agent ('b') is kept as is, with the stderr tail after it", () => {
  const err = wrapped(ApplicationFailure.nonRetryable("agent 'b' exited with code 3", 'AgentExited', 'boom'));
  expect(failureMessage(agent('b'), err)).toBe("agent 'b' exited with code 3\n--- last lines of b's stderr ---\nboom");
});
