// a2a-deploy's container target vs docker-compose: same image, same topology.
import { deployAndTeardown } from './a2a';
import { ensureWorker, type BenchStack } from './bench-stack';
import { composeDeployAndTeardown, dockerReady } from './compose';
import { f0, firstLines, say } from './format';
import { loadPlan } from './plan-file';
import { killMarked } from './procfs';
import type { ContainerScenario, ContainersResult } from './results';
import { CONTAINER_SCENARIOS, jobFiles, SCENARIOS, type RunContext } from './scenarios';
import { sleep, stats } from './stats';

export async function runContainers(ctx: RunContext, stack: BenchStack): Promise<ContainersResult> {
  say('\n## containers: a2a-deploy container target vs docker-compose');
  const docker = dockerReady();
  if (!docker.ok) {
    say(`  skipped: ${docker.note}`);
    return { skipped: docker.note };
  }
  say(`  ${docker.note}`);
  const out: ContainersResult & { scenarios: ContainerScenario[] } = { note: docker.note, scenarios: [] };
  for (const name of CONTAINER_SCENARIOS) {
    const sc = SCENARIOS.find((s) => s.name === name)!;
    const n = ctx.opts.reps ?? (ctx.opts.quick ? 1 : 2);
    const key = `c${name.replace(/[^a-z0-9]+/g, '')}`;
    const res: ContainerScenario = { name: `${name} (containers)`, agents: sc.shape().ids.length, levels: sc.shape().levels, runs: [] };
    try {
      for (let rep = 1; rep <= n; rep++) {
        const composePlan = loadPlan(jobFiles(ctx, sc, `k${key}-r${rep}`)[0]);
        const plan = loadPlan(jobFiles(ctx, sc, `${key}-r${rep}`, { target: 'container', image: docker.image })[0]);
        const c = await composeDeployAndTeardown(docker, composePlan, ctx.work);
        await sleep(500);
        const ours = await deployAndTeardown(stack, [plan]);
        res.runs.push({ compose: c, a2a: { deployMs: ours.deployMs, teardownMs: ours.teardownMs } });
        say(
          `  ${name} run ${rep}: docker-compose ${f0(c.deployMs)} ms + teardown ${f0(c.teardownMs)} ms | a2a-deploy ${f0(ours.deployMs)} ms + teardown ${f0(ours.teardownMs)} ms`,
        );
        await sleep(500);
      }
    } catch (err) {
      res.error = firstLines(err, 20);
      say(`  FAILED: ${res.error}`);
      killMarked(ctx.prefix);
      await ensureWorker(stack, say);
    }
    if (res.runs.length) {
      res.compose = { deploy: stats(res.runs.map((r) => r.compose.deployMs)), teardown: stats(res.runs.map((r) => r.compose.teardownMs)) };
      res.a2a = { deploy: stats(res.runs.map((r) => r.a2a.deployMs)), teardown: stats(res.runs.map((r) => r.a2a.teardownMs)) };
    }
    out.scenarios.push(res);
  }
  return out;
}
