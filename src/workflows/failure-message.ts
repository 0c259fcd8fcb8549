// What an agent's status says when an activity for it failed: the runner's own message (with
// the agent's last stderr lines, which the runners put in the ApplicationFailure's details), or,
// when no worker picked the work up in time, which worker to start.
import { ApplicationFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import type { AgentPlan } from '../job/plan';

/** The failure and its causes, outermost first (an ActivityFailure wraps the runner's failure). */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let c: unknown = err; c !== undefined && c !== null && chain.length < 20; c = (c as { cause?: unknown }).cause) chain.push(c);
  return chain;
}

export function failureMessage(agent: AgentPlan, err: unknown): string {
  const chain = causeChain(err);
  // SCHEDULE_TO_START: nobody polled the agent's task queue within its worker_timeout.
  if (chain.some((c) => c instanceof TimeoutFailure && c.timeoutType === TimeoutType.SCHEDULE_TO_START)) {
    const who = agent.deployment.worker ? `host ${agent.deployment.worker}'s worker` : 'the main worker';
    return `agent '${agent.id}': ${who} did not pick up the work within ${agent.workerTimeoutMs / 1000}s (task queue ${agent.taskQueue}); start it with \`a2a-deploy worker${agent.deployment.worker ? ` --host ${agent.deployment.worker}` : ''}\``;
  }
  // The first failure that carries details (the runner's), else the innermost one.
  const carrier = chain.find((c) => c instanceof ApplicationFailure && c.details?.length) ?? chain[chain.length - 1];
  const details = carrier instanceof ApplicationFailure ? carrier.details : undefined;
  const stderr = typeof details?.[0] === 'string' && details[0] ? `\n--- last lines of ${agent.id}'s stderr ---\n${details[0]}` : '';
  const message = carrier instanceof Error ? carrier.message : String(err);
  // The runners name the agent quoted ('b'); a bare id inside the text ("b" in "bytes") does not count.
  return `${message.includes(`'${agent.id}'`) ? message : `agent '${agent.id}': ${message}`}${stderr}`;
}
