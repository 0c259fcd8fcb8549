// The topology as a Mermaid graph (stages as subgraphs, edges as calls), for a person to look at.
import type { DeployPlan } from './plan';

export function planToMermaid(plan: DeployPlan): string {
  const lines = ['graph LR'];
  const node = (id: string) => `a_${id.replace(/-/g, '_')}`;
  plan.stages.forEach((stage, i) => {
    lines.push(`  subgraph stage${i}["stage ${i}"]`);
    for (const id of stage) {
      const a = plan.agents[id];
      lines.push(`    ${node(id)}["${id}<br/>${a.target} :${a.port}"]`);
    }
    lines.push('  end');
  });
  const done = new Set<string>();
  for (const a of Object.values(plan.agents)) {
    for (const to of a.connectsTo) {
      if (plan.topology === 'mesh') {
        // Mesh members call each other: one two-way edge per pair.
        const key = [a.id, to].sort().join(' ');
        if (done.has(key)) continue;
        done.add(key);
        lines.push(`  ${node(a.id)} <--> ${node(to)}`);
      } else lines.push(`  ${node(a.id)} -->|calls| ${node(to)}`);
    }
  }
  return lines.join('\n');
}
