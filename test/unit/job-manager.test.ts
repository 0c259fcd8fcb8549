// The TypeScript API's pure parts: validation and plans of files and parsed jobs with located
// errors, list filters turned into visibility queries (and refused outside their lists), the
// options over the environment, retention settings, and the CLI's exit code for each error class.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  A2ADeployError,
  InvalidInputError,
  JobFailedError,
  JobManager,
  NoWorkerError,
  NotFoundError,
  RefusedError,
  TemporalUnreachableError,
} from '../../src';
import { listQuery } from '../../src/api/list';
import { resolveConfig } from '../../src/api/options';
import { retentionLine } from '../../src/cli/commands/server';
import { exitCodeFor } from '../../src/cli/exit-codes';
import { embeddedRetentionMs } from '../../src/temporal/dev-server';

const job = {
  job: { name: 'inline' },
  agents: [
    { id: 'a', module: 'a2a-deploy/agents/weather', config: { port: 19540 } },
    { id: 'b', module: 'a2a-deploy/agents/maps', config: { port: 19541 } },
  ],
  topology: { type: 'pipeline', stages: ['a', 'b'] },
};
// Never reaches a server: an address nothing listens on, and every call here fails before connecting.
const jm = new JobManager({ env: {}, address: '127.0.0.1:9' });

test('a parsed job validates and plans like a file', () => {
  const v = jm.validate({ job, sourceFile: 'inline.yaml' });
  expect(v).toMatchObject({ ok: true, file: 'inline.yaml' });
  const plan = jm.plan({ job });
  expect(plan.job).toBe('inline');
  expect(plan.stages).toEqual([['b'], ['a']]);
  expect(plan.entry).toBe('a');
});

test('a bad job: validate reports, plan throws InvalidInputError with every location', () => {
  const bad = { job: { ...job, agents: [{ ...job.agents[0], config: { port: 70000 } }, job.agents[1]] } };
  expect(jm.validate(bad).ok).toBe(false);
  let err: unknown;
  try {
    jm.plan(bad);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidInputError);
  const e = err as InvalidInputError;
  expect(e.message).toBe('<job>: 1 error');
  expect(e.locations).toEqual([
    expect.objectContaining({ file: '<job>', line: expect.any(Number), col: expect.any(Number), severity: 'error' }),
  ]);
  expect(e.locations[0].message).toContain('port must be between 1 and 65535');
});

test('a bad env file: InvalidInputError locating each line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'a2a-jm-'));
  writeFileSync(join(dir, 'vars.env'), 'OK=1\nnot a pair\n');
  expect(() => jm.plan({ job }, { envFiles: [join(dir, 'vars.env')] })).toThrow(
    expect.objectContaining({
      message: '1 error in env files',
      locations: [expect.objectContaining({ line: 2, message: 'expected KEY=VALUE' })],
    }),
  );
});

test('list filters become one visibility query; values outside their lists are refused', () => {
  expect(listQuery({})).toBe(`WorkflowType = 'deployJob' AND ExecutionStatus = 'Running'`);
  expect(listQuery({ all: true, phase: 'degraded', topology: 'dag', paused: true, namePrefix: 'web-' })).toBe(
    `WorkflowType = 'deployJob' AND A2APhase = 'degraded' AND A2ATopology = 'dag' AND A2APaused = true AND A2AJobName STARTS_WITH 'web-'`,
  );
  expect(() => listQuery({ topology: "dag' OR 1=1" })).toThrow(InvalidInputError);
  expect(() => listQuery({ priority: 'urgent' })).toThrow('priority must be one of: low, normal, high, critical');
  expect(() => listQuery({ namePrefix: "x' OR" })).toThrow(InvalidInputError);
});

test('options override the environment; the environment alone means the embedded server', () => {
  expect(resolveConfig({ env: {} })).toMatchObject({ embedded: true, address: '127.0.0.1:7233', namespace: 'default' });
  const cfg = resolveConfig({
    env: { TEMPORAL_ADDRESS: 'a:1', TEMPORAL_CONFIG_FILE: '/nonexistent' },
    address: 'b:2',
    namespace: 'ns',
    home: 'rel',
  });
  expect(cfg).toMatchObject({ embedded: false, address: 'b:2', namespace: 'ns', uiUrl: 'http://b:8233' });
  expect(cfg.home).toBe(join(process.cwd(), 'rel'));
  expect(new JobManager({ env: {}, address: 'c:3' }).webUiUrl('j')).toBe('http://c:8233/namespaces/default/workflows/a2a-job-j');
});

test('job names are checked before any query', async () => {
  await expect(jm.status("x' OR 1=1")).rejects.toThrow(InvalidInputError);
  await expect(jm.prune({ olderThan: 'soon' })).rejects.toThrow("olderThan 'soon' is not a duration");
});

test('retention: A2A_DEPLOY_RETENTION, 7d by default, at least a day', () => {
  expect(embeddedRetentionMs({})).toBe(7 * 86_400_000);
  expect(embeddedRetentionMs({ A2A_DEPLOY_RETENTION: '36h' })).toBe(36 * 3_600_000);
  expect(() => embeddedRetentionMs({ A2A_DEPLOY_RETENTION: '2h' })).toThrow(InvalidInputError);
  expect(() => embeddedRetentionMs({ A2A_DEPLOY_RETENTION: 'forever' })).toThrow('is not a duration of at least 1d');
  expect(retentionLine(7 * 86_400_000)).toMatch(/^Finished jobs are kept 7d \(A2A_DEPLOY_RETENTION\)/);
});

test('each error class has its exit code', () => {
  expect(exitCodeFor(new InvalidInputError('x'))).toBe(2);
  expect(exitCodeFor(new NotFoundError('x', undefined, 'j'))).toBe(2);
  expect(exitCodeFor(new RefusedError('x', 'why'))).toBe(2);
  expect(exitCodeFor(new JobFailedError('x', 'j'))).toBe(1);
  expect(exitCodeFor(new TemporalUnreachableError('x', 'h'))).toBe(3);
  expect(exitCodeFor(new NoWorkerError('x', undefined, 'j'))).toBe(4);
  expect(exitCodeFor(new Error('x'))).toBeUndefined();
  expect(new RefusedError('x', 'why').name).toBe('RefusedError');
  // One base for every error thrown on purpose, the Temporal layer's too (README "TypeScript API").
  expect(new TemporalUnreachableError('x', 'h')).toBeInstanceOf(A2ADeployError);
  expect(new TemporalUnreachableError('x', 'h').name).toBe('TemporalUnreachableError');
});
