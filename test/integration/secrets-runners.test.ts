// Secrets on the SSH and Docker runners, on a real dev server, worker, sshd and dockerd: one
// job with a remote agent (this machine plays the host, through a private sshd on loopback) and
// a container agent, each with a file: and an env: secret. Each agent sees its values; no
// command line on the host ever shows one, while the agent starts or runs; the history (raw,
// and every payload decoded), `status --json` and `plan --json` hold none of them.
import { Client, Connection } from '@temporalio/client';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../src/common/sleep';
import { containerName } from '../../src/job/plan';
import { newKeyLine } from '../../src/temporal/codec-keys';
import type { JobStatus } from '../../src/workflows/api';
import { docker, IMAGE, prepareDocker, removeJob } from './support/docker';
import { historyOf } from './support/history';
import { childrenOf, environOf, startSshd, type Sshd } from './support/sshd';
import { agentProcesses, ROOT, startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

const PORT = 26233;
const UI = 26333;
const REMOTE_PORT = 19450;
const BOX_PORT = 19451;
const CRASH_PORT = 19452;
const SSH_PORT = 19499;
const JOB = 'secrets-runners';
const CRASH_JOB = 'secrets-remote-crash';
const REMOTE_FILE_SECRET = 'remote-file-secret-3e8a1b';
const BOX_FILE_SECRET = 'box-file-secret-61f0aa';
const ENV_SECRET = 'worker-env-secret-92c4d7';
const SECRETS = [REMOTE_FILE_SECRET, BOX_FILE_SECRET, ENV_SECRET];
const FLAKY = join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js');

let stack: Stack;
let client: Client;
let sshd: Sshd;
let sshdDir: string;
let keyFile: string;
let workdir: string;

/** The deployment lines of an agent on the test sshd, indented for a job file. */
const remoteDeployment = () =>
  ['target: remote', 'host: 127.0.0.1', 'user: root', `ssh_port: ${SSH_PORT}`, `ssh_key: ${sshd.key}`, `known_hosts: ${sshd.knownHosts}`]
    .concat(`workdir: "${workdir}"`)
    .map((l) => `      ${l}`)
    .join('\n');

beforeAll(async () => {
  const t0 = Date.now();
  console.log(`${prepareDocker().join('\n')}\n(docker prepared in ${Date.now() - t0} ms)`);
  await removeJob(JOB);
  stack = await startStack(PORT, UI);
  keyFile = join(stack.home, 'it.keys');
  writeFileSync(keyFile, newKeyLine(), { mode: 0o600 });
  // Its own folder: stack.close() removes the stack's home, and sshd's pid file must outlive that.
  sshdDir = mkdtempSync(join(tmpdir(), 'a2a-sshd-'));
  sshd = startSshd(sshdDir, SSH_PORT);
  // The remote agent's workdir on the "host"; its file: secret is relative to it.
  workdir = join(stack.home, 'remote work');
  mkdirSync(workdir);
  writeFileSync(join(workdir, 'api.key'), `${REMOTE_FILE_SECRET}\n`);
  // The container agent's file: secret is read on the worker's machine, relative to the job file.
  writeFileSync(join(stack.home, 'box.key'), `${BOX_FILE_SECRET}\n`);
  Object.assign(stack.env, {
    A2A_DEPLOY_KEY_FILE: keyFile,
    IT_DB_PASSWORD: ENV_SECRET,
    IT_INHERITED: 'inherited-value',
    IT_WORKER_ONLY: 'worker-only-value',
  });
  await stack.startWorker();
  client = new Client({ connection: await Connection.connect({ address: stack.address }) });
}, 600_000);

afterAll(async () => {
  for (const job of [JOB, CRASH_JOB]) stack?.cli(['stop', job, '--force'], { timeoutMs: 60_000 });
  for (const job of [JOB, CRASH_JOB]) for (const pid of agentProcesses(job)) process.kill(-pid, 'SIGKILL');
  await removeJob(JOB);
  await client?.connection.close();
  await stack?.close(); // before sshd: the worker's pooled connection goes first
  sshd?.stop();
  if (sshdDir) rmSync(sshdDir, { recursive: true, force: true });
});

const status = (job: string): JobStatus => JSON.parse(stack.cli(['status', job, '--json']).stdout);

/**
 * Reads every process's command line on this machine (the remote host) over and over, as
 * `ps` would show them, until stopped: which secret values appeared, and how many remote
 * shells (`/bin/sh -s`, the runner's scripts) the scans caught, so a scan that saw nothing
 * of the remote side cannot pass for a clean one.
 */
function watchCommandLines() {
  const seen = { scans: 0, remoteShells: 0, leaks: [] as string[] };
  let running = true;
  const done = (async () => {
    while (running) {
      for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
        let cmdline: string;
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
        } catch {
          continue; // gone meanwhile
        }
        if (cmdline.startsWith('/bin/sh -s')) seen.remoteShells++;
        for (const s of SECRETS) if (cmdline.includes(s)) seen.leaks.push(`${pid}: ${cmdline}`);
      }
      seen.scans++;
      await sleep(5);
    }
  })();
  /** Stops once `remoteShells` were caught (or `withinMs` passed). */
  return async (until: { remoteShells: number; withinMs: number }) => {
    const deadline = Date.now() + until.withinMs;
    while (seen.remoteShells < until.remoteShells && Date.now() < deadline) await sleep(100);
    running = false;
    await done;
    return seen;
  };
}

