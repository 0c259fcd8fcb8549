// What a person sees in the Temporal Web UI of the embedded dev server, read in headless
// Chromium (Debian's, installed by scripts/install-chromium.sh): with `a2a-deploy codec-server`
// running, a job's encrypted workflow input shows decoded (and still holds no secret value);
// without it, the UI says it cannot reach the codec server and shows only ciphertext.
import { Client, Connection } from '@temporalio/client';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyLine } from '../../src/temporal/codec-keys';
import { openPage, type Page } from './support/chromium';
import { agentProcesses, CLI, ROOT, startStack, waitFor, type Stack } from './support/stack';

jest.setTimeout(180_000);

const PORT = 26833;
const UI = 26933; // the dev server points its Web UI at the codec server on UI + 1
const AGENT_PORT = 26841;
const PLAIN = 'plain-ui-setting-3e7a';
const SECRET = 'ui-secret-b52c90';
const JOB = 'web-ui-it';
let stack: Stack;
let client: Client;
let page: Page;
let codec: ChildProcess | undefined;

beforeAll(async () => {
  const install = spawnSync('bash', [join(ROOT, 'scripts', 'install-chromium.sh')], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`install-chromium.sh failed: ${install.stderr}`);
  stack = await startStack(PORT, UI);
  const keyFile = join(stack.home, 'it.keys');
  writeFileSync(keyFile, newKeyLine(), { mode: 0o600 });
  Object.assign(stack.env, { A2A_DEPLOY_KEY_FILE: keyFile, IT_UI_SECRET: SECRET });
  await stack.startWorker();
  client = new Client({ connection: await Connection.connect({ address: stack.address }) });
  page = await openPage();
});
afterAll(async () => {
  codec?.kill();
  page?.close();
  stack.cli(['stop', JOB, '--force'], { timeoutMs: 30_000 });
  await client?.connection.close();
  await stack.close();
});

function startCodecServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'codec-server', '--port', String(UI + 1), '--origin', `http://127.0.0.1:${UI}`], {
    env: stack.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return waitFor('the codec server', () => out.includes('Codec server on') && child, 15_000);
}

test('the Web UI shows a job input decoded through the codec server, and only ciphertext without it', async () => {
  const file = join(stack.home, 'ui.yaml');
  writeFileSync(
    file,
    `job: { name: ${JOB} }
agents:
  - id: keeper
    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}
    config: { port: ${AGENT_PORT} }
    deployment:
      environment: { PLAIN_SETTING: ${PLAIN} }
      secrets: { API_KEY: "env:IT_UI_SECRET" }
topology: { type: mesh, agents: [keeper] }
`,
  );
  const started = stack.cli(['start', file]);
  expect(started.code).toBe(0);
  expect(agentProcesses(JOB)).toHaveLength(1);
  // (Raw: this client has no key, so it could not decode the memo a describe() returns.)
  const d = await client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: `a2a-job-${JOB}` } });
  const runId = d.workflowExecutionInfo!.execution!.runId!;
  const url = `http://127.0.0.1:${UI}/namespaces/default/workflows/a2a-job-${JOB}/${runId}/history`;

  codec = await startCodecServer();
  const t0 = Date.now();
  const decoded = await page.textOf(url, (t) => t.includes(PLAIN));
  console.log(`Web UI showed the decoded input after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  writeFileSync(join(stack.home, 'web-ui-decoded.png'), await page.screenshot());
  expect(decoded).toContain(`"job": "${JOB}"`);
  expect(decoded).toContain(PLAIN);
  // (The input's editor shows its first lines only; secrets.test.ts scans every payload.)
  expect(decoded).not.toContain(SECRET);

  // Stopped as a person stops it (SIGTERM), with the page's keep-alive connection still open.
  const exited = new Promise((r) => codec!.once('exit', r));
  codec.kill('SIGTERM');
  await exited;
  codec = undefined;
  const cipher = await page.textOf(url, (t) => t.includes('Codec Server could not connect'));
  expect(cipher).toContain('Codec Server could not connect');
  expect(cipher).toContain('Input');
  expect(cipher).not.toContain(PLAIN);
  expect(cipher).not.toContain(`"job": "${JOB}"`);
});
