// The remote (SSH) runner against a real sshd on 127.0.0.1: this machine is the "remote
// host", logged into as root, so every claim is checked on the real /proc afterwards.
// The runner's functions are called directly (outside any Temporal activity).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../src/activities/ssh';
import type { AgentPlan } from '../../src/job/plan';
import {
  childrenOf,
  closeSshConnections,
  cmdlineOf,
  environOf,
  markedProcesses,
  portOpen,
  remoteAgent,
  ROOT,
  sshPoolSize,
  sshRunner,
  startSshd,
  type Sshd,
} from './support/sshd';

jest.setTimeout(60_000);

const SSH_PORT = 22222;
const CLOSED_PORT = 22223; // nothing listens here
const JOB = 'sshit';
const FLAKY = join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js');
const WEATHER = join(ROOT, 'dist', 'agents', 'weather.js');

let tmp: string;
let sshd: Sshd;
/** A workdir whose name alone would break careless quoting. */
let workdir: string;
const started: AgentPlan[] = [];

const agent = (id: string, port: number, opts: Partial<Parameters<typeof remoteAgent>[3]> = {}) => {
  const a = remoteAgent(sshd, id, port, { workdir, module: FLAKY, ...opts });
  started.push(a);
  return a;
};
const failureOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error & { type?: string; nonRetryable?: boolean; details?: unknown[] };
  }
  throw new Error('expected a failure');
};

/** dist/agents is built from src/agents: rebuild when a source is newer than its output. */
function ensureBuilt() {
  const srcDir = join(ROOT, 'src', 'agents');
  const stale = readdirSync(srcDir).some((f) => {
    const out = join(ROOT, 'dist', 'agents', f.replace(/\.ts$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(join(srcDir, f)).mtimeMs;
  });
  if (!stale) return;
  // Other files may not type-check at this moment; tsc still emits, and only weather.js matters here.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore', timeout: 180_000 });
  if (!existsSync(WEATHER)) throw new Error('dist/agents/weather.js was not built');
}

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'a2a-ssh-'));
  sshd = startSshd(join(tmp, 'sshd'), SSH_PORT);
  // (a file name holds no '/': a relative `touch` would land in the remote shell's cwd, the home)
  workdir = join(tmp, `work dir 'q' $(touch pwned-workdir) \`touch pwned-workdir\``);
  mkdirSync(workdir);
});

