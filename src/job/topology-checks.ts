// The topology's rules: references name defined agents, DAGs have no cycles, hierarchies are
// trees, and every agent is mentioned (a warning otherwise).
import { closest, type Diagnostic } from './diagnostics';
import { isObj, str } from './raw';
import { findCycle } from './topology';
import type { Path, YamlSource } from './yaml-source';

/**
 * The most members a mesh may have. Each member is given every other member's URL, so the plan
 * grows with the square of the mesh: at 400 members it is 10 MB of JSON that compresses to a
 * fraction of Temporal's 2 MB payload limit; at 500 it no longer fits (2.8 MB compressed).
 */
export const MESH_MAX_MEMBERS = 400;

export function topologyChecks(src: YamlSource, topo: Record<string, unknown>, ids: Set<string>, agents: unknown[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const mentioned = new Set<string>();
  const T = ['topology'] as const;
  // Checks one reference: it must name a defined agent.
  const ref = (path: Path, value: unknown): string | undefined => {
    const id = str(value);
    if (id === undefined) return undefined;
    mentioned.add(id);
    if (!ids.has(id)) {
      const near = closest(id, ids);
      out.push(
        src.diag(path, `unknown agent '${id}'`, near ? `did you mean '${near}'?` : `defined agents: ${[...ids].join(', ') || 'none'}`),
      );
      return undefined;
    }
    return id;
  };
  const list = (key: string): unknown[] => (Array.isArray(topo[key]) ? (topo[key] as unknown[]) : []);
  const noRepeats = (key: string, what: string) => {
    const seen = new Map<string, number>();
    list(key).forEach((v, i) => {
      const id = str(v);
      if (id === undefined) return;
      if (seen.has(id))
        out.push(
          src.diag(
            [...T, key, i],
            `agent '${id}' appears twice in ${what}`,
            `first at line ${src.locate([...T, key, seen.get(id)!]).line}`,
          ),
        );
      else seen.set(id, i);
    });
  };

  switch (topo.type) {
    case 'hub-spoke': {
      const hub = ref([...T, 'hub'], topo.hub);
      list('spokes').forEach((s, i) => {
        const id = ref([...T, 'spokes', i], s);
        if (id !== undefined && id === hub)
          out.push(
            src.diag([...T, 'spokes', i], `the hub '${hub}' cannot also be a spoke`, 'a hub calls its spokes; remove it from spokes'),
          );
      });
      noRepeats('spokes', 'spokes');
      break;
    }
    case 'pipeline':
      list('stages').forEach((s, i) => ref([...T, 'stages', i], s));
      noRepeats('stages', 'the pipeline');
      break;
    case 'mesh':
      if (list('agents').length > MESH_MAX_MEMBERS) {
        // Refused before it is planned: planning it cost seconds and hundreds of MB per thousand
        // members, for a plan that could not be deployed anyway. (The checks here are linear.)
        const n = list('agents').length;
        out.push(
          src.diag(
            [...T, 'agents'],
            `a mesh of ${n} agents gives each of them the URLs of the ${n - 1} others (${n * (n - 1)} in all); a mesh holds at most ${MESH_MAX_MEMBERS} agents`,
            'let a hub route between many agents (hub-spoke), or group them (hierarchical), or split the mesh',
            'key',
          ),
        );
      }
      list('agents').forEach((s, i) => ref([...T, 'agents', i], s));
      noRepeats('agents', 'the mesh');
      break;
    case 'dag': {
      const calls = new Map<string, string[]>();
      const edgeIndex = new Map<string, number>();
      list('connections').forEach((c, i) => {
        if (!isObj(c)) return;
        const from = ref([...T, 'connections', i, 'from'], c.from);
        const to = ref([...T, 'connections', i, 'to'], c.to);
        if (from === undefined || to === undefined) return;
        const key = `${from}\u0000${to}`;
        if (edgeIndex.has(key)) {
          out.push(
            src.diag(
              [...T, 'connections', i],
              `connection ${from} -> ${to} is listed twice`,
              `first at line ${src.locate([...T, 'connections', edgeIndex.get(key)!]).line}`,
              'value',
              'warning',
            ),
          );
          return;
        }
        edgeIndex.set(key, i);
        calls.set(from, [...(calls.get(from) ?? []), to]);
      });
      out.push(...cycleDiagnostics(src, calls, (from, to) => [...T, 'connections', edgeIndex.get(`${from}\u0000${to}`)!], 'the DAG'));
      break;
    }
    case 'hierarchical':
      out.push(...treeChecks(src, topo, ref));
      break;
    default:
      return out; // the schema already reported an unknown type
  }

  agents.forEach((a, i) => {
    const id = isObj(a) ? str(a.id) : undefined;
    if (id !== undefined && !mentioned.has(id)) {
      out.push(
        src.diag(
          ['agents', i, 'id'],
          `agent '${id}' is not part of the topology`,
          'it will run on its own, calling nobody and called by nobody; add it to the topology or remove it',
          'value',
          'warning',
        ),
      );
    }
  });
  return out;
}

function treeChecks(src: YamlSource, topo: Record<string, unknown>, ref: (path: Path, v: unknown) => string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const T = ['topology', 'children'];
  const root = ref(['topology', 'root'], topo.root);
  const children = isObj(topo.children) ? topo.children : {};
  const parentOf = new Map<string, string>();
  const calls = new Map<string, string[]>();
  for (const [parentKey, kids] of Object.entries(children)) {
    const parent = ref([...T, parentKey], parentKey) ? parentKey : undefined;
    if (!Array.isArray(kids)) continue;
    kids.forEach((k, i) => {
      const child = ref([...T, parentKey, i], k);
      if (child === undefined || parent === undefined) return;
      if (child === root) {
        out.push(
          src.diag(
            [...T, parentKey, i],
            `the root '${root}' cannot be a child of '${parent}'`,
            'the root is the top of the tree; nothing may list it as a child',
          ),
        );
        return;
      }
      const prior = parentOf.get(child);
      if (prior !== undefined) {
        out.push(
          src.diag(
            [...T, parentKey, i],
            `agent '${child}' has two parents: '${prior}' and '${parent}'`,
            'in a hierarchy each agent has exactly one parent',
          ),
        );
        return;
      }
      parentOf.set(child, parent);
      calls.set(parent, [...(calls.get(parent) ?? []), child]);
    });
  }
  const cycles = cycleDiagnostics(src, calls, (from) => [...T, from], 'the hierarchy');
  out.push(...cycles);
  if (root !== undefined && cycles.length === 0) {
    const reach = new Set<string>([root]);
    const queue = [root];
    for (let i = 0; i < queue.length; i++) {
      for (const c of calls.get(queue[i]) ?? []) {
        if (reach.has(c)) continue;
        reach.add(c);
        queue.push(c);
      }
    }
    for (const parentKey of Object.keys(children)) {
      if (!reach.has(parentKey) && !parentOf.has(parentKey)) {
        out.push(
          src.diag(
            [...T, parentKey],
            `'${parentKey}' is not reachable from the root '${root}'`,
            `list '${parentKey}' as a child of an agent under '${root}', or make it the root`,
            'key',
          ),
        );
      }
    }
  }
  return out;
}

/** Reports cycles one at a time (removing each closing edge) so several are named in one run. */
function cycleDiagnostics(
  src: YamlSource,
  calls: Map<string, string[]>,
  edgePath: (from: string, to: string) => Path,
  where: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const graph = new Map([...calls].map(([k, v]) => [k, [...v]]));
  for (let n = 0; n < 20; n++) {
    const cycle = findCycle(graph);
    if (!cycle) break;
    const [from, to] = [cycle[cycle.length - 2], cycle[cycle.length - 1]];
    out.push(
      src.diag(
        edgePath(cycle[0], cycle[1]),
        `cycle in ${where}: ${cycle.join(' -> ')}`,
        `an edge means "calls"; callees start first, so calls cannot go round in a circle. Remove one of these edges, e.g. ${from} -> ${to}`,
      ),
    );
    graph.set(
      from,
      graph.get(from)!.filter((x) => x !== to),
    );
  }
  return out;
}
