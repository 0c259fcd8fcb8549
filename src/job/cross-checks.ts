// Rules that span several places of a job file: unique ids, what each target needs, ports,
// network boundaries; the topology's own rules are in topology-checks.ts.
import type { Diagnostic } from './diagnostics';
import { isObj, str } from './raw';
import { topologyChecks } from './topology-checks';
import type { YamlSource } from './yaml-source';

/** What an agent of each target must say besides the target itself. */
const REQUIRED_BY_TARGET: Record<string, { field: string; hint: string } | undefined> = {
  remote: { field: 'host', hint: 'add deployment.host: the SSH host name or address' },
  container: { field: 'image', hint: 'add deployment.image: the image to run, e.g. a2a-deploy/agent:latest' },
  kubernetes: { field: 'image', hint: 'add deployment.image: the image to run, e.g. a2a-deploy/agent:latest' },
};

export function crossChecks(src: YamlSource, raw: Record<string, unknown>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const agents = Array.isArray(raw.agents) ? raw.agents : [];
  const index = new Map<string, number>(); // id -> index of its first definition

  agents.forEach((a, i) => {
    if (!isObj(a)) return;
    const id = str(a.id);
    if (id !== undefined) {
      const first = index.get(id);
      if (first !== undefined) {
        out.push(
          src.diag(
            ['agents', i, 'id'],
            `duplicate agent id '${id}'`,
            `first defined at line ${src.locate(['agents', first, 'id']).line}; ids must be unique`,
          ),
        );
      } else index.set(id, i);
    }
    const name = id ?? `#${i + 1}`;
    const dep = isObj(a.deployment) ? a.deployment : {};
    const target = str(dep.target) ?? 'localhost';
    const required = REQUIRED_BY_TARGET[target];
    if (required && dep[required.field] === undefined) {
      out.push(src.diag(['agents', i, 'deployment', 'target'], `${target} agent '${name}' has no ${required.field}`, required.hint));
    }
    if (isObj(dep.secrets) && isObj(dep.environment)) {
      for (const k of Object.keys(dep.secrets).filter((k) => k in (dep.environment as object))) {
        out.push(
          src.diag(
            ['agents', i, 'deployment', 'secrets', k],
            `${k} is both a secret and an environment value of agent '${name}'`,
            'keep it in secrets: only, so its value stays out of the plan and history',
            'key',
          ),
        );
      }
    }
    if (a.module !== undefined && a.command !== undefined) {
      out.push(
        src.diag(
          ['agents', i, 'command'],
          `agent '${name}' has both module and command`,
          'give one: module (a Node entry point) or command (an argument list)',
          'key',
        ),
      );
    } else if (a.module === undefined && a.command === undefined && target !== 'container' && target !== 'kubernetes') {
      out.push(
        src.diag(
          ['agents', i],
          `agent '${name}' has nothing to run`,
          'add module: (a Node entry point) or command: [program, args...]',
          'value',
        ),
      );
    }
  });

  out.push(...portConflicts(src, agents));
  if (isObj(raw.topology)) out.push(...networkChecks(src, agents, raw.topology));
  const ids = new Set(index.keys());
  if (isObj(raw.topology)) out.push(...topologyChecks(src, raw.topology, ids, agents));
  return out;
}

/**
 * A container on a job network is reached by name only from that network, and from inside it
 * 127.0.0.1 is the container itself: an agent may only call across that boundary when both
 * sides are on the same job network.
 */
