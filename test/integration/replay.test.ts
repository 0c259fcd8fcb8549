// Histories recorded from real runs (scripts/record-histories.js) replayed against the current
// workflow code: a change that would break running jobs (non-determinism) fails here.
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

jest.setTimeout(120_000);
const dir = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

test('recorded histories exist for deploy, restart, pause, stop, failure and cancellation', () => {
  const kinds = ['cancelled-pipeline', 'failed-deploy', 'lifecycle-simple-weather'];
  // Each kind twice: recorded by the current code, and before the one-activity-per-agent patch
  // (start and wait-healthy as two activities), which the workflow must still replay.
  expect(files.sort()).toEqual(kinds.flatMap((k) => [`${k}.before-one-activity-patch.json`, `${k}.json`]));
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    expect([f, text.includes('"deployAgent"'), text.includes('"waitHealthy"')]).toEqual([f, !f.includes('before'), f.includes('before')]);
  }
});

test('every recorded history replays against the current workflow code', async () => {
  const histories = files.map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath: require.resolve('../../src/workflows') }, histories)) results.push(r);
  expect(results.map((r) => [r.workflowId, r.error ? String(r.error) : 'ok'])).toEqual(histories.map((h) => [h.workflowId, 'ok']));
});