test('an SSH agent and a container agent get their secrets; no command line shows them; history, status and plan hold none', async () => {
  const jobFile = join(stack.home, 'runners.yaml');
  writeFileSync(
    jobFile,
    `job: { name: ${JOB} }
agents:
  - id: faraway
    module: ${FLAKY}
    config: { port: ${REMOTE_PORT} }
    deployment:
${remoteDeployment()}
      secrets: { API_KEY: "file:api.key", DB_PASSWORD: "env:IT_DB_PASSWORD" }
      inherit_env: [IT_INHERITED]
  - id: boxed
    module: /app/dist/agents/weather.js
    config: { port: ${BOX_PORT}, health: { timeout: 30s } }
    deployment:
      target: container
      image: ${IMAGE}
      pull: never
      secrets: { API_KEY: "file:./box.key", DB_PASSWORD: "env:IT_DB_PASSWORD" }
topology: { type: mesh, agents: [faraway, boxed] }
`,
  );
  const stopWatching = watchCommandLines();
  const started = await stack.cliAsync(['start', jobFile]);
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  const s = status(JOB);
  expect(s.phase).toBe('running');

  // The remote agent: its wrapper leads the group, the agent (node) is its child.
  const [agentPid] = childrenOf(s.agents.faraway.pid!);
  const environ = environOf(agentPid);
  expect(environ).toMatchObject({ API_KEY: REMOTE_FILE_SECRET, DB_PASSWORD: ENV_SECRET, IT_INHERITED: 'inherited-value' });
  // Nothing of the worker's or of the login session's (SSH_CONNECTION, MAIL, SHELL...) but the allowed names.
  const allowed =
    /^(PATH|HOME|USER|LANG|LC_\w+|TZ|TMPDIR|AGENT_\w+|CONNECTED_AGENTS|A2A_PEERS|A2A_JOB|A2A_DEPLOY_(AGENT|SPEC|SERVER)|API_KEY|DB_PASSWORD|IT_INHERITED)$/;
  expect(Object.keys(environ).filter((k) => !allowed.test(k))).toEqual([]);

  // The container: its environment holds the values, and nothing of the worker's.
  const info = await docker.getContainer(containerName(JOB, 'boxed')).inspect();
  expect(info.Config.Env).toEqual(expect.arrayContaining([`API_KEY=${BOX_FILE_SECRET}`, `DB_PASSWORD=${ENV_SECRET}`]));
  expect(info.Config.Env.filter((e) => /^(TEMPORAL_|IT_|npm_|A2A_DEPLOY_(HOME|KEY))/.test(e))).toEqual([]);

  // While it runs, the watch's status scripts keep coming (one a second, each alive for a few
  // milliseconds): scan on until a few of them were caught, so the scan saw the remote side.
  const seen = await stopWatching({ remoteShells: 5, withinMs: 20_000 });
  console.log(`command lines: ${seen.scans} scans of every process, ${seen.remoteShells} remote shells caught`);
  expect(seen.leaks).toEqual([]);
  expect(seen.remoteShells).toBeGreaterThan(0);

  const { raw, decoded } = await historyOf(client, JOB, keyFile);
  const outputs = {
    raw,
    decoded,
    status: stack.cli(['status', JOB, '--json']).stdout,
    plan: stack.cli(['plan', jobFile, '--json']).stdout,
  };
  for (const [where, text] of Object.entries(outputs))
    for (const v of SECRETS) expect(`${where}: ${text.includes(v)}`).toBe(`${where}: false`);
  // The scan reads what it should: the references are there.
  expect(decoded).toContain('file:api.key');
  expect(decoded).toContain('env:IT_DB_PASSWORD');
});

test("a crashing remote agent's output reaches status scrubbed of both secrets; a missing file on the host is named", async () => {
  const file = join(stack.home, 'crash.yaml');
  const yaml = (secret: string) => `job: { name: ${CRASH_JOB} }
agents:
  - id: leaky
    command: [node, -e, "console.error('keys: ' + process.env.API_KEY + ' ' + process.env.DB_PASSWORD); process.exit(3)"]
    config: { port: ${CRASH_PORT} }
    restart: { policy: never }
    deployment:
${remoteDeployment()}
      secrets: { API_KEY: "${secret}", DB_PASSWORD: "env:IT_DB_PASSWORD" }
topology: { type: mesh, agents: [leaky] }
`;
  writeFileSync(file, yaml('file:api.key'));
  const r = stack.cli(['start', file]);
  expect(r.code).toBe(1);
  const out = stack.cli(['status', CRASH_JOB, '--json']).stdout;
  expect(out).toContain('keys: [secret] [secret]');
  const { raw, decoded } = await historyOf(client, CRASH_JOB, keyFile);
  expect(decoded).toContain('keys: [secret] [secret]');
  for (const text of [r.stdout, r.stderr, out, raw, decoded]) for (const v of SECRETS) expect(text).not.toContain(v);
  stack.cli(['stop', CRASH_JOB, '--force']);

  writeFileSync(file, yaml('file:~/no-such.key'));
  const t0 = Date.now();
  const missing = stack.cli(['start', file]);
  expect(missing.code).toBe(1);
  expect(missing.stdout + missing.stderr).toContain(
    `secret API_KEY of agent 'leaky' (file:~/no-such.key): cannot read ~/no-such.key on 127.0.0.1:${SSH_PORT} (no such file)`,
  );
  expect(Date.now() - t0).toBeLessThan(30_000);
});
