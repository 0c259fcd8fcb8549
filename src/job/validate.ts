// Turns a job file into a typed job, reporting every problem at once, each located at the
// YAML node it is about. Schema problems come from zod; the rules that span several places
// (references, cycles, trees, ports) are checked on the raw value, so they are reported even
// when some other part of the file does not match the schema.
import { z } from 'zod';
import { closest, didYouMean, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics';
import { JobFileSchema, type JobFile } from './schema';
import { findCycle } from './topology';
import { readYamlFile, parseYamlText, type ParsedYaml, type Path, type ReadOptions, type YamlSource } from './yaml-source';

export interface LoadedJob {
  file: string;
  job?: JobFile; // present when there is no error
  diagnostics: Diagnostic[];
}

/** `opts.vars`: the variables ${NAME} in values resolves against (see interpolate.ts). */
export function loadJobFile(file: string, opts: ReadOptions = {}): LoadedJob {
  return fromParsed(file, readYamlFile(file, opts));
}

export function loadJobText(file: string, text: string, opts: ReadOptions = {}): LoadedJob {
  return fromParsed(file, parseYamlText(file, text, opts));
}

/** Top-level `x-...` fields are extensions (anchors for merge keys, notes), ignored as in Compose files. */
function withoutExtensions(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')));
}

function fromParsed(file: string, parsed: ParsedYaml): LoadedJob {
  if (!parsed.source || parsed.diagnostics.length > 0) return { file, diagnostics: parsed.diagnostics };
  const src = parsed.source;
  if (!isObj(parsed.value)) {
    return {
      file,
      diagnostics: [src.diag([], 'a job file is a mapping with job, agents and topology', 'see jobs/examples/simple-weather.yaml')],
    };
  }
  const raw = withoutExtensions(parsed.value);
  const diagnostics: Diagnostic[] = [];
  const result = JobFileSchema.safeParse(raw);
  if (!result.success) diagnostics.push(...result.error.issues.flatMap((i) => schemaDiagnostics(src, raw, i)));
  diagnostics.push(...crossChecks(src, raw));
  const sorted = sortDiagnostics(dedupe(diagnostics));
  return { file, diagnostics: sorted, job: result.success && !hasErrors(sorted) ? result.data : undefined };
}

// ---------------------------------------------------------------------------------------------
// Schema issues

type Issue = z.core.$ZodIssue;

function schemaDiagnostics(src: YamlSource, raw: unknown, issue: Issue): Diagnostic[] {
  const path = issue.path as Path;
  const field = String(path[path.length - 1] ?? 'document');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, raw);
      return issue.keys.map((k) =>
        src.diag(
          [...path, k],
          `unknown field '${k}'`,
          didYouMean(k, known) ?? (known.length ? `allowed here: ${known.join(', ')}` : undefined),
          'key',
        ),
      );
    }
    case 'invalid_type': {
      const value = valueAt(raw, path);
      if (value === undefined) {
        return [src.diag(path.slice(0, -1), `missing required field '${field}'`, hintForMissing(field), 'key')];
      }
      const custom = !issue.message.startsWith('Invalid input');
      return [src.diag(path, custom ? issue.message : `'${field}' must be ${article(issue.expected)}, not ${describe(value)}`)];
    }
    case 'invalid_union': {
      const value = valueAt(raw, path);
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
      if (value === undefined)
        return [src.diag(path.slice(0, -1), `missing required field '${field}'`, `one of: ${options.join(', ')}`, 'key')];
      return [
        src.diag(
          path,
          issue.message.startsWith('Invalid input') ? `invalid value for '${field}'` : issue.message,
          typeof value === 'string' ? didYouMean(value, options) : undefined,
        ),
      ];
    }
    case 'invalid_value': {
      const value = valueAt(raw, path);
      const values = issue.values.map(String);
      return [
        src.diag(
          path,
          issue.message.startsWith('Invalid') ? `'${field}' must be one of: ${values.join(', ')}` : issue.message,
          typeof value === 'string' ? didYouMean(value, values) : undefined,
        ),
      ];
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    default: {
      const message =
        issue.message.startsWith('Too small') && issue.code === 'too_small' && issue.origin === 'array'
          ? `'${field}' must list at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
          : issue.message.startsWith('Too small') && issue.code === 'too_small' && issue.origin === 'string'
            ? `'${field}' must not be empty`
            : issue.message;
      return [src.diag(path, message)];
    }
  }
}

const HINTS: Record<string, string> = {
  job: 'start the file with a job: block holding at least name:',
  name: 'job names are lowercase letters, digits and -, e.g. name: simple-weather',
  agents: 'list the agents under agents:, each with id, module or command, config.port',
  topology: 'add a topology: with type hub-spoke, pipeline, dag, mesh or hierarchical',
  config: 'each agent needs config: with at least port:',
  port: 'give the port the agent listens on, e.g. port: 9001',
  id: 'each agent needs an id: lowercase letters, digits and -',
};
const hintForMissing = (field: string) => HINTS[field];

const article = (t: string) => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Field names the schema allows at `path` (for "did you mean"). */
function knownKeys(path: Path, raw: unknown): string[] {
  let schema: z.core.$ZodType = JobFileSchema;
  let value: unknown = raw;
  for (const seg of [...path, null]) {
    // Unwrap wrappers, and pick the union member by the discriminator in the data.
    for (;;) {
      const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
      if (def.innerType && ['optional', 'default', 'prefault', 'nullable'].includes(def.type)) schema = def.innerType as z.core.$ZodType;
      else if (def.type === 'union' && typeof def.discriminator === 'string') {
        const tag = isObj(value) ? value[def.discriminator] : undefined;
        const option = (def.options as z.core.$ZodType[]).find((o) => {
          const shape = (o._zod.def as unknown as { shape?: Record<string, z.core.$ZodType> }).shape;
          const lit = shape?.[def.discriminator as string]?._zod.def as unknown as { values?: unknown[] } | undefined;
          return lit?.values?.includes(tag);
        });
        if (!option) return [];
        schema = option;
      } else break;
    }
    const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (seg === null) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    if (def.type === 'object' && def.shape && typeof seg === 'string' && def.shape[seg]) schema = def.shape[seg];
    else if (def.type === 'array' && def.element) schema = def.element;
    else return [];
    value = isObj(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// Rules across the file

function crossChecks(src: YamlSource, raw: Record<string, unknown>): Diagnostic[] {
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
    if (target === 'remote' && dep.host === undefined) {
      out.push(
        src.diag(
          ['agents', i, 'deployment', 'target'],
          `remote agent '${name}' has no host`,
          'add deployment.host: the SSH host name or address',
        ),
      );
    }
    if (target === 'container' && dep.image === undefined) {
      out.push(
        src.diag(
          ['agents', i, 'deployment', 'target'],
          `container agent '${name}' has no image`,
          'add deployment.image: the image to run, e.g. a2a-deploy/agent:latest',
        ),
      );
    }
    if (target === 'remote') {
      for (const field of ['secrets', 'inherit_env'].filter((f) => dep[f] !== undefined)) {
        out.push(
          src.diag(
            ['agents', i, 'deployment', field],
            `${field} is not supported for remote agent '${name}' yet`,
            'the SSH runner would put values on the remote command line; run the agent on a host worker (deployment.worker) instead',
            'key',
          ),
        );
      }
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
    } else if (a.module === undefined && a.command === undefined && target !== 'container') {
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
  if (topo.type === 'mesh') for (const a of list('agents')) for (const b of list('agents')) if (a !== b) edges.push([a, b]);
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

function portConflicts(src: YamlSource, agents: unknown[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const used = new Map<string, { id: string; i: number }>();
  agents.forEach((a, i) => {
    if (!isObj(a) || !isObj(a.config) || typeof a.config.port !== 'number') return;
    const dep = isObj(a.deployment) ? a.deployment : {};
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

function topologyChecks(src: YamlSource, topo: Record<string, unknown>, ids: Set<string>, agents: unknown[]): Diagnostic[] {
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

// ---------------------------------------------------------------------------------------------

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function valueAt(raw: unknown, path: Path): unknown {
  let v: unknown = raw;
  for (const seg of path) {
    if (!isObj(v) && !Array.isArray(v)) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.line}:${d.col}:${d.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
