// A2A interop, end to end through the real CLI: TypeScript agents (@a2a-js/sdk) and Python agents
// on both lines of the official Python SDK (a2a-sdk 1.x and 0.3.x, pinned, installed into
// .tools/ by scripts/install-python-sdk.sh) call each other, become ready through their agent
// cards, and answer `a2a-deploy send`, plain and streamed; a Python SDK client streams from a TS
// agent. Needs `npm test`'s pretest (or scripts/install-python-sdk.sh) to have run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentProcesses, ROOT, startStack, type Stack } from './support/stack';
import type { JobStatus } from '../../src/workflows/api';

jest.setTimeout(300_000);
let stack: Stack;
const JOBS = ['python-pipeline', 'python-peers', 'wrong-card-url', 'no-health-path'];
const VENV = join(ROOT, '.tools', 'venv', 'bin', 'python');
const fixture = (f: string) => join(ROOT, 'test', 'fixtures', 'jobs', f);

beforeAll(async () => {
  for (const venv of ['venv', 'venv-a2a03']) {
    if (!existsSync(join(ROOT, '.tools', venv, 'bin', 'python')))
      throw new Error(`.tools/${venv} is missing: run scripts/install-python-sdk.sh`);
  }
  stack = await startStack(27733, 28733);
  await stack.startWorker();
});
afterAll(async () => {
  for (const job of JOBS) stack.cli(['stop', job, '--force']);
  await stack.close();
  for (const job of JOBS) expect(agentProcesses(job)).toEqual([]);
});

describe('the mixed example: TS -> Python (a2a-sdk 1.x) -> TS', () => {
  beforeAll(() => {
    const started = stack.cli(['start', join(ROOT, 'jobs', 'examples', 'python-pipeline.yaml')]);
    expect(started.stderr + started.stdout).toContain('Job python-pipeline is running');
    expect(started.code).toBe(0);
  });

  test('plan shows how each agent is judged ready', () => {
    const plan = stack.cli(['plan', join(ROOT, 'jobs', 'examples', 'python-pipeline.yaml')]);
    expect(plan.stdout).toMatch(/READY WHEN/);
    expect(plan.stdout).toMatch(/reverse +1 +localhost +http:\/\/127\.0\.0\.1:19761 +a2a card +output/);
  });

  test('send crosses every agent', () => {
    const sent = stack.cli(['send', 'python-pipeline', '  one   two three ']);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toBe('ingest(trim) -> reverse(python:reverse-words) -> output(count): three two one [3 words]\n');
    expect(sent.code).toBe(0);
  });

  test('send --stream prints the status update while the entry agent waits, then the reply', () => {
    const sent = stack.cli(['send', 'python-pipeline', 'a b', '--stream']);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toBe(
      '… ingest: asking reverse\ningest(trim) -> reverse(python:reverse-words) -> output(count): b a [2 words]\n(task completed)\n',
    );
    const json = JSON.parse(stack.cli(['send', 'python-pipeline', 'a b', '--stream', '--json']).stdout);
    expect(json.reply.map((e: { payload: { $case: string } }) => e.payload.$case)).toEqual([
      'task',
      'statusUpdate',
      'artifactUpdate',
      'statusUpdate',
    ]);
    expect(json.state).toBe('completed');
  });

  test('a Python a2a-sdk client streams from the TS entry agent and receives the updates', () => {
    const status = JSON.parse(stack.cli(['status', 'python-pipeline', '--json']).stdout) as JobStatus;
    const r = spawnSync(VENV, [join(ROOT, 'test', 'fixtures', 'agents', 'stream_client.py'), status.agents.ingest.url, 'x  y'], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.stderr).toBe('');
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; state: string | null; text: string });
    expect(events).toEqual([
      { event: 'task', state: 'TASK_STATE_WORKING', text: '' },
      { event: 'status_update', state: 'TASK_STATE_WORKING', text: 'ingest: asking reverse' },
      { event: 'artifact_update', state: null, text: 'ingest(trim) -> reverse(python:reverse-words) -> output(count): y x [2 words]' },
      { event: 'status_update', state: 'TASK_STATE_COMPLETED', text: '' },
    ]);
  });

  test('stops cleanly', () => {
    expect(stack.cli(['stop', 'python-pipeline']).code).toBe(0);
    expect(agentProcesses('python-pipeline')).toEqual([]);
  });
});

describe('send reaches a2a-sdk 0.3 and 1.x agents and a TS agent, plain and streamed', () => {
  beforeAll(() => {
    // Neither Python agent serves /health: both are ready through their cards.
    const started = stack.cli(['start', fixture('python-peers.yaml')]);
    expect(started.stderr + started.stdout).toContain('Job python-peers is running');
    expect(started.code).toBe(0);
  });
  afterAll(() => {
    stack.cli(['stop', 'python-peers']);
  });

  test('a2a-sdk 0.3 (JSON-RPC, v0.3 card)', () => {
    for (const stream of [[], ['--stream']]) {
      const sent = stack.cli(['send', 'python-peers', 'hello', '--agent', 'legacy', ...stream]);
      expect(sent.stdout).toBe('legacy(a2a-sdk 0.3): HELLO\n');
      expect(sent.code).toBe(0);
      expect(sent.stderr).toBe(
        stream.length ? 'note: legacy does not stream (its card says streaming: false); sent without streaming\n' : '',
      );
    }
  });

  test('a2a-sdk 1.x over HTTP+JSON (its card prefers it)', () => {
    for (const stream of [[], ['--stream']]) {
      const sent = stack.cli(['send', 'python-peers', 'one two', '--agent', 'modern', ...stream]);
      expect(sent.stdout).toBe('modern(python:reverse-words): two one\n');
      expect(sent.code).toBe(0);
    }
  });

  test('the TS hub, which calls both Python agents', () => {
    const plain = stack.cli(['send', 'python-peers', 'hi there']);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toBe(
      'hub: combined answers from legacy, modern\n  legacy(a2a-sdk 0.3): HI THERE\n  modern(python:reverse-words): there hi\n',
    );
    const streamed = stack.cli(['send', 'python-peers', 'hi', '--stream']);
    expect(streamed.stderr).toBe('');
    expect(streamed.stdout).toBe(
      '… hub: asking legacy, modern\nhub: combined answers from legacy, modern\n  legacy(a2a-sdk 0.3): HI\n  modern(python:reverse-words): hi\n(task completed)\n',
    );
  });
});

test('a card that advertises another URL fails readiness at once, naming both URLs', () => {
  const t0 = Date.now();
  const r = stack.cli(['start', fixture('wrong-card-url.yaml')]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('advertises http://127.0.0.1:19779/');
  expect(r.stderr).toContain("the agent's URL is http://127.0.0.1:19775");
  expect(r.stderr).toContain('AGENT_URL');
  // At once: not after the 90 s readiness timeout.
  expect(Date.now() - t0).toBeLessThan(80_000);
  expect(agentProcesses('wrong-card-url')).toEqual([]);
});

test('a readiness timeout says what the last probe saw, with a hint', () => {
  const r = stack.cli(['start', fixture('no-health-path.yaml')]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('the last probe saw HTTP 404 at http://127.0.0.1:19776/ready');
  expect(r.stderr).toContain('set health.path to a path it serves');
});
