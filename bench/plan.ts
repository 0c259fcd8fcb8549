// Validate + plan a generated 2,000-agent DAG, beside a baseline measured in the same run:
// a bare YAML parse of the same text (the floor any validator pays).
// Usage: node -r ./bench/register.js bench/plan.ts [agents=2000] [runs=7]
import { parse } from 'yaml';
import { resolvePlan } from '../src/job/plan';
import { loadJobText } from '../src/job/validate';
import { stats, type Stats } from './lib/stats';

const n = Number(process.argv[2] ?? 2000);
const runs = Number(process.argv[3] ?? 7);

function generate(n: number): string {
  // 20 levels; each agent calls up to 3 agents of the next level, so the DAG is wide and deep.
  const perLevel = Math.ceil(n / 20);
  const id = (i: number) => `agent-${i}`;
  const lines = ['job:', '  name: bench-dag', 'agents:'];
  for (let i = 0; i < n; i++)
    lines.push(`  - id: ${id(i)}`, '    module: a2a-deploy/agents/coordinator', `    config: { port: ${10000 + i} }`);
  lines.push('topology:', '  type: dag', '  connections:');
  for (let i = 0; i + perLevel < n; i++) {
    for (let k = 0; k < 3; k++) {
      const to = (Math.floor(i / perLevel) + 1) * perLevel + ((i + k * 7) % perLevel);
      if (to < n) lines.push(`    - { from: ${id(i)}, to: ${id(to)} }`);
    }
  }
  return lines.join('\n') + '\n';
}

function time(fn: () => void): Stats {
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(out);
}

const text = generate(n);
let stages = 0;
const baseline = time(() => parse(text));
const ours = time(() => {
  const loaded = loadJobText('bench.yaml', text);
  if (!loaded.job)
    throw new Error(
      loaded.diagnostics
        .slice(0, 3)
        .map((d) => d.message)
        .join('; '),
    );
  stages = resolvePlan(loaded.job, 'bench.yaml').stages.length;
});
const fmt = (t: Stats) => `${t.median.toFixed(1).padStart(8)} ms  (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)})`;
const edges = text.split('\n').filter((l) => l.includes('from:')).length;
console.log(
  `validate + plan: ${n} agents, ${edges} edges, ${stages} stages, ${(text.length / 1024).toFixed(0)} KiB of YAML, median of ${runs}`,
);
console.log(`  baseline  yaml.parse only        ${fmt(baseline)}`);
console.log(`  a2a-deploy validate + plan       ${fmt(ours)}`);
console.log(`  overhead above the bare parse    ${(ours.median - baseline.median).toFixed(1).padStart(8)} ms`);
