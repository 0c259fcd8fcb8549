// The remote scripts without an sshd: they run through a local /bin/sh exactly as the remote
// host would run them (this machine plays the host, as any user, no root), with hostile
// values in every place a job value can reach.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSshRunner, describeEnd, parseStatus, remoteEnvOf } from '../../src/activities/ssh/runner';
import { remotePath, shellQuote } from '../../src/activities/ssh/quoting';
import {
  afterBegin,
  lines,
  parseUsage,
  readLogScript,
  secretFilesScript,
  startScript,
  statusScript,
  stopScript,
  tailScript,
  usageScript,
  wrapScript,
} from '../../src/activities/ssh/scripts';
import { BASE_NAMES } from '../../src/activities/agent-env';
import { serverKey } from '../../src/process/cgroups';
import type { AgentPlan } from '../../src/job/plan';

const HOSTILE = [
  `a'b"c $(touch pwned) \`touch pwned\` \\ \n ''`,
  "'",
  "''",
  '',
  '$HOME',
  '${HOME}',
  '*',
  '-n',
  '--',
  '; touch pwned; #',
  '| touch pwned',
  '& touch pwned &',
  '\ttab and\nnewline\r\n',
  'é ü 🚀',
  '"$(touch pwned)"',
  '\\',
  '!',
  '~',
];

let tmp: string;
let home: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'a2a-scripts-'));
  home = join(tmp, 'home');
  mkdirSync(home);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a script the way the pool does (`/bin/sh -s`, script on stdin), in `cwd`, with HOME set. */
function sh(body: string, cwd = home, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('/bin/sh', ['-s'], {
    input: wrapScript(body),
    cwd,
    env: { PATH: process.env.PATH, HOME: home, ...env },
    encoding: 'utf8',
  });
  const out = afterBegin(r.stdout);
  if (out === undefined) throw new Error(`the script failed: ${r.stderr}`);
  return out;
}
/** No hostile value ran: no file `pwned` or `pwned-workdir` anywhere a script could have made one. */
const nothingPwned = () => {
  const pwned = (d: string, recursive: boolean) => readdirSync(d, { recursive }).filter((f) => /(^|\/)pwned(-workdir)?$/.test(String(f)));
  expect([...pwned(tmp, true), ...pwned(process.cwd(), false)]).toEqual([]);
};

describe('shellQuote', () => {
  test.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('%s reaches a program as itself', (_name, value) => {
    const r = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8', cwd: tmp });
    expect(r.stdout).toBe(value);
    nothingPwned();
  });

  test('all of them at once, as separate arguments', () => {
    const r = spawnSync('/bin/sh', ['-c', `for a in ${HOSTILE.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`], {
      encoding: 'utf8',
      cwd: tmp,
    });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
  });

  test('a NUL byte is refused, not truncated', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL byte/);
  });

  test('remote paths: ~ is the home, everything else literal', () => {
    expect(sh(`printf %s ${remotePath('~')}`)).toBe(home);
    expect(sh(`printf %s ${remotePath("~/a'b $(x)")}`)).toBe(`${home}/a'b $(x)`);
    expect(sh(`printf %s ${remotePath('~user/$(touch pwned)')}`)).toBe('~user/$(touch pwned)');
    nothingPwned();
  });
});

describe('lines and BEGIN', () => {
  test('what a login shell prints before BEGIN is dropped; lines are picked by key', () => {
    expect(afterBegin('motd\nA2A-DEPLOY-BEGIN\nK 1\nKEY 2\nK\n')).toBe('K 1\nKEY 2\nK\n');
    expect(afterBegin('no begin here')).toBeUndefined();
    expect(lines('K 1\nKEY 2\nK\n', 'K')).toEqual(['1', '']);
  });
});

/** A command agent with hostile arguments, environment and workdir. */
function hostileAgent(workdir: string, out: string): AgentPlan {
  return {
    id: 'echo',
    target: 'remote',
    port: 1,
    url: 'http://127.0.0.1:1',
    healthUrl: 'http://127.0.0.1:1/health',
    stage: 0,
    connectsTo: [],
    dependsOn: [],
    // The agent writes its argv (NUL-separated) and the environment values it got.
    run: {
      command: ['/bin/sh', '-c', `printf '%s\\0' "$@" > "$OUT"; printf '%s\\0' "$HOSTILE_1" "$HOSTILE_2" >> "$OUT"`, 'argv0'],
      args: HOSTILE,
    },
    env: { OUT: out, HOSTILE_1: HOSTILE[0], HOSTILE_2: HOSTILE[12] },
    health: { path: '/health', timeoutMs: 1000, intervalMs: 100 },
    restart: { policy: 'never', maxRestarts: 0, windowMs: 1, backoffMs: 1, maxBackoffMs: 1 },
    stopGraceMs: 1000,
    deployment: { host: '127.0.0.1', sshPort: 22, workdir, node: 'node', pull: 'if-not-present', volumes: [] },
    taskQueue: 'a2a-deploy',
    workerTimeoutMs: 1000,
    baseDir: tmp,
    specHash: `spec '$(touch pwned)'`,
  } as AgentPlan;
}

