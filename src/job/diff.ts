// What changes when a running job's file changes. Pure, so the CLI's `diff` and the workflow's
// rolling redeploy agree on it. An agent's spec hash covers its environment, which holds the
// URLs it calls, so a caller whose callee moved shows up as changed by itself.
import type { AgentPlan, DeployPlan } from './plan';

export interface PlanDiff {
  added: string[];
  removed: string[];
  /** spec changed (includes callers whose callees' URLs changed) */
  changed: string[];
  /** of `changed`: those that change only because an agent they call has a new URL */
  rewired: string[];
  unchanged: string[];
}

export function diffPlans(before: DeployPlan, after: DeployPlan): PlanDiff {
  const old = before.agents;
  const now = after.agents;
  const added = Object.keys(now).filter((id) => !old[id]);
  const removed = Object.keys(old).filter((id) => !now[id]);
  const changed = Object.keys(now).filter((id) => old[id] && old[id].specHash !== now[id].specHash);
  const unchanged = Object.keys(now).filter((id) => old[id] && old[id].specHash === now[id].specHash);
  const rewired = changed.filter((id) => onlyWiringChanged(old[id], now[id]));
  return { added, removed, changed, rewired, unchanged };
}

function onlyWiringChanged(a: AgentPlan, b: AgentPlan): boolean {
  const strip = (p: AgentPlan) => {
    const { CONNECTED_AGENTS: _c, A2A_PEERS: _p, ...env } = p.env;
    return JSON.stringify({ ...p, env, specHash: '', stage: 0, connectsTo: [], dependsOn: [] });
  };
  return strip(a) === strip(b) && (a.env.CONNECTED_AGENTS !== b.env.CONNECTED_AGENTS || a.env.A2A_PEERS !== b.env.A2A_PEERS);
}

export const isEmptyDiff = (d: PlanDiff) => d.added.length + d.removed.length + d.changed.length === 0;
