// Hostile arguments to the TypeScript API (issue 23, item 5): every one is an InvalidInputError
// that says what it got, before anything connects; a plan the API did not make is checked as
// strictly as a job file, and the activities refuse bad names again.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError, JobManager } from '../../src';
import { createActivities } from '../../src/activities';
import { agentDir, jobDir } from '../../src/config/paths';
import type { DeployPlan } from '../../src/job/plan';
import { planProblems } from '../../src/job/plan-check';

// Never reaches a server: every call here must fail before connecting.
const jm = new JobManager({ env: {}, address: '127.0.0.1:9' });
const job = {
  job: { name: 'inline' },
  agents: [{ id: 'a0', module: 'a2a-deploy/agents/weather', config: { port: 19640 } }],
  topology: { type: 'mesh', agents: ['a0'] },
};
const plan = (): DeployPlan => jm.plan({ job });

async function refusal(call: () => unknown): Promise<InvalidInputError> {
  let err: unknown;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidInputError);
  return err as InvalidInputError;
}

test('a plan with a path or a name outside the rule is refused by start, naming it', async () => {
  expect((await refusal(() => jm.start({ ...plan(), job: '../../../escape' }))).message).toContain('"../../../escape" is not a name');
  expect((await refusal(() => jm.start({ ...plan(), job: 'Live Job' }))).message).toContain('"Live Job" is not a name');
  const p = plan();
  const renamed = { ...p, agents: { '../x': { ...p.agents.a0, id: '../x' } }, stages: [['../x']], entry: '../x' };
  expect((await refusal(() => jm.start(renamed))).message).toContain('"../x" is not a name');
  expect((await refusal(() => jm.start({ ...p, entry: 'nobody' }))).message).toContain("entry: unknown agent 'nobody'");
  expect((await refusal(() => jm.start({ ...p, topology: 'ring' as never }))).message).toContain('topology "ring" is not one of');
});

test('every example job plans into a plan the check accepts', () => {
  const dir = join(__dirname, '..', '..', 'jobs', 'examples');
  for (const f of readdirSync(dir))
    expect([
      f,
      planProblems(jm.plan(join(dir, f), { env: { ...process.env, GITHUB_TOKEN: 'x', A2A_EXAMPLE_WORKDIR: '/srv/a2a' } })),
    ]).toEqual([f, []]);
});

test('bad arguments are InvalidInputErrors, not TypeErrors or RangeErrors', async () => {
  const circular: Record<string, unknown> = { name: 'x' };
  circular.self = circular;
  const deep: Record<string, unknown> = {};
  let at = deep;
  for (let i = 0; i < 50_000; i++) at = at.a = {};
  const cases: [string, () => unknown, string][] = [
    ['status(123)', () => jm.status(123 as never), 'number 123 is not a job name'],
    ['status({})', () => jm.status({} as never), 'an object is not a job name'],
    ['status(null)', () => jm.status(null as never), 'null is not a job name'],
    ['validate(null)', () => jm.validate(null as never), 'a job must be an object, not null'],
    ['circular', () => jm.validate({ job: { job: circular } }), 'circular'],
    ['deep', () => jm.validate({ job: deep }), 'nested more than 64 levels'],
    ['start(null)', () => jm.start(null as never), 'a job must be an object, not null'],
    ['list(null)', () => jm.list(null as never), 'a list filter must be an object, not null'],
    ['list({namePrefix: 5})', () => jm.list({ namePrefix: 5 } as never), 'namePrefix must be a string, not number 5'],
    ['prune()', () => (jm.prune as (o?: unknown) => unknown)(), 'olderThan nothing is not a duration'],
    ['prune(Infinity)', () => jm.prune({ olderThan: Infinity }), 'olderThan number Infinity is not a duration'],
    ['prune(99999999999d)', () => jm.prune({ olderThan: '99999999999d' }), 'more than a century'],
    ['send(-5)', () => jm.send('j', 'hi', { timeoutMs: -5 }), 'timeoutMs number -5 is not a timeout'],
    ['send(Infinity)', () => jm.send('j', 'hi', { timeoutMs: Infinity }), 'timeoutMs number Infinity is not a timeout'],
    ["restart('job', 'agent')", () => jm.restart('job', 'agent' as never), "agents must be a list of agent names, not 'agent'"],
  ];
  for (const [what, call, message] of cases)
    expect([what, (await refusal(call)).message]).toEqual([what, expect.stringContaining(message)]);
});

test('the activities refuse a job or agent name that is not one, and no folder outside the home is named', async () => {
  const acts = createActivities({ home: '/tmp/a2a-home', serverMarker: 'x', docker: {} as never, sshPool: {} as never });
  const agent = plan().agents.a0;
  for (const [j, id] of [
    ['../../../escape', 'a0'],
    ['Live Job', 'a0'],
    ['ok', '../a0'],
  ]) {
    await expect((async () => acts.startAgent({ job: j, agent: { ...agent, id } }))()).rejects.toMatchObject({
      type: 'AgentSpecError',
      nonRetryable: true,
    });
    await expect((async () => acts.readLogs({ job: j, agent: { ...agent, id }, tail: 1 }))()).rejects.toMatchObject({
      type: 'AgentSpecError',
    });
  }
  expect(() => jobDir('../../../escape', '/tmp/h')).toThrow('is not a job or agent name');
  expect(() => agentDir('ok', '..', '/tmp/h')).toThrow('is not a job or agent name');
  expect(agentDir('ok', 'a0', '/tmp/h')).toBe('/tmp/h/jobs/ok/a0');
});
