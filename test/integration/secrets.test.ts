// Secrets stay secret, on a real dev server, worker and agent processes: an agent gets its
// file: and env: secrets, and nothing of them reaches Temporal's history (raw, or with every
// payload decoded), `status` or `plan`; with encryption on, the raw history holds no
// environment value and no agent URL in clear; the agent's environment holds nothing of the
// worker's but what is allowed; what a crashing agent prints is scrubbed; a worker without the
// key ends a job it never ran, naming the key id, and `start` and `status` say so.
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyLine } from '../../src/temporal/codec-keys';
import type { JobStatus } from '../../src/workflows/api';
import { historyOf as scannedHistory } from './support/history';
import { agentProcesses, ROOT, startStack, type Stack } from './support/stack';

jest.setTimeout(180_000);
let stack: Stack;
let client: Client;
const PORT = 27833;
const UI = 28833;
const AGENT_PORT = 27851;
const FILE_SECRET = 'file-secret-5f0c1d9e';
const ENV_SECRET = 'env-secret-7a3be210';
const PLAIN = 'plain-setting-94d1';
const WORKER_ONLY = 'worker-only-c81f';
let keyFile: string;
const JOBS = ['secrets-it', 'secrets-crash', 'secrets-missing', 'secrets-wrong-key'];
let jobFile: string;

beforeAll(async () => {
  stack = await startStack(PORT, UI);
  keyFile = join(stack.home, 'it.keys');
  writeFileSync(keyFile, newKeyLine(), { mode: 0o600 });
  writeFileSync(join(stack.home, 'api.key'), `${FILE_SECRET}\n`);
  // The worker's environment: the env: secret, a variable an agent must not see, and the key.
  Object.assign(stack.env, { A2A_DEPLOY_KEY_FILE: keyFile, IT_DB_PASSWORD: ENV_SECRET, IT_WORKER_ONLY: WORKER_ONLY, npm_config_it: 'x' });
  await stack.startWorker();
  client = new Client({ connection: await Connection.connect({ address: stack.address }) });
  jobFile = join(stack.home, 'secrets.yaml');
  writeFileSync(
    jobFile,
    `job: { name: secrets-it }
agents:
  - id: keeper
    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}
    config: { port: ${AGENT_PORT} }
    deployment:
      environment: { PLAIN_SETTING: "\${IT_PLAIN}" }
      secrets: { API_KEY: "file:./api.key", DB_PASSWORD: "env:IT_DB_PASSWORD" }
topology: { type: mesh, agents: [keeper] }
`,
  );
});
afterAll(async () => {
  for (const job of JOBS) stack.cli(['stop', job, '--force'], { timeoutMs: 30_000 });
  for (const job of JOBS) for (const pid of agentProcesses(job)) process.kill(-pid, 'SIGKILL');
  await client.connection.close();
  await stack.close();
});

const status = (job: string): JobStatus => JSON.parse(stack.cli(['status', job, '--json']).stdout);

const historyOf = (job: string) => scannedHistory(client, job, keyFile);

test('an agent gets its secrets; history, status and plan hold neither value; raw history holds nothing in clear', async () => {
  const started = stack.cli(['start', jobFile], { env: { IT_PLAIN: PLAIN } });
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  const s = status('secrets-it');
  expect(s.phase).toBe('running');
  const pid = s.agents.keeper.pid!;

  const environ = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  expect(environ.API_KEY).toBe(FILE_SECRET);
  expect(environ.DB_PASSWORD).toBe(ENV_SECRET);
  expect(environ.PLAIN_SETTING).toBe(PLAIN);
  // Nothing of the worker's environment but the allowed names.
  const allowed =
    /^(PATH|HOME|USER|LANG|LC_\w+|TZ|TMPDIR|AGENT_\w+|CONNECTED_AGENTS|A2A_PEERS|A2A_JOB|A2A_DEPLOY_(AGENT|SPEC|SERVER)|PLAIN_SETTING|API_KEY|DB_PASSWORD)$/;
  expect(Object.keys(environ).filter((k) => !allowed.test(k))).toEqual([]);
  expect(Object.values(environ)).not.toContain(WORKER_ONLY);

  const { raw, decoded } = await historyOf('secrets-it');
  const outputs = [raw, decoded, stack.cli(['status', 'secrets-it', '--json']).stdout, stack.cli(['plan', jobFile, '--json']).stdout];
  for (const text of outputs) {
    expect(text).not.toContain(FILE_SECRET);
    expect(text).not.toContain(ENV_SECRET);
  }
  // The decoded history is the plan, references and all: the scan reads what it should.
  expect(decoded).toContain(PLAIN);
  expect(decoded).toContain(`http://127.0.0.1:${AGENT_PORT}`);
  expect(decoded).toContain('env:IT_DB_PASSWORD');
  // Encrypted: neither an environment value nor an agent URL is readable in the raw history.
  expect(raw).not.toContain(PLAIN);
  expect(raw).not.toContain(`127.0.0.1:${AGENT_PORT}`);
  expect(raw).not.toContain('IT_DB_PASSWORD');
});