afterAll(async () => {
  for (const a of started) await sshRunner.stopAgent({ job: JOB, agent: a, force: true }).catch(() => undefined);
  await closeSshConnections();
  sshd?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('shellQuote survives a round trip through sh', () => {
  const nasty = `a'b"c $(x) \`y\` \\ \n ''`;
  const r = spawnSync('sh', ['-c', `printf %s ${shellQuote(nasty)}`], { encoding: 'utf8' });
  expect(r.stdout).toBe(nasty);
});

describe('lifecycle on the remote host', () => {
  test('start → healthy (a real example agent); a second start reuses it; stop frees the port', async () => {
    await closeSshConnections();
    const loginsBefore = sshd.logins();
    const a = agent('weather', 19651, { module: WEATHER });
    const s = await sshRunner.startAgent({ job: JOB, agent: a });
    expect(s.reused).toBe(false);
    expect(s.logDir).toBe(join(workdir, '.a2a-deploy', JOB, 'weather'));
    const h = await sshRunner.waitHealthy({ job: JOB, agent: a, pid: s.pid });
    expect(h.attempts).toBeGreaterThanOrEqual(1);
    expect(await (await fetch('http://127.0.0.1:19651/health')).json()).toMatchObject({ status: 'ok' });

    // The pid is the group leader of its own session, carrying the marker.
    const stat = readFileSync(`/proc/${s.pid}/stat`, 'utf8');
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(pgrp)).toBe(s.pid);
    expect(Number(session)).toBe(s.pid);
    expect(environOf(s.pid)).toMatchObject({ A2A_DEPLOY_AGENT: `${JOB}/weather`, A2A_DEPLOY_SPEC: 'spec-1' });
    expect(readFileSync(join(s.logDir, 'agent.pid'), 'utf8')).toContain(`${s.pid} spec-1`);

    const again = await sshRunner.startAgent({ job: JOB, agent: a });
    expect(again).toMatchObject({ pid: s.pid, reused: true, startedAt: s.startedAt });
    // A retried start after a crash that lost the pid file still finds it (by marker).
    rmSync(join(s.logDir, 'agent.pid'));
    expect(await sshRunner.startAgent({ job: JOB, agent: a })).toMatchObject({ pid: s.pid, reused: true });

    const logs = await sshRunner.readLogs({ job: JOB, agent: a, tail: 50 });
    expect(logs.stderr).toContain('a2a-deploy: starting weather');

    const stopped = await sshRunner.stopAgent({ job: JOB, agent: a });
    expect(stopped).toEqual({ wasRunning: true, forced: false });
    expect(markedProcesses(`${JOB}/weather`)).toEqual([]);
    expect(await portOpen(19651)).toBe(false);
    expect(existsSync(join(s.logDir, 'agent.pid'))).toBe(false);
    expect(await sshRunner.stopAgent({ job: JOB, agent: a })).toEqual({ wasRunning: false, forced: false }); // idempotent

    // All of that over one connection.
    expect(sshPoolSize()).toBe(1);
    expect(sshd.logins() - loginsBefore).toBe(1);
  });

  test('a changed spec replaces the running agent', async () => {
    const v1 = agent('spec', 19652, { specHash: 'spec-a' });
    const s1 = await sshRunner.startAgent({ job: JOB, agent: v1 });
    await sshRunner.waitHealthy({ job: JOB, agent: v1, pid: s1.pid });
    const v2 = agent('spec', 19652, { specHash: 'spec-b', env: { EXTRA: 'yes' } });
    const s2 = await sshRunner.startAgent({ job: JOB, agent: v2 });
    expect(s2.reused).toBe(false);
    expect(s2.pid).not.toBe(s1.pid);
    expect(markedProcesses(`${JOB}/spec`)).not.toContain(s1.pid);
    await sshRunner.waitHealthy({ job: JOB, agent: v2, pid: s2.pid });
    expect(markedProcesses(`${JOB}/spec`).filter((p) => environOf(p).A2A_DEPLOY_SPEC === 'spec-a')).toEqual([]);
    expect(environOf(s2.pid)).toMatchObject({ A2A_DEPLOY_SPEC: 'spec-b', EXTRA: 'yes' });
    await sshRunner.stopAgent({ job: JOB, agent: v2 });
    expect(markedProcesses(`${JOB}/spec`)).toEqual([]);
  });

  test('a stop that outlasts the grace period, and a forced stop, kill the agent', async () => {
    const slow = agent('slow', 19653, { env: { TERM_DELAY_MS: '30000' }, stopGraceMs: 700 });
    let s = await sshRunner.startAgent({ job: JOB, agent: slow });
    await sshRunner.waitHealthy({ job: JOB, agent: slow, pid: s.pid });
    let t0 = Date.now();
    expect(await sshRunner.stopAgent({ job: JOB, agent: slow })).toEqual({ wasRunning: true, forced: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(markedProcesses(`${JOB}/slow`)).toEqual([]);
    expect(await sshRunner.readLogs({ job: JOB, agent: slow, tail: 5 }).then((l) => l.stdout)).toContain('got SIGTERM');

    s = await sshRunner.startAgent({ job: JOB, agent: slow });
    await sshRunner.waitHealthy({ job: JOB, agent: slow, pid: s.pid });
    t0 = Date.now();
    expect(await sshRunner.stopAgent({ job: JOB, agent: slow, force: true })).toEqual({ wasRunning: true, forced: true });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(markedProcesses(`${JOB}/slow`)).toEqual([]);
    expect(await portOpen(19653)).toBe(false);
  });

  test('an agent that exits at once fails with its exit code and stderr', async () => {
    const bad = agent('bad', 19654, {
      module: undefined,
      command: ['node', '-e', 'console.error("boom: no config for " + process.env.AGENT_ID); process.exit(3)'],
    });
    const s = await sshRunner.startAgent({ job: JOB, agent: bad });
    const err = await failureOf(sshRunner.waitHealthy({ job: JOB, agent: bad, pid: s.pid }));
    expect(err.type).toBe('AgentExited');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/agent 'bad' exited with code 3 on 127\.0\.0\.1:22222 before becoming healthy/);
    expect(String(err.details?.[0])).toContain('boom: no config for bad');
  });

  test('a package specifier resolves on the host, from the workdir', async () => {
    mkdirSync(join(workdir, 'node_modules', 'fake-agent'), { recursive: true });
    copyFileSync(FLAKY, join(workdir, 'node_modules', 'fake-agent', 'index.js'));
    const a = agent('pkg', 19662, { module: 'fake-agent' });
    const s = await sshRunner.startAgent({ job: JOB, agent: a });
    await sshRunner.waitHealthy({ job: JOB, agent: a, pid: s.pid });
    expect(cmdlineOf(childrenOf(s.pid)[0])).toEqual(['node', join(workdir, 'node_modules', 'fake-agent', 'index.js')]);
    await sshRunner.stopAgent({ job: JOB, agent: a });
    expect(
      (await failureOf(sshRunner.startAgent({ job: JOB, agent: agent('nopkg', 19663, { module: 'no-such-package-xyz' }) }))).message,
    ).toMatch(/module no-such-package-xyz cannot be resolved on the host from/);
  });

  test('a missing module or program is refused clearly', async () => {
    const missing = agent('missing', 19655, { module: './no/such/agent.js' });
    const err = await failureOf(sshRunner.startAgent({ job: JOB, agent: missing }));
    expect(err.message).toMatch(/module \.\/no\/such\/agent\.js not found on the host/);
    expect(err.nonRetryable).toBe(true);
    const noProgram = agent('noprog', 19656, { module: undefined, command: ['no-such-program-xyz'] });
    expect((await failureOf(sshRunner.startAgent({ job: JOB, agent: noProgram }))).message).toMatch(
      /no-such-program-xyz not found on the host/,
    );
  });

  test('watchAgents reports a crash with its exit code, and an unhealthy agent', async () => {
    const crashy = agent('crashy', 19657, { env: { CRASH_AFTER_MS: '1500' } });
    const mute = agent('mute', 19658, { env: { DELAY_MS: '600000' } }); // alive, never listens
    const c = await sshRunner.startAgent({ job: JOB, agent: crashy });
    await sshRunner.waitHealthy({ job: JOB, agent: crashy, pid: c.pid });
    const m = await sshRunner.startAgent({ job: JOB, agent: mute });
    const watched = [crashy, mute].map((a, i) => ({
      id: a.id,
      pid: [c.pid, m.pid][i],
      healthUrl: a.healthUrl,
      target: a.target,
      deployment: a.deployment,
    }));
    const first = await sshRunner.watchAgents({ job: JOB, agents: watched, unhealthyAfter: 100 });
    expect(first).toEqual([
      expect.objectContaining({
        id: 'crashy',
        kind: 'exited',
        exitCode: 1,
        detail: "agent 'crashy' exited with code 1 on 127.0.0.1:22222",
      }),
    ]);
    expect(first[0].stderr).toContain('crashing on purpose');
    const second = await sshRunner.watchAgents({ job: JOB, agents: watched.slice(1), unhealthyAfter: 2 });
    expect(second).toEqual([expect.objectContaining({ id: 'mute', kind: 'unhealthy' })]);
    await sshRunner.stopAgent({ job: JOB, agent: mute });
  });

  test('readLogs follows by byte offsets', async () => {
    const a = agent('logs', 19659);
    const s = await sshRunner.startAgent({ job: JOB, agent: a });
    await sshRunner.waitHealthy({ job: JOB, agent: a, pid: s.pid });
    const first = await sshRunner.readLogs({ job: JOB, agent: a, tail: 0, offsets: { stdout: 0, stderr: 0 } });
    expect(first.stdout).toBe('logs listening on 19659\n');
    expect(first.offsets.stdout).toBe(Buffer.byteLength(first.stdout));
    await sshRunner.stopAgent({ job: JOB, agent: a });
    const next = await sshRunner.readLogs({ job: JOB, agent: a, tail: 0, offsets: first.offsets });
    expect(next.stdout).toBe('logs got SIGTERM\n');
    expect(next.stderr).toBe('');
  });
});

describe('hostile values reach the agent verbatim and run nothing', () => {
  test('env values, args, module path and workdir', async () => {
    // Wherever a `touch` could have run: the tmp dir, the remote login dir, the workdir, our cwd.
    const pwnedFiles = () =>
      [tmp, homedir(), workdir, ROOT, process.cwd()].flatMap((d) =>
        readdirSync(d)
          .filter((f) => f.startsWith('pwned'))
          .map((f) => join(d, f)),
      );
    const pwned = join(tmp, `pwned-${randomBytes(4).toString('hex')}`);
    const hostile = [
      `'; touch ${pwned}; '`,
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      `"; touch ${pwned}; "`,
      `line1\nline2\ntouch ${pwned}`,
      `  spaces  and\ttabs  `,
      `\\' \\" \\\\ $HOME \${HOME} ~ * ?`,
      `-n`,
      '',
      `x\nA2A_DEPLOY_AGENT=${JOB}/other`, // a fake marker inside a value must not confuse the scan
    ];
    // The module itself sits in a directory with a hostile name.
    const modDir = join(tmp, `mod 'dir' $(touch pwned-mod) ; touch pwned-mod`);
    mkdirSync(modDir);
    copyFileSync(FLAKY, join(modDir, 'flaky.js'));
    const env = Object.fromEntries(hostile.map((v, i) => [`HOSTILE_${i}`, v]));
    const a = agent('hostile', 19660, { module: join(modDir, 'flaky.js'), args: hostile, env });
    const s = await sshRunner.startAgent({ job: JOB, agent: a });
    await sshRunner.waitHealthy({ job: JOB, agent: a, pid: s.pid });

    // The leader's environment, and the agent's (its child) argv, exactly as given.
    expect(environOf(s.pid)).toMatchObject(env);
    const [child] = childrenOf(s.pid);
    expect(cmdlineOf(child)).toEqual(['node', join(modDir, 'flaky.js'), ...hostile]);
    expect(environOf(child)).toMatchObject(env);
    expect(existsSync(pwned)).toBe(false);
    expect(pwnedFiles()).toEqual([]);

    // The marker scan still finds exactly this agent, and only it.
    expect(await sshRunner.startAgent({ job: JOB, agent: a })).toMatchObject({ pid: s.pid, reused: true });
    await sshRunner.stopAgent({ job: JOB, agent: a });
    expect(markedProcesses(`${JOB}/hostile`)).toEqual([]);
    expect(pwnedFiles()).toEqual([]);
  });
});

describe('host keys are verified, never accepted blindly', () => {
  const probe = (deployment: Partial<AgentPlan['deployment']>) =>
    sshRunner.readLogs({ job: JOB, agent: remoteAgent(sshd, 'probe', 19661, { workdir, module: FLAKY, deployment }), tail: 1 });

  test('a pinned host_key that matches is enough (known_hosts is not consulted)', async () => {
    const empty = join(tmp, 'empty_known_hosts');
    writeFileSync(empty, '');
    await expect(probe({ hostKey: sshd.fingerprint, knownHosts: empty })).resolves.toBeDefined();
  });

  test('a wrong pinned host_key is refused', async () => {
    const wrong = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
    const err = await failureOf(probe({ hostKey: wrong }));
    expect(err.type).toBe('SshHostKeyMismatch');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(
      `host key of 127.0.0.1:${SSH_PORT} does not match deployment.host_key: expected ${wrong}, the host presented ${sshd.fingerprint}`,
    );
  });

  test('an unknown host is refused, with the fingerprint and how to add it', async () => {
    const empty = join(tmp, 'empty_known_hosts');
    writeFileSync(empty, '# nothing known\n127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n'); // port 22 only
    const err = await failureOf(probe({ knownHosts: empty }));
    expect(err.type).toBe('SshHostKeyUnknown');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(`host key of 127.0.0.1:${SSH_PORT} is not known (fingerprint ${sshd.fingerprint}`);
    expect(err.message).toContain(`ssh-keyscan -p ${SSH_PORT} -t ed25519 127.0.0.1 >> ${empty}`);
    expect(err.message).toContain('deployment.host_key');
    // A missing known_hosts file knows nobody either.
    expect((await failureOf(probe({ knownHosts: join(tmp, 'no-such-file') }))).type).toBe('SshHostKeyUnknown');
  });

  test('a changed host key is refused loudly', async () => {
    const other = join(tmp, 'other_key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const file = join(tmp, 'changed_known_hosts');
    writeFileSync(file, `[127.0.0.1]:${SSH_PORT} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    const err = await failureOf(probe({ knownHosts: file }));
    expect(err.type).toBe('SshHostKeyChanged');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(err.message).toContain(`${file}:1`);
    expect(err.message).toContain(sshd.fingerprint);
  });

  test('hashed known_hosts entries and wildcard patterns are understood', async () => {
    const hashed = join(tmp, 'hashed_known_hosts');
    copyFileSync(sshd.knownHosts, hashed);
    spawnSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/);
    await expect(probe({ knownHosts: hashed })).resolves.toBeDefined();
    const wildcard = join(tmp, 'wildcard_known_hosts');
    writeFileSync(wildcard, readFileSync(sshd.knownHosts, 'utf8').replace(`[127.0.0.1]:${SSH_PORT}`, `[127.0.0.?]:${SSH_PORT},!10.0.0.1`));
    await expect(probe({ knownHosts: wildcard })).resolves.toBeDefined();
  });

  test('an unreachable host gives a clear, retryable error', async () => {
    const err = await failureOf(probe({ sshPort: CLOSED_PORT }));
    expect(err.type).toBe('SshUnreachable');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toBe(
      `cannot reach the SSH server at 127.0.0.1:${CLOSED_PORT}: connection refused (is sshd running, and is ssh_port right?) [ECONNREFUSED]`,
    );
  });

  test('a key the host does not accept fails authentication, not retried', async () => {
    const stranger = join(tmp, 'stranger_key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const err = await failureOf(probe({ sshKey: stranger }));
    expect(err.type).toBe('SshAuthFailed');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(`SSH authentication as root at 127.0.0.1:${SSH_PORT} failed with key ${stranger}`);
  });

  test('failed connections are not pooled; the good one is still reused', async () => {
    await closeSshConnections();
    const before = sshd.logins();
    await probe({});
    await failureOf(probe({ hostKey: 'SHA256:AAAA' }));
    await probe({});
    await probe({});
    expect(sshPoolSize()).toBe(1);
    expect(sshd.logins() - before).toBe(1);
  });

  test('many commands at once share the connection (below sshd MaxSessions)', async () => {
    const before = sshd.logins();
    // 20 readLogs = 40 sessions at once; sshd allows 10 per connection, the runner queues.
    const all = await Promise.all(Array.from({ length: 20 }, () => probe({})));
    expect(all).toHaveLength(20);
    expect(sshPoolSize()).toBe(1);
    expect(sshd.logins() - before).toBe(0);
  });

  test('a dropped connection is replaced on the next command', async () => {
    await probe({});
    const before = sshd.logins();
    // Kill the sshd processes serving our connection: the children of our sshd's listener.
    const sessions = sshd.sessions();
    expect(sessions.length).toBeGreaterThan(0);
    for (const p of sessions) process.kill(p, 'SIGKILL');
    await expect(probe({})).resolves.toBeDefined();
    expect(sshd.logins() - before).toBe(1);
    expect(sshPoolSize()).toBe(1);
  });
});