function networkChecks(src: YamlSource, agents: unknown[], topo: Record<string, unknown>): Diagnostic[] {
  const netOf = new Map<string, string>(); // agent id -> job network name, or '' for the host's
  const index = new Map<string, number>();
  agents.forEach((a, i) => {
    if (!isObj(a) || str(a.id) === undefined) return;
    const dep = isObj(a.deployment) ? a.deployment : {};
    const net = str(dep.target) === 'container' && str(dep.network) && dep.network !== 'host' ? str(dep.network)! : '';
    netOf.set(str(a.id)!, net);
    index.set(str(a.id)!, i);
  });
  const edges: [string, string][] = [];
  const list = (k: string) => (Array.isArray(topo[k]) ? (topo[k] as unknown[]).filter((x): x is string => typeof x === 'string') : []);
  if (topo.type === 'hub-spoke' && typeof topo.hub === 'string') for (const s of list('spokes')) edges.push([topo.hub, s]);
  if (topo.type === 'pipeline') list('stages').forEach((s, i, all) => i > 0 && edges.push([all[i - 1], s]));
  if (topo.type === 'dag' && Array.isArray(topo.connections))
    for (const c of topo.connections) if (isObj(c) && typeof c.from === 'string' && typeof c.to === 'string') edges.push([c.from, c.to]);
  if (topo.type === 'mesh') edges.push(...meshNetworkEdges(list('agents'), netOf));
  if (topo.type === 'hierarchical' && isObj(topo.children))
    for (const [p, cs] of Object.entries(topo.children))
      if (Array.isArray(cs)) for (const c of cs) if (typeof c === 'string') edges.push([p, c]);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const [from, to] of edges) {
    if (!netOf.has(from) || !netOf.has(to) || netOf.get(from) === netOf.get(to) || seen.has(from)) continue;
    seen.add(from);
    const where = (id: string) => (netOf.get(id) ? `container network '${netOf.get(id)}'` : "this machine's network");
    out.push(
      src.diag(
        ['agents', index.get(from)!, 'deployment'],
        `agent '${from}' on ${where(from)} cannot reach '${to}' on ${where(to)}`,
        `put agents that call each other on the same network: give both deployment.network: ${netOf.get(to) || netOf.get(from)}, or use network: host for both`,
        'key',
      ),
    );
  }
  return out;
}

/**
 * For each mesh member, its first fellow member on another network (the one edge the check
 * reports for it), found in linear time: the first member overall, or else the first member not
 * on the first one's network. Listing all N*(N-1) edges took seconds at a few thousand members.
 */
function meshNetworkEdges(listed: string[], netOf: Map<string, string>): [string, string][] {
  const members = listed.filter((id) => netOf.has(id));
  if (!members.length) return [];
  const first = members[0];
  const otherNet = members.find((id) => netOf.get(id) !== netOf.get(first));
  const edges: [string, string][] = [];
  for (const a of members) {
    const b = netOf.get(a) !== netOf.get(first) ? first : otherNet;
    if (b !== undefined && b !== a) edges.push([a, b]);
  }
  return edges;
}

function portConflicts(src: YamlSource, agents: unknown[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const used = new Map<string, { id: string; i: number }>();
  agents.forEach((a, i) => {
    if (!isObj(a) || !isObj(a.config) || typeof a.config.port !== 'number') return;
    const dep = isObj(a.deployment) ? a.deployment : {};
    // Every pod has its own address: agents in a cluster may share a port number.
    if (str(dep.target) === 'kubernetes') return;
    // Local processes and containers both bind on this machine (containers publish on 127.0.0.1).
    // Agents on one machine share its ports: a remote host, a host worker's machine, or this one
    // (local processes and containers alike, which publish on 127.0.0.1).
    const host = str(dep.target) === 'remote' ? (str(dep.host) ?? '?') : str(dep.worker) ? `worker ${str(dep.worker)}` : '127.0.0.1';
    const key = `${host}:${a.config.port}`;
    const prior = used.get(key);
    const id = str(a.id) ?? `#${i + 1}`;
    if (prior) {
      out.push(
        src.diag(
          ['agents', i, 'config', 'port'],
          `port ${a.config.port} on ${host} is already used by agent '${prior.id}'`,
          `agent '${prior.id}' (line ${src.locate(['agents', prior.i, 'config', 'port']).line}) listens there; give each agent on a host its own port`,
        ),
      );
    } else used.set(key, { id, i });
  });
  return out;
}