const SRV = 'scripts-ut-server';

describe('the agent scripts, run by a local sh', () => {
  test('start passes hostile argv and environment through untouched; status then reads how it ended', async () => {
    const workdir = join(tmp, `work dir 'q' $(touch pwned-workdir) \`touch pwned-workdir\``);
    mkdirSync(workdir);
    const out = join(tmp, 'argv.bin');
    const agent = hostileAgent(workdir, out);
    const started = sh(startScript('scripts-ut', agent, '2026-01-01T00:00:00.000Z', SRV, remoteEnvOf(agent, {})));
    expect(lines(started, 'A2A-DEPLOY-ERROR')).toEqual([]);
    const pid = Number(lines(started, 'A2A-DEPLOY-STARTED')[0]);
    expect(pid).toBeGreaterThan(0);
    expect(lines(started, 'A2A-DEPLOY-DIR')[0]).toBe(join(workdir, '.a2a-deploy', 'scripts-ut', 'echo'));
    // The wrapper records the exit once the agent is done.
    const exitFile = join(workdir, '.a2a-deploy', 'scripts-ut', 'echo', 'exit');
    for (let i = 0; i < 200 && !existsSync(exitFile); i++) await new Promise((r) => setTimeout(r, 25));
    expect(readFileSync(out, 'utf8').split('\0').slice(0, -1)).toEqual([...HOSTILE, HOSTILE[0], HOSTILE[12]]);
    const st = parseStatus(sh(statusScript('scripts-ut', SRV, [{ id: 'echo', pid, workdir }])));
    expect(st.get(pid)).toEqual({ status: 0 });
    // The pid file holds the quoted spec hash as it is.
    expect(readFileSync(join(workdir, '.a2a-deploy', 'scripts-ut', 'echo', 'agent.pid'), 'utf8')).toBe(
      `${pid} spec '$(touch pwned)' 2026-01-01T00:00:00.000Z\n`,
    );
    // Nothing runs any more: a stop finds nothing and removes the pid file.
    expect(lines(sh(stopScript('scripts-ut', agent, false, SRV)), 'A2A-DEPLOY-RUNNING')).toEqual([]);
    expect(existsSync(join(workdir, '.a2a-deploy', 'scripts-ut', 'echo', 'agent.pid'))).toBe(false);
    // Logs: the start line, read whole, as a tail, and from an offset.
    const log = sh(readLogScript('scripts-ut', agent, 'stderr', 5));
    const [size, ...text] = log.split('\n');
    expect(Number(size)).toBeGreaterThan(0);
    expect(text.join('\n')).toContain('--- a2a-deploy: starting echo at 2026-01-01T00:00:00.000Z');
    expect(sh(readLogScript('scripts-ut', agent, 'stderr', 5, Number(size)))).toBe(`${size}\n`);
    expect(sh(tailScript('scripts-ut', 'echo', workdir, 'stderr', 50))).toContain('--- a2a-deploy: starting echo');
    nothingPwned();
  });

  test('a missing workdir or command is reported, not run', () => {
    const missing = hostileAgent(join(tmp, "nope $(touch pwned) '"), join(tmp, 'x'));
    expect(lines(sh(startScript('scripts-ut', missing, 'now', SRV, remoteEnvOf(missing, {}))), 'A2A-DEPLOY-ERROR')[0]).toContain(
      'does not exist on the host',
    );
    const workdir = join(tmp, 'w2');
    mkdirSync(workdir);
    const noCommand = { ...hostileAgent(workdir, join(tmp, 'x')), run: { command: ['no-such-command $(touch pwned)'], args: [] } };
    expect(lines(sh(startScript('scripts-ut', noCommand, 'now', SRV, remoteEnvOf(noCommand, {}))), 'A2A-DEPLOY-ERROR')[0]).toContain(
      'not found on the host',
    );
    nothingPwned();
  });

  test("another server's agent of the same job and agent is neither found nor stopped", async () => {
    const workdir = join(tmp, 'w-servers');
    mkdirSync(workdir);
    const sleeper = { ...hostileAgent(workdir, join(tmp, 'x')), run: { command: ['sleep', '30'], args: [] } };
    const theirs = Number(
      lines(sh(startScript('scripts-ut', sleeper, 'now', 'another-install', remoteEnvOf(sleeper, {}))), 'A2A-DEPLOY-STARTED')[0],
    );
    try {
      expect(theirs).toBeGreaterThan(0);
      // Our stop finds nothing to stop, our status sees no agent of ours at that pid, our start starts one.
      expect(lines(sh(stopScript('scripts-ut', sleeper, false, SRV)), 'A2A-DEPLOY-RUNNING')).toEqual([]);
      expect(parseStatus(sh(statusScript('scripts-ut', SRV, [{ id: 'echo', pid: theirs, workdir }]))).get(theirs)).not.toBe('alive');
      const ours = sh(startScript('scripts-ut', sleeper, 'now', SRV, remoteEnvOf(sleeper, {})));
      expect(lines(ours, 'A2A-DEPLOY-RUNNING')).toEqual([]);
      const pid = Number(lines(ours, 'A2A-DEPLOY-STARTED')[0]);
      expect(pid).not.toBe(theirs);
      expect(lines(sh(stopScript('scripts-ut', sleeper, true, SRV)), 'A2A-DEPLOY-RUNNING')).toEqual([String(pid)]);
      expect(() => process.kill(theirs, 0)).not.toThrow();
    } finally {
      sh(stopScript('scripts-ut', sleeper, true, 'another-install'));
    }
  });

  test('status of a pid that never was an agent: gone, how unknown', () => {
    expect(parseStatus(sh(statusScript('scripts-ut', SRV, [{ id: 'ghost', pid: 999_999_99 }])))).toEqual(new Map([[999_999_99, {}]]));
  });
});

