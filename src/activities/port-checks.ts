// A local agent's port, checked against who holds it: a port that another process already
// serves is refused before the start (the agent would die of EADDRINUSE while the other one
// answered its health checks), and a health check only counts when the socket that answered
// belongs to the agent (its process group, or a process carrying its markers).
import { ApplicationFailure } from '@temporalio/activity';
import type { AgentPlan } from '../job/plan';
import { describeOwners, portFree, portOwners, withChildren } from '../process';

/** Throws a non-retryable failure naming who holds the agent's port, if it cannot bind it. */
export async function refuseTakenPort(agent: AgentPlan): Promise<void> {
  if (await portFree(agent.port, agent.env.AGENT_HOST ?? '127.0.0.1')) return;
  throw ApplicationFailure.nonRetryable(
    `agent '${agent.id}': port ${agent.port} is already in use by ${describeOwners(portOwners(agent.port))}`,
    'PortInUse',
  );
}

/**
 * Throws when the listener on the agent's port is not the agent: not in the group the agent
 * (pid) leads, and not marked as this agent (a server it forked into a session of its own).
 * Nothing is decided when no listener is visible (another user's socket, another namespace).
 */
export function servedByAgent(agent: AgentPlan, pid: number, isAgentProcess: (pid: number) => boolean): void {
  const owners = portOwners(agent.port, withChildren(pid));
  if (owners.length === 0 || owners.some((o) => o.pid === pid || o.pgrp === pid || isAgentProcess(o.pid))) return;
  throw ApplicationFailure.nonRetryable(
    `agent '${agent.id}': port ${agent.port} answered health checks, but it is served by ${describeOwners(owners)}, not by the agent (pid ${pid})`,
    'PortInUse',
  );
}
