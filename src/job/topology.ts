// Who calls whom, for each topology. An edge from A to B means "A calls B": B's URL is
// given to A, and (except in a mesh, whose members start together) B is healthy before A starts.
import type { Topology } from './schema';

export interface CallGraph {
  /** agent id -> the agents it calls, in the order the file names them */
  calls: Map<string, string[]>;
  /** whether an edge also orders the start-up (false only for mesh) */
  ordered: boolean;
}

export function callGraph(topology: Topology): CallGraph {
  const calls = new Map<string, string[]>();
  // A set per caller beside its list: a mesh adds N-1 callees to each of N agents.
  const seen = new Map<string, Set<string>>();
  const add = (from: string, to: string) => {
    const set = seen.get(from) ?? new Set<string>();
    if (set.has(to)) return;
    if (!set.size) {
      seen.set(from, set);
      calls.set(from, []);
    }
    set.add(to);
    calls.get(from)!.push(to);
  };
  switch (topology.type) {
    case 'hub-spoke':
      for (const s of topology.spokes) add(topology.hub, s);
      return { calls, ordered: true };
    case 'pipeline':
      for (let i = 0; i + 1 < topology.stages.length; i++) add(topology.stages[i], topology.stages[i + 1]);
      return { calls, ordered: true };
    case 'dag':
      for (const c of topology.connections) add(c.from, c.to);
      return { calls, ordered: true };
    case 'mesh':
      for (const a of topology.agents) for (const b of topology.agents) if (a !== b) add(a, b);
      return { calls, ordered: false };
    case 'hierarchical':
      for (const [parent, children] of Object.entries(topology.children)) for (const c of children) add(parent, c);
      return { calls, ordered: true };
  }
}

/** Every agent id the topology names, in first-mention order. */
export function mentionedAgents(topology: Topology): string[] {
  const seen = new Set<string>();
  const note = (id: string) => seen.add(id);
  switch (topology.type) {
    case 'hub-spoke':
      note(topology.hub);
      topology.spokes.forEach(note);
      break;
    case 'pipeline':
      topology.stages.forEach(note);
      break;
    case 'dag':
      topology.connections.forEach((c) => (note(c.from), note(c.to)));
      break;
    case 'mesh':
      topology.agents.forEach(note);
      break;
    case 'hierarchical':
      note(topology.root);
      for (const [p, cs] of Object.entries(topology.children)) {
        note(p);
        cs.forEach(note);
      }
      break;
  }
  return [...seen];
}

/**
 * Stage of each agent = its height in the call graph: 0 for an agent that calls nobody,
 * else 1 + the highest stage among its callees. Kahn's algorithm over reversed edges, O(V+E).
 * Returns undefined for agents on a cycle (validation reports those).
 */
export function stagesByHeight(ids: readonly string[], calls: Map<string, string[]>): { stages: string[][]; height: Map<string, number> } {
  const callers = new Map<string, string[]>();
  const pending = new Map<string, number>();
  for (const id of ids) pending.set(id, 0);
  for (const [from, tos] of calls) {
    pending.set(from, tos.length);
    for (const to of tos) callers.set(to, [...(callers.get(to) ?? []), from]);
  }
  const height = new Map<string, number>();
  const queue: string[] = [];
  for (const id of ids) {
    if ((pending.get(id) ?? 0) !== 0) continue;
    height.set(id, 0);
    queue.push(id);
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const caller of callers.get(id) ?? []) {
      height.set(caller, Math.max(height.get(caller) ?? 0, height.get(id)! + 1));
      const left = pending.get(caller)! - 1;
      pending.set(caller, left);
      if (left === 0) queue.push(caller);
    }
  }
  const stages: string[][] = [];
  // File order within a stage, so plans are stable and easy to read.
  for (const id of ids) {
    const h = height.get(id);
    if (h === undefined) continue;
    (stages[h] ??= []).push(id);
  }
  return { stages, height };
}

/** One cycle in `calls`, in call order (first id repeated at the end), or undefined. */
export function findCycle(calls: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of calls.keys()) {
    if (state.has(start)) continue;
    // Iterative DFS so a 10,000-stage pipeline cannot overflow the stack.
    const path: string[] = [];
    const iters: number[] = [];
    path.push(start);
    iters.push(0);
    state.set(start, 1);
    while (path.length > 0) {
      const node = path[path.length - 1];
      const next = calls.get(node) ?? [];
      const i = iters[iters.length - 1]++;
      if (i >= next.length) {
        state.set(node, 2);
        path.pop();
        iters.pop();
        continue;
      }
      const to = next[i];
      if (state.get(to) === 1) return [...path.slice(path.indexOf(to)), to];
      if (!state.has(to)) {
        state.set(to, 1);
        path.push(to);
        iters.push(0);
      }
    }
  }
  return undefined;
}
