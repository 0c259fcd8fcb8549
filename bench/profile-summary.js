#!/usr/bin/env node
// Sums a V8 .cpuprofile (node --cpu-prof) by function and by file, to see where a process
// spent its CPU: node bench/profile-summary.js FILE.cpuprofile [top=25]
'use strict';
const { readFileSync } = require('node:fs');

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const dt = new Map(); // node id -> µs of samples landing in it (self time)
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map();
const files = new Map();
const short = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'nm/')
    .replace(/.*\/(dist|src)\//, '$1/');
for (const [id, us] of dt) {
  const { callFrame: f } = byId.get(id);
  add(fns, `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`, us);
  add(files, short(f.url) || `(${f.functionName})`, us);
}
const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled (wall time of the main thread, idle included)`);
show('self time by function', fns);
show('self time by file', files);
