// Issue 23, item 11 (README): the README's `temporal workflow ...` commands ("Signals, updates
// and queries"), read from the README as written, run against a job whose worker encrypts its
// payloads. Without the codec server an update runs but its answer cannot be shown ("payload
// encoding is not supported", the README's example failed so); with TEMPORAL_CODEC_ENDPOINT
// pointing at `a2a-deploy codec-server`, as the README now says, every one of them works.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyLine } from '../../src/temporal/codec-keys';
import { agentProcesses, CLI, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(120_000);
let stack: Stack;
let codec: ChildProcess;
const CODEC_PORT = 29871;
const JOB = 'shell';

/** The shell commands of the README's "From a shell:" paragraph. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('From a shell: ');
  const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
  return [...paragraph.matchAll(/`(temporal workflow [^`]+)`/g)].map((m) => m[1]);
}

function temporal(command: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('bash', ['-c', command.replace(/\bJOB\b/g, JOB)], {
    env: { ...process.env, PATH: `${join(ROOT, '.tools', 'bin')}:${process.env.PATH}`, TEMPORAL_ADDRESS: stack.address, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

beforeAll(async () => {
  stack = await startStack(29733, 29833);
  const keyFile = join(stack.home, 'it.keys');
  writeFileSync(keyFile, newKeyLine(), { mode: 0o600 });
  stack.env.A2A_DEPLOY_KEY_FILE = keyFile;
  await stack.startWorker();
  codec = spawn(process.execPath, [CLI, 'codec-server', '--port', String(CODEC_PORT)], {
    env: { ...stack.env, A2A_DEPLOY_CODEC_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  codec.stdout!.on('data', (d) => (out += d));
  codec.stderr!.on('data', (d) => (out += d));
  await waitFor('the codec server', () => out.includes('Codec server on'), 15_000);
});
afterAll(async () => {
  stack.cli(['stop', JOB, '--force']);
  for (const pid of agentProcesses(JOB)) process.kill(pid, 'SIGKILL');
  codec.kill('SIGTERM');
  await new Promise((r) => (codec.exitCode !== null ? r(undefined) : codec.once('exit', r)));
  await stack.close();
});

test("the README's temporal commands work on encrypted payloads with the codec server, as it says", async () => {
  const file = join(stack.home, 'shell.yaml');
  writeFileSync(
    file,
    `job: { name: ${JOB} }\nagents:\n  - id: maps\n    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}\n` +
      `    config: { port: 19863 }\ntopology: { type: mesh, agents: [maps] }\n`,
  );
  expect(stack.cli(['start', file]).code).toBe(0);
  const commands = readmeCommands();
  const find = (re: RegExp) => commands.find((c) => re.test(c))!;
  const pauseSignal = find(/signal .*--name pause/);
  const stopUpdate = find(/update execute .*--name stop$/);
  const restartUpdate = find(/update execute .*--name restart --input/);
  expect([pauseSignal, stopUpdate, restartUpdate].every(Boolean)).toBe(true);

  // Without the codec server: the update runs, its answer cannot be read (what the README showed before).
  const pauseUpdate = stopUpdate.replace('--name stop', '--name pause');
  const blind = temporal(pauseUpdate);
  expect(blind.out).toContain('payload encoding is not supported');
  expect(blind.code).not.toBe(0);
  const codecEnv = { TEMPORAL_CODEC_ENDPOINT: `http://127.0.0.1:${CODEC_PORT}` };
  expect(temporal(pauseUpdate.replace('--name pause', '--name resume'), codecEnv)).toMatchObject({ code: 0 });

  // As the README says: restart (an update with input), pause (a signal), stop (an update).
  const pid = agentProcesses(JOB)[0];
  const restarted = temporal(restartUpdate, codecEnv);
  expect(restarted.out).not.toContain('not supported');
  expect(restarted.out).toMatch(/Result +map\[failed:\[\] restarted:\[maps\]\]/);
  expect(restarted.code).toBe(0);
  expect(agentProcesses(JOB)).not.toContain(pid);
  expect(temporal(pauseSignal)).toMatchObject({ code: 0 });
  await waitFor('paused', () => /paused/.test(stack.cli(['status', JOB]).stdout), 15_000);
  // The stop update answers at once (the phase it was in); the teardown follows.
  const stopped = temporal(stopUpdate, codecEnv);
  expect(stopped.out).not.toContain('not supported');
  expect(stopped.out).toMatch(/Result +(running|degraded|stopping)\b/);
  expect(stopped.code).toBe(0);
  await waitFor('the teardown', () => agentProcesses(JOB).length === 0, 30_000);
});