describe('secrets and a clean environment on the host', () => {
  test('the start script keeps the same base names of the login environment as the local runner', () => {
    // sh/lib.sh lists them as a case pattern (a pattern cannot come from a variable).
    const lib = readFileSync(join(__dirname, '../../src/activities/ssh/sh/lib.sh'), 'utf8');
    const kept = /case \$a2a_n in ([^)]+)\)/.exec(lib)?.[1].split('|');
    expect(kept?.sort()).toEqual([...BASE_NAMES, 'LC_*'].sort());
  });

  /** An agent that copies its own environment (cp is the agent: no shell in between). */
  const envAgent = (workdir: string, out: string, deployment: Partial<AgentPlan['deployment']> = {}, env: Record<string, string> = {}) => {
    const a = hostileAgent(workdir, out);
    return {
      ...a,
      run: { command: ['cp', '/proc/self/environ', out], args: [] },
      env,
      deployment: { ...a.deployment, ...deployment },
    } as AgentPlan;
  };
  const environ = (file: string) =>
    Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
  const waitFor = async (file: string) => {
    for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 25));
  };

  test('file: secrets are read on the host (one newline stripped), env: ones and inherit_env come from the worker; nothing else of the login env', async () => {
    const workdir = join(tmp, 'w-secrets');
    mkdirSync(join(workdir, 'keys'), { recursive: true });
    writeFileSync(join(workdir, 'keys', 'api'), 'file-value\n\n');
    writeFileSync(join(home, 'crlf.key'), `${HOSTILE[0]}\r\n`);
    const out = join(tmp, 'environ.bin');
    // Names the script itself uses: exported for the agent, they change nothing of how it runs.
    const agent = envAgent(
      workdir,
      out,
      { secrets: { API_KEY: 'file:keys/api', CRLF_KEY: 'file:~/crlf.key', DB: 'env:WORKER_DB' }, inheritEnv: ['NODE_OPTIONS'] },
      { PLAIN: 'p', D: '/nowhere', SETSID: 'x', MOD: 'y', IFS: 'z' },
    );
    const worker = { WORKER_DB: 'env-value', NODE_OPTIONS: '--x', TEMPORAL_API_KEY: 'worker-credential' };
    // The host's login environment: the base names survive, the rest does not.
    const login = { LANG: 'C.UTF-8', LC_ALL: 'C', SSH_CONNECTION: '1 2 3 4', A2A_DEPLOY_HOME: '/h', TEMPORAL_ADDRESS: 'x:1' };
    const started = sh(startScript('scripts-ut', agent, 'now', SRV, remoteEnvOf(agent, worker)), home, login);
    expect(lines(started, 'A2A-DEPLOY-ERROR')).toEqual([]);
    expect(lines(started, 'A2A-DEPLOY-STARTED')).toHaveLength(1);
    await waitFor(out);
    await new Promise((r) => setTimeout(r, 50)); // cp may still be writing
    const env = environ(out);
    expect(env).toMatchObject({
      API_KEY: 'file-value\n',
      CRLF_KEY: HOSTILE[0],
      DB: 'env-value',
      NODE_OPTIONS: '--x',
      PLAIN: 'p',
      D: '/nowhere',
    });
    expect(Object.keys(env).sort()).toEqual(
      [
        'A2A_DEPLOY_AGENT',
        'A2A_DEPLOY_SERVER',
        'A2A_DEPLOY_SPEC',
        'API_KEY',
        'CRLF_KEY',
        'D',
        'DB',
        'HOME',
        'IFS',
        'LANG',
        'LC_ALL',
        'MOD',
        'NODE_OPTIONS',
        'PATH',
        'PLAIN',
        'SETSID',
      ].sort(),
    );
    // The scrubber's read of the same files: hex over the connection, decoded on the worker.
    const dumped = lines(
      sh(secretFilesScript(workdir, { API_KEY: 'keys/api', CRLF_KEY: '~/crlf.key', GONE: 'nope' })),
      'A2A-DEPLOY-SECRET',
    );
    expect(dumped.map((l) => [l.split(' ')[0], Buffer.from(l.split(' ')[1], 'hex').toString()])).toEqual([
      ['API_KEY', 'file-value\n\n'],
      ['CRLF_KEY', `${HOSTILE[0]}\r\n`],
    ]);
    nothingPwned();
  });

  test("the values a start was given are kept on the host (0600), beside earlier starts', and read back after the file changed or went away", async () => {
    const workdir = join(tmp, 'w-given');
    mkdirSync(join(workdir, 'keys'), { recursive: true });
    writeFileSync(join(workdir, 'keys', 'api'), 'given-v1\n');
    const agent = envAgent(workdir, join(tmp, 'given-environ.bin'), { secrets: { API_KEY: 'file:keys/api', DB: 'env:WORKER_DB' } });
    const start = (workerDb: string) => sh(startScript('scripts-ut', agent, 'now', SRV, remoteEnvOf(agent, { WORKER_DB: workerDb })));
    expect(lines(start('env-v1'), 'A2A-DEPLOY-STARTED')).toHaveLength(1);
    const kept = join(workdir, '.a2a-deploy', 'scripts-ut', 'echo', 'agent.secrets');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    const read = () => {
      const out = sh(secretFilesScript(workdir, { API_KEY: 'keys/api' }, { job: 'scripts-ut', agent: 'echo' }));
      const hex = (l: string) => Buffer.from(l.split(' ').at(-1)!, 'hex').toString();
      return { given: lines(out, 'A2A-DEPLOY-GIVEN').map(hex), now: lines(out, 'A2A-DEPLOY-SECRET').map(hex) };
    };
    expect(read()).toEqual({ given: ['env-v1', 'given-v1'], now: ['given-v1\n'] });
    writeFileSync(join(workdir, 'keys', 'api'), 'rotated-v2\n');
    expect(read()).toEqual({ given: ['env-v1', 'given-v1'], now: ['rotated-v2\n'] });
    // Started again with the rotated file: the first start's values stay (its output is in the logs).
    await new Promise((r) => setTimeout(r, 200)); // the first copy (cp) is done
    expect(lines(start('env-v1'), 'A2A-DEPLOY-STARTED')).toHaveLength(1);
    rmSync(join(workdir, 'keys', 'api'));
    expect(read()).toEqual({ given: ['env-v1', 'given-v1', 'rotated-v2'], now: [] });
    // Nothing kept for an agent never started here, and a missing workdir is no error.
    expect(lines(sh(secretFilesScript(join(tmp, 'nowhere'), {}, { job: 'scripts-ut', agent: 'other' })), 'A2A-DEPLOY-GIVEN')).toEqual([]);
  });

  test('the SSH runner scrubs logs of the value an agent was given after its file: source on the host changed or went away', async () => {
    const workdir = join(tmp, 'w-runner');
    mkdirSync(join(workdir, 'keys'), { recursive: true });
    writeFileSync(join(workdir, 'keys', 'api'), 'host-given-7f3a\n');
    // The pool, played by a local sh as the host would run each script.
    const pool = { run: async (_d: unknown, _b: unknown, body: string) => ({ code: 0, stdout: sh(body), stderr: '' }) };
    const runner = createSshRunner({ pool: pool as never, serverMarker: SRV });
    const agent = {
      ...envAgent(workdir, join(tmp, 'unused'), { secrets: { API_KEY: 'file:keys/api' } }),
      run: { command: ['/bin/sh', '-c', 'echo "key=$API_KEY"; echo "err=$API_KEY" >&2'], args: [] },
    } as AgentPlan;
    await runner.startAgent({ job: 'scripts-run', agent });
    const log = join(workdir, '.a2a-deploy', 'scripts-run', 'echo', 'stdout.log');
    for (let i = 0; i < 200 && !(existsSync(log) && readFileSync(log, 'utf8').includes('key=')); i++)
      await new Promise((r) => setTimeout(r, 25));
    writeFileSync(join(workdir, 'keys', 'api'), 'host-rotated-19c0\n');
    const rotated = await runner.readLogs({ job: 'scripts-run', agent, tail: 10 });
    rmSync(join(workdir, 'keys', 'api'));
    const removed = await runner.readLogs({ job: 'scripts-run', agent, tail: 10 });
    for (const chunk of [rotated, removed]) {
      expect(chunk.stdout).toContain('key=[secret]');
      expect(chunk.stderr).toContain('err=[secret]');
      expect(chunk.stdout + chunk.stderr).not.toContain('host-given-7f3a');
    }
  });

  test('an unreadable file: secret ends the start before anything is found, stopped or started', () => {
    const workdir = join(tmp, 'w-nosecret');
    mkdirSync(workdir);
    const agent = envAgent(workdir, join(tmp, 'never'), { secrets: { API_KEY: 'file:missing $(touch pwned)' } });
    const out = sh(startScript('scripts-ut', agent, 'now', SRV, remoteEnvOf(agent, {})));
    expect(lines(out, 'A2A-DEPLOY-SECRET-ERROR')).toEqual(['API_KEY no such file']);
    expect(lines(out, 'A2A-DEPLOY-STARTED')).toEqual([]);
    expect(existsSync(join(workdir, '.a2a-deploy', 'scripts-ut', 'echo', 'stderr.log'))).toBe(false);
    nothingPwned();
  });
});

