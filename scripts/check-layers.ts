// The one direction of the code's dependencies, checked in `npm run lint`: every module may import
// only its own layer and the layers below it, and no chain of imports may lead back to where it
// started. The layers are written down here once, bottom first; a file belongs to the layer with
// the longest path that contains it, and a source file in no layer is itself a finding (so a new
// folder has to be placed). Type-only imports count too: a type a lower layer needs from a higher
// one is a sign it sits in the wrong place. Run: node -r ./bench/register.js scripts/check-layers.ts
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface Layer {
  name: string;
  /** folders or files, relative to the repository root, with '/' */
  paths: string[];
}

export const LAYERS: Layer[] = [
  { name: 'common', paths: ['src/common'] }, // errors and small pieces every layer may use
  { name: 'config', paths: ['src/config'] }, // names and paths of this installation
  { name: 'job-file', paths: ['src/job'] }, // job files to plans, pure
  { name: 'process', paths: ['src/process'] }, // the local process table
  { name: 'a2a', paths: ['src/a2a'] }, // the A2A client
  // The instruments the runners feed; the /metrics server and collector sit higher, in 'metrics'.
  { name: 'instruments', paths: ['src/metrics/registry.ts', 'src/metrics/instruments.ts'] },
  // The contract between workflow code and the runners (types, and the readiness kinds they name).
  { name: 'activity-types', paths: ['src/activities/types.ts', 'src/activities/readiness.ts'] },
  { name: 'workflows', paths: ['src/workflows'] },
  { name: 'execution-state', paths: ['src/jobs'] },
  { name: 'activities', paths: ['src/activities'] },
  { name: 'temporal', paths: ['src/temporal'] },
  { name: 'metrics', paths: ['src/metrics'] },
  { name: 'workers', paths: ['src/workers'] },
  { name: 'api', paths: ['src/api'] },
  // The shipped example agents: programs on the A2A client, which nothing in the deployer uses.
  { name: 'agents', paths: ['src/agents'] },
  { name: 'library', paths: ['src/index.ts'] },
  { name: 'cli', paths: ['src/cli'] },
  // Harnesses: may import anything above, but still without cycles.
  { name: 'harness', paths: ['test', 'bench', 'scripts'] },
];

/** The folders whose .ts and .js files are checked. */
export const ROOTS = ['src', 'bench', 'test', 'scripts'];
const SKIP = new Set(['node_modules', 'dist', 'results', 'fixtures']);

export interface Finding {
  file: string;
  line: number;
  message: string;
}

export interface CheckOptions {
  root: string;
  layers?: Layer[];
  roots?: string[];
  /** reads a file (relative path) — tests use it to change a file without touching the tree */
  read?: (file: string) => string;
}

function listFiles(root: string, dir: string, out: string[]): void {
  const abs = join(root, dir);
  if (!existsSync(abs)) return;
  for (const name of readdirSync(abs).sort()) {
    if (SKIP.has(name)) continue;
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) listFiles(root, rel, out);
    else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
}

const within = (file: string, path: string) => file === path || file.startsWith(`${path}/`);

/** The index of the layer a file belongs to (the longest matching path), or -1. */
export function layerOf(file: string, layers: Layer[]): number {
  let best = -1;
  let bestLength = -1;
  layers.forEach((layer, i) => {
    for (const p of layer.paths)
      if (within(file, p) && p.length > bestLength) {
        best = i;
        bestLength = p.length;
      }
  });
  return best;
}

/** The repository file a relative specifier names, as node and TypeScript would find it. */
function resolveImport(root: string, from: string, spec: string, known: Set<string>): string | undefined {
  const base = relative(root, resolve(root, dirname(from), spec))
    .split(sep)
    .join('/');
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`])
    if (known.has(candidate)) return candidate;
  return undefined;
}

interface Edge {
  to: string;
  line: number;
}

function importsOf(text: string, file: string): { spec: string; line: number }[] {
  const info = ts.preProcessFile(text, true, true);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
  return info.importedFiles.map((f) => ({ spec: f.fileName, line: source.getLineAndCharacterOfPosition(f.pos).line + 1 }));
}

/** Strongly connected components of more than one file (or a file importing itself): the cycles. */
function cycles(graph: Map<string, Edge[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!indices.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, indices.get(to)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).some((e) => e.to === v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) visit(v);
  return found;
}

/** One path around a cycle, from its first file back to it, for the message. */
function cyclePath(graph: Map<string, Edge[]>, members: string[]): string[] {
  const inCycle = new Set(members);
  const start = members[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const { to } of graph.get(v) ?? []) {
      if (!inCycle.has(to)) continue;
      if (to === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, v);
        queue.push(to);
      }
    }
  }
  return [...members, start];
}

export function checkLayers(o: CheckOptions): Finding[] {
  const layers = o.layers ?? LAYERS;
  const read = o.read ?? ((file: string) => readFileSync(join(o.root, file), 'utf8'));
  const files: string[] = [];
  for (const r of o.roots ?? ROOTS) listFiles(o.root, r, files);
  const known = new Set(files);
  const findings: Finding[] = [];
  const graph = new Map<string, Edge[]>();
  for (const file of files) {
    const own = layerOf(file, layers);
    if (own < 0) findings.push({ file, line: 1, message: 'is in no layer: add its folder to LAYERS in scripts/check-layers.ts' });
    const edges: Edge[] = [];
    for (const { spec, line } of importsOf(read(file), file)) {
      if (!spec.startsWith('.')) continue; // a package
      const to = resolveImport(o.root, file, spec, known);
      if (!to) continue; // not a checked file (e.g. package.json)
      edges.push({ to, line });
      const theirs = layerOf(to, layers);
      if (own >= 0 && theirs > own)
        findings.push({
          file,
          line,
          message: `imports ${to}: layer '${layers[own].name}' may not import the higher layer '${layers[theirs].name}'`,
        });
    }
    graph.set(file, edges);
  }
  for (const members of cycles(graph)) {
    const path = cyclePath(graph, members);
    const line = graph.get(path[0])!.find((e) => e.to === path[1])?.line ?? 1;
    findings.push({ file: path[0], line, message: `is in an import cycle: ${path.join(' -> ')}` });
  }
  return findings;
}

if (require.main === module) {
  const findings = checkLayers({ root: resolve(__dirname, '..') });
  for (const f of findings) process.stderr.write(`${f.file}:${f.line}: ${f.message}\n`);
  if (findings.length) {
    process.stderr.write(`check-layers: ${findings.length} problem(s); the layer order is in scripts/check-layers.ts\n`);
    process.exit(1);
  }
}
