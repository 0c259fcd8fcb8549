// The benchmark's pure parts: the shapes it deploys are what the planner makes of them, and
// its judgement of a recorded run matches what that run recorded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, UsageError } from '../../bench/lib/args';
import { evaluate } from '../../bench/lib/evaluate';
import { loadPlan } from '../../bench/lib/plan-file';
import type { Results } from '../../bench/lib/results';
import { jobFiles, SCENARIOS } from '../../bench/lib/scenarios';

describe('benchmark scenarios', () => {
  let work: string;
  beforeAll(() => (work = mkdtempSync(join(tmpdir(), 'a2a-bench-unit-'))));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test.each(SCENARIOS.filter((s) => s.name !== 'job-1000').map((s) => [s.name, s]))(
    '%s plans into the levels and agents the benchmark reports',
    (_name, sc) => {
      const ctx = { opts: parseArgs([]), prefix: 'bench-unit-', work };
      const plans = jobFiles(ctx, sc, 'unit').map(loadPlan);
      const shape = sc.shape();
      expect(plans).toHaveLength(sc.jobs ?? 1);
      const ports = new Set<number>();
      for (const plan of plans) {
        expect(plan.stages).toHaveLength(shape.levels);
        expect(Object.keys(plan.agents).sort()).toEqual([...shape.ids].sort());
        for (const a of Object.values(plan.agents)) ports.add(a.port);
      }
      // Jobs deployed at once must not share a port.
      expect(ports.size).toBe(shape.ids.length * plans.length);
    },
  );
});

describe('benchmark judgement', () => {
  test('a recorded run is judged as it recorded itself', () => {
    const recorded = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results', 'latest.json'), 'utf8')) as Results;
    const again = structuredClone(recorded);
    delete again.targetsEvaluated;
    evaluate(again);
    expect(again.targetsEvaluated).toEqual(recorded.targetsEvaluated);
    expect(again.perLevelMs).toBeCloseTo(recorded.perLevelMs!, 6);
  });

  test('bad flags are refused with the list of scenarios', () => {
    expect(() => parseArgs(['--only', 'pipeline-5,nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--only', 'nope'])).toThrow(/one of pipeline-5, dag-20/);
    expect(() => parseArgs(['--reps', '0'])).toThrow(/whole number/);
    expect(parseArgs(['--quick', '--only=dag-20,idle'])).toMatchObject({ quick: true, only: ['dag-20', 'idle'] });
  });
});
