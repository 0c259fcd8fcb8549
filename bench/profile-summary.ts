// Sums a V8 .cpuprofile (node --cpu-prof) by function and by file, to see where a process
// spent its CPU: node -r ./bench/register.js bench/profile-summary.ts FILE.cpuprofile [top=25]
// A worker's profile, for instance: `node --cpu-prof --cpu-prof-dir=/tmp/prof bin/a2a-deploy.js worker`
// (node writes the profile when the worker exits).
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const dt = new Map<number, number>(); // node id -> µs of samples landing in it (self time)
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map<string, number>();
const files = new Map<string, number>();
const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'nm/')
    .replace(/.*\/(dist|src)\//, '$1/');
for (const [id, us] of dt) {
  const { callFrame: f } = byId.get(id)!;
  add(fns, `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`, us);
  add(files, short(f.url) || `(${f.functionName})`, us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled (wall time of the main thread, idle included)`);
show('self time by function', fns);
show('self time by file', files);