test('the codec server decodes what the worker encoded, answers the Web UI preflight, refuses a wrong token', async () => {
  const CODEC_PORT = 27861;
  const server = spawn(process.execPath, [join(ROOT, 'bin', 'a2a-deploy.js'), 'codec-server', '--port', String(CODEC_PORT)], {
    env: { ...stack.env, A2A_DEPLOY_CODEC_TOKEN: 'it-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    server.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 100 && !out.includes('Codec server on'); i++) await new Promise((r) => setTimeout(r, 100));
    const url = `http://127.0.0.1:${CODEC_PORT}`;
    const { events } = await historyOf('secrets-it');
    // An activity result: encrypted by the worker, never by this test or the CLI.
    const result = events.find((e) => e.activityTaskCompletedEventAttributes)!.activityTaskCompletedEventAttributes!.result!.payloads![0];
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(result.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
          data: Buffer.from(result.data!).toString('base64'),
        },
      ],
    });
    const origin = `http://127.0.0.1:${UI}`;
    const post = (token: string) =>
      fetch(`${url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, Origin: origin, 'X-Namespace': 'default' },
        body,
      });
    const ok = await post('it-token');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    const decoded = (await ok.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(decoded.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(decoded.payloads[0].data, 'base64').toString())).toMatchObject({ pid: expect.any(Number) });
    expect((await post('wrong-token')).status).toBe(401);
    const preflight = await fetch(`${url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const stranger = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    server.kill('SIGTERM');
  }
});

test("a crashing agent's output reaches status, history and `logs` with its secrets scrubbed", async () => {
  const file = join(stack.home, 'crash.yaml');
  writeFileSync(
    file,
    `job: { name: secrets-crash }
agents:
  - id: leaky
    command: [${process.execPath}, -e, "console.error('my key is ' + process.env.API_KEY); process.exit(3)"]
    config: { port: ${AGENT_PORT + 1} }
    deployment:
      secrets: { API_KEY: "env:IT_DB_PASSWORD" }
    restart: { policy: never }
topology: { type: mesh, agents: [leaky] }
`,
  );
  const r = stack.cli(['start', file]);
  expect(r.code).toBe(1);
  const out = stack.cli(['status', 'secrets-crash', '--json']).stdout;
  expect(out).toContain('my key is [secret]');
  const { raw, decoded } = await historyOf('secrets-crash');
  expect(decoded).toContain('my key is [secret]');
  // `logs` too, although the log file on this machine holds the value: read through the worker.
  const logs = stack.cli(['logs', 'secrets-crash']);
  expect(logs.stdout).toContain('my key is [secret]');
  for (const text of [r.stdout, r.stderr, out, raw, decoded, logs.stdout, logs.stderr]) expect(text).not.toContain(ENV_SECRET);
});

test('a missing secret fails the deploy at once, naming the agent and the reference', async () => {
  const file = join(stack.home, 'missing.yaml');
  writeFileSync(file, readFileSync(jobFile, 'utf8').replace('secrets-it', 'secrets-missing').replace('./api.key', './no-such.key'));
  const t0 = Date.now();
  const r = stack.cli(['start', file], { env: { IT_PLAIN: PLAIN } });
  expect(r.code).toBe(1);
  expect(r.stdout + r.stderr).toContain("secret API_KEY of agent 'keeper' (file:");
  expect(Date.now() - t0).toBeLessThan(30_000);
  stack.cli(['stop', 'secrets-missing', '--force']);
});

test('a worker without the key ends a job it never ran, naming the key id: start does not hang, status says why', async () => {
  const otherKeys = join(stack.home, 'other.keys');
  writeFileSync(otherKeys, newKeyLine(), { mode: 0o600 });
  const cliKeyId = readFileSync(keyFile, 'utf8').split(' ')[0];
  await stack.killWorker('SIGTERM');
  stack.env.A2A_DEPLOY_KEY_FILE = otherKeys;
  await stack.startWorker();
  const file = join(stack.home, 'wrong.yaml');
  writeFileSync(
    file,
    readFileSync(jobFile, 'utf8')
      .replace('secrets-it', 'secrets-wrong-key')
      .replace(String(AGENT_PORT), String(AGENT_PORT + 2)),
  );
  const cli = { A2A_DEPLOY_KEY_FILE: keyFile, IT_PLAIN: PLAIN };
  const t0 = Date.now();
  const started = stack.cli(['start', file], { env: cli, timeoutMs: 60_000 });
  const seconds = (Date.now() - t0) / 1000;
  console.log(`start with a wrong-key worker ended in ${seconds.toFixed(1)} s`);
  expect(started.code).toBe(1);
  expect(started.stderr).toContain(`cannot decrypt a payload encrypted with key '${cliKeyId}'`);
  expect(seconds).toBeLessThan(30);

  const status = stack.cli(['status', 'secrets-wrong-key', '--json'], { env: cli });
  expect(status.code).toBe(1);
  expect(JSON.parse(status.stdout)).toMatchObject({
    workflow: 'TERMINATED',
    phase: 'failed',
    reason: expect.stringContaining(`encrypted with key '${cliKeyId}'`),
  });
  // In the history: the failed workflow task (what the Web UI shows) and the termination,
  // naming the key; nothing was scheduled, no agent started.
  // The failure itself is encrypted by that worker, with its own key (failure-converter.ts).
  const { events, decoded } = await scannedHistory(client, 'secrets-wrong-key', [keyFile, otherKeys]);
  expect(events.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message).toBe(
    'Encoded failure',
  );
  expect(decoded).toContain(`encrypted with key '${cliKeyId}'`);
  expect(events.some((e) => e.activityTaskScheduledEventAttributes || e.workflowTaskCompletedEventAttributes)).toBe(false);
  expect(agentProcesses('secrets-wrong-key')).toEqual([]);
});