describe('how an agent ended, in words', () => {
  test('exit codes and signals', () => {
    expect(describeEnd(undefined)).toBe('exited');
    expect(describeEnd({ status: 3 })).toBe('exited with code 3');
    expect(describeEnd({ status: 137 })).toBe('was killed by SIGKILL');
    expect(describeEnd({ status: 143 })).toBe('was killed by SIGTERM');
  });
});

describe('resource limits on the host (a plain folder laid out as a cgroup v1 tree, A2A_CGROUP_ROOT)', () => {
  const limitedAgent = (workdir: string, out: string, deployment: Partial<AgentPlan['deployment']>) => {
    const a = hostileAgent(workdir, out);
    return {
      ...a,
      run: { command: ['/bin/sh', '-c', 'cat /proc/self/cgroup > "$OUT"'], args: [] },
      deployment: { ...a.deployment, ...deployment },
    };
  };
  const withRoot = <T>(root: string, fn: () => T): T => {
    process.env.A2A_CGROUP_ROOT = root;
    try {
      return fn();
    } finally {
      delete process.env.A2A_CGROUP_ROOT;
    }
  };

  test('the groups are made with the limits, and the wrapper is in them before the agent starts', async () => {
    const root = join(tmp, 'cg-v1');
    for (const h of ['cpu,cpuacct', 'memory', 'pids']) {
      mkdirSync(join(root, h), { recursive: true });
      writeFileSync(join(root, h, 'cgroup.procs'), '');
    }
    const workdir = join(tmp, 'limited');
    mkdirSync(workdir);
    const out = join(tmp, 'limited.out');
    const agent = limitedAgent(workdir, out, { memory: '64m', cpus: 0.5, pids: 32 });
    const started = withRoot(root, () => sh(startScript('scripts-ut', agent, '2026-01-01T00:00:00.000Z', SRV, remoteEnvOf(agent, {}))));
    expect(lines(started, 'A2A-DEPLOY-ERROR')).toEqual([]);
    const pid = Number(lines(started, 'A2A-DEPLOY-STARTED')[0]);
    for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 25));
    const group = (h: string) => join(root, h, 'a2a-deploy', serverKey(SRV), 'scripts-ut.echo');
    expect(readFileSync(join(group('memory'), 'memory.limit_in_bytes'), 'utf8')).toBe(`${64 * 2 ** 20}\n`);
    expect(readFileSync(join(group('cpu,cpuacct'), 'cpu.cfs_quota_us'), 'utf8')).toBe('50000\n');
    expect(readFileSync(join(group('pids'), 'pids.max'), 'utf8')).toBe('32\n');
    // The wrapper (the process whose pid start printed, the agent's parent) wrote itself to each.
    for (const h of ['cpu,cpuacct', 'memory', 'pids']) expect(readFileSync(join(group(h), 'cgroup.procs'), 'utf8')).toBe(`${pid}\n`);
    // An out-of-memory kill its group counted: status reads it, and the words are the local runner's.
    writeFileSync(join(group('memory'), 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    writeFileSync(join(group('memory'), 'memory.max_usage_in_bytes'), String(64 * 2 ** 20));
    const exitFile = join(workdir, '.a2a-deploy', 'scripts-ut', 'echo', 'exit');
    for (let i = 0; i < 200 && !existsSync(exitFile); i++) await new Promise((r) => setTimeout(r, 25));
    const st = withRoot(root, () => parseStatus(sh(statusScript('scripts-ut', SRV, [{ id: 'echo', pid, workdir, limited: true }]))));
    expect(describeEnd(st.get(pid) as never)).toBe('killed: out of memory (limit 64m, peak 64m)');
  });

  test("the usage read on the host is parsed as the worker's own", () => {
    const root = join(tmp, 'cg-v1');
    const group = (h: string) => join(root, h, 'a2a-deploy', serverKey(SRV), 'scripts-ut.echo');
    writeFileSync(join(group('memory'), 'memory.usage_in_bytes'), `${5 * 2 ** 20}\n`);
    writeFileSync(join(group('cpu,cpuacct'), 'cpuacct.usage'), '2500000000\n');
    writeFileSync(join(group('cpu,cpuacct'), 'cpu.stat'), 'nr_periods 9\nnr_throttled 3\nthrottled_time 150000000\n');
    writeFileSync(join(group('pids'), 'pids.current'), '4\n');
    const u = withRoot(root, () => parseUsage(sh(usageScript(SRV, 'scripts-ut', 'echo'))));
    expect(u).toEqual({
      mechanism: 'cgroup v1',
      memoryBytes: 5 * 2 ** 20,
      memoryPeakBytes: 64 * 2 ** 20,
      memoryLimitBytes: 64 * 2 ** 20,
      cpuSeconds: 2.5,
      throttledPeriods: 3,
      throttledSeconds: 0.15,
      oomKills: 1,
      pids: 4,
    });
    expect(withRoot(root, () => parseUsage(sh(usageScript(SRV, 'scripts-ut', 'other'))))).toEqual(undefined);
  });

  test('a host without a cgroup tree refuses the start with the reason, before anything runs', () => {
    const workdir = join(tmp, 'refused');
    mkdirSync(workdir);
    const agent = limitedAgent(workdir, join(tmp, 'refused.out'), { memory: '64m' });
    const out = withRoot(join(tmp, 'no-tree'), () =>
      sh(startScript('scripts-ut', agent, '2026-01-01T00:00:00.000Z', SRV, remoteEnvOf(agent, {}))),
    );
    expect(lines(out, 'A2A-DEPLOY-ERROR')[0]).toBe(
      `there is no cgroup tree at ${join(tmp, 'no-tree')} on the host (resource limits need a writable cgroup tree for the remote user: root with cgroup v1 (memory, cpu, pids mounted), or cgroup v2 with those controllers delegated)`,
    );
    expect(lines(out, 'A2A-DEPLOY-STARTED')).toEqual([]);
    expect(existsSync(join(tmp, 'refused.out'))).toBe(false);
  });

  test('an agent without limits is started as before: no group, no join', () => {
    expect(startScript('scripts-ut', hostileAgent(tmp, join(tmp, 'x')), 'now', SRV, { values: {}, files: {} })).not.toContain('a2a_cgroup');
  });
});
