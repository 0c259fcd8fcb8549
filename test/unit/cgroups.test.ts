// The cgroup logic without the kernel: detection of v1 and v2 trees (plain folders laid out as
// the kernel lays them), the files and values each limit writes, the groups' names and their
// removal, usage and out-of-memory words, and the join wrapper's quoting (a real /bin/sh).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cgroupLayout,
  forgetLayout,
  groupDirs,
  joinArgv,
  keyed,
  leafName,
  limitFiles,
  listGroups,
  oomWords,
  parseLeaf,
  prepareGroup,
  readUsage,
  removeGroup,
  serverKey,
  v1Mounts,
  v2Candidates,
} from '../../src/process/cgroups';
import { limitedArgv, limitsOf } from '../../src/activities/limits';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-cgroups-'));
  forgetLayout();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const touch = (p: string, text = '') => {
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
};

function v1Tree(root: string, names = ['cpu,cpuacct', 'memory', 'pids', 'blkio']) {
  for (const n of names) {
    mkdirSync(join(root, n), { recursive: true });
    touch(join(root, n, 'cgroup.procs'));
  }
}

test('the limits of a deployment: units as the job file writes them', () => {
  expect(limitsOf({ memory: '256m', cpus: 0.5, pids: 64 })).toEqual({ memoryBytes: 256 * 2 ** 20, cpus: 0.5, pids: 64 });
  expect(limitsOf({ memory: '1g' })).toEqual({ memoryBytes: 2 ** 30 });
  expect(limitsOf({})).toEqual({});
});

test('each limit is written to its file, as v1 and v2 name them', () => {
  const l = { memoryBytes: 256 * 2 ** 20, cpus: 0.5, pids: 64 };
  expect(limitFiles(1, l).map((f) => `${f.controller}/${f.file}=${f.value}`)).toEqual([
    'memory/memory.limit_in_bytes=268435456',
    'memory/memory.memsw.limit_in_bytes=268435456',
    'cpu/cpu.cfs_period_us=100000',
    'cpu/cpu.cfs_quota_us=50000',
    'pids/pids.max=64',
  ]);
  expect(limitFiles(2, l).map((f) => `${f.file}=${f.value}`)).toEqual([
    'memory.max=268435456',
    'memory.swap.max=0',
    'cpu.max=50000 100000',
    'pids.max=64',
  ]);
  // The kernel's smallest quota is 1 ms.
  expect(limitFiles(2, { cpus: 0.001 })).toEqual([{ controller: 'cpu', file: 'cpu.max', value: '1000 100000' }]);
});

test('groups are named from the server, job and agent: two servers never share one', () => {
  expect(serverKey('127.0.0.1:7233/default/abc')).toMatch(/^s-[0-9a-f]{12}$/);
  expect(serverKey('127.0.0.1:7233/default/abc')).not.toBe(serverKey('127.0.0.1:7233/default/abd'));
  expect(leafName('a-b', 'c')).not.toBe(leafName('a', 'b-c'));
  expect(parseLeaf(leafName('a-b', 'c'))).toEqual({ job: 'a-b', agent: 'c' });
  expect(parseLeaf('not-a-leaf')).toBeUndefined();
  expect(parseLeaf('../x.y')).toBeUndefined();
});

test('v1 mounts: a controller is found in a shared hierarchy (cpu,cpuacct) or its own', () => {
  expect(v1Mounts('/r', ['cpu,cpuacct', 'cpu', 'cpuacct', 'memory', 'pids', 'systemd'])).toEqual({
    cpu: '/r/cpu,cpuacct',
    cpuacct: '/r/cpu,cpuacct',
    memory: '/r/memory',
    pids: '/r/pids',
  });
  expect(v1Mounts('/r', ['cpu', 'cpuacct', 'memory'])).toEqual({ cpu: '/r/cpu', cpuacct: '/r/cpuacct', memory: '/r/memory' });
});

test('v2: the root, else the parent of the worker own group (a delegated subtree)', () => {
  expect(v2Candidates('/sys/fs/cgroup', '/')).toEqual(['/sys/fs/cgroup']);
  expect(v2Candidates('/sys/fs/cgroup', '/user.slice/user-1000.slice/user@1000.service/app.slice/run-1.scope')).toEqual([
    '/sys/fs/cgroup',
    '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice',
  ]);
});

test('no tree, or a tree without the controllers: detection says why, with a hint', () => {
  const gone = cgroupLayout(join(dir, 'nothing'));
  expect(gone).toMatchObject({ version: 0, reason: expect.stringContaining('there is no cgroup tree at') });
  expect((gone as { hint: string }).hint).toContain('run the worker as root');
  mkdirSync(join(dir, 'empty'));
  expect(cgroupLayout(join(dir, 'empty'))).toMatchObject({
    version: 0,
    reason: expect.stringContaining('no cgroup hierarchy for memory, cpu or pids'),
  });
});

test('a v1 tree that is not writable is refused', () => {
  if (process.getuid?.() === 0) return; // root writes anywhere: the integration test shows this on a read-only mount
  v1Tree(dir);
  for (const n of ['cpu,cpuacct', 'memory', 'pids']) chmodSync(join(dir, n), 0o555);
  expect(cgroupLayout(dir)).toMatchObject({ version: 0, reason: expect.stringContaining('is not writable') });
});

test('v1: a group per hierarchy, limits written, joined by the wrapper, listed, then removed', async () => {
  v1Tree(dir);
  const layout = cgroupLayout(dir);
  expect(layout).toMatchObject({ version: 1, real: false });
  const procs = await prepareGroup(layout, 'srv', 'job', 'hog', { memoryBytes: 2 ** 20 * 64, cpus: 0.25, pids: 32 });
  const base = (h: string) => join(dir, h, 'a2a-deploy', serverKey('srv'), 'job.hog');
  expect(procs.sort()).toEqual([base('cpu,cpuacct'), base('memory'), base('pids')].map((d) => join(d, 'cgroup.procs')).sort());
  expect(readFileSync(join(base('memory'), 'memory.limit_in_bytes'), 'utf8')).toBe(String(64 * 2 ** 20));
  expect(readFileSync(join(base('cpu,cpuacct'), 'cpu.cfs_quota_us'), 'utf8')).toBe('25000');
  expect(readFileSync(join(base('pids'), 'pids.max'), 'utf8')).toBe('32');
  // The wrapper writes its own pid to each file, then becomes the program.
  const r = spawnSync(joinArgv(procs, ['/bin/echo', 'hello'])[0], joinArgv(procs, ['/bin/echo', 'hello']).slice(1), { encoding: 'utf8' });
  expect(r.stdout).toBe('hello\n');
  for (const p of procs) expect(readFileSync(p, 'utf8').trim()).toBe(String(r.pid));
  expect(listGroups(layout, 'srv')).toEqual([{ job: 'job', agent: 'hog' }]);
  expect(listGroups(layout, 'other-server')).toEqual([]);
  expect(await removeGroup(layout, 'srv', 'job', 'hog')).toBe(true);
  for (const d of groupDirs(layout, 'srv', 'job', 'hog')) expect(existsSync(d)).toBe(false);
  expect(listGroups(layout, 'srv')).toEqual([]);
});

test('v1 without a pids hierarchy: an agent asking for pids is refused, one asking for memory is not', async () => {
  v1Tree(dir, ['cpu', 'memory']);
  const layout = cgroupLayout(dir);
  await expect(prepareGroup(layout, 's', 'j', 'a', { pids: 10 })).rejects.toThrow('no writable pids controller (cgroup v1)');
  await expect(prepareGroup(layout, 's', 'j', 'a', { memoryBytes: 2 ** 26 })).resolves.toHaveLength(2);
});

test('v2: controllers enabled level by level, one group, the limits in its files', async () => {
  touch(join(dir, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma\n');
  touch(join(dir, 'cgroup.subtree_control'), '');
  const layout = cgroupLayout(dir);
  expect(layout).toMatchObject({ version: 2, base: dir, controllers: ['cpu', 'memory', 'pids'] });
  expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
  const procs = await prepareGroup(layout, 'srv', 'job', 'a', { memoryBytes: 2 ** 28, cpus: 1.5, pids: 100 });
  const leaf = join(dir, 'a2a-deploy', serverKey('srv'), 'job.a');
  expect(procs).toEqual([join(leaf, 'cgroup.procs')]);
  expect(readFileSync(join(leaf, 'cpu.max'), 'utf8')).toBe('150000 100000');
  expect(readFileSync(join(leaf, 'memory.max'), 'utf8')).toBe(String(2 ** 28));
  expect(readFileSync(join(dir, 'a2a-deploy', serverKey('srv'), 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
});

test('v2 usage and an out-of-memory kill, read from memory.events, memory.peak and cpu.stat', () => {
  touch(join(dir, 'cgroup.controllers'), 'cpu memory pids');
  touch(join(dir, 'cgroup.subtree_control'), 'cpu memory pids');
  const layout = cgroupLayout(dir);
  const leaf = join(dir, 'a2a-deploy', serverKey('s'), 'j.a');
  touch(join(leaf, 'memory.current'), '1048576\n');
  touch(join(leaf, 'memory.peak'), String(255 * 2 ** 20));
  touch(join(leaf, 'memory.max'), String(256 * 2 ** 20));
  touch(join(leaf, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n');
  touch(
    join(leaf, 'cpu.stat'),
    'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 50\nnr_throttled 7\nthrottled_usec 350000\n',
  );
  touch(join(leaf, 'pids.current'), '3\n');
  const u = readUsage(layout, 's', 'j', 'a')!;
  expect(u).toEqual({
    mechanism: 'cgroup v2',
    memoryBytes: 1048576,
    memoryPeakBytes: 255 * 2 ** 20,
    memoryLimitBytes: 256 * 2 ** 20,
    cpuSeconds: 2.5,
    throttledPeriods: 7,
    throttledSeconds: 0.35,
    oomKills: 1,
    pids: 3,
  });
  expect(oomWords(u)).toBe('killed: out of memory (limit 256m, peak 255m)');
  touch(join(leaf, 'memory.max'), 'max\n');
  expect(readUsage(layout, 's', 'j', 'a')!.memoryLimitBytes).toBeUndefined();
});

test('v1 usage: oom_control, max_usage_in_bytes, cpuacct.usage, cpu.stat throttling', () => {
  v1Tree(dir, ['cpu', 'cpuacct', 'memory', 'pids']);
  const layout = cgroupLayout(dir);
  const at = (h: string, f: string, text: string) => touch(join(dir, h, 'a2a-deploy', serverKey('s'), 'j.a', f), text);
  at('memory', 'memory.usage_in_bytes', '2097152\n');
  at('memory', 'memory.max_usage_in_bytes', String(1024 ** 3 + 1));
  at('memory', 'memory.limit_in_bytes', String(2 ** 30));
  at('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  at('cpuacct', 'cpuacct.usage', '1500000000\n');
  at('cpu', 'cpu.stat', 'nr_periods 10\nnr_throttled 4\nthrottled_time 200000000\n');
  expect(readUsage(layout, 's', 'j', 'a')).toEqual({
    mechanism: 'cgroup v1',
    memoryBytes: 2097152,
    memoryPeakBytes: 1024 ** 3 + 1,
    memoryLimitBytes: 2 ** 30,
    cpuSeconds: 1.5,
    throttledPeriods: 4,
    throttledSeconds: 0.2,
    oomKills: 2,
  });
  // v1's "no limit" is a huge number, not a limit.
  at('memory', 'memory.limit_in_bytes', '9223372036854771712');
  expect(readUsage(layout, 's', 'j', 'a')!.memoryLimitBytes).toBeUndefined();
  expect(readUsage(layout, 's', 'j', 'other')).toBeUndefined();
  expect(oomWords({ memoryLimitBytes: 2 ** 30, memoryPeakBytes: 2 ** 30 })).toBe('killed: out of memory (limit 1g, peak 1g)');
  expect(oomWords({})).toBe('killed: out of memory');
  expect(keyed('a 1\nb 22\n', 'b')).toBe(22);
});

test('the join wrapper passes hostile paths and arguments through untouched: none is shell text', () => {
  const odd = join(dir, 'it\'s $(touch pwned) `x` "q" ;|&');
  mkdirSync(odd);
  const procs = [join(odd, 'cgroup.procs')];
  const args = ['$(touch pwned2)', "'; rm -rf / #", '*', '', 'a b', '-n'];
  const [cmd, ...rest] = joinArgv(procs, ['/usr/bin/printf', '[%s]', ...args]);
  const r = spawnSync(cmd, rest, { encoding: 'utf8', cwd: dir });
  expect(r.stdout).toBe(args.map((a) => `[${a}]`).join(''));
  expect(readFileSync(procs[0], 'utf8').trim()).toBe(String(r.pid));
  expect(existsSync(join(dir, 'pwned'))).toBe(false);
  expect(existsSync(join(dir, 'pwned2'))).toBe(false);
});

test('a group that cannot be joined: the program never runs, the wrapper exits 125 and says why', () => {
  const [cmd, ...rest] = joinArgv([join(dir, 'no', 'such', 'cgroup.procs')], ['/bin/echo', 'ran']);
  const r = spawnSync(cmd, rest, { encoding: 'utf8' });
  expect(r.status).toBe(125);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain('a2a-deploy: cannot join the cgroup');
});

describe('limitedArgv: what the local runner spawns for an agent with limits', () => {
  const ids = { server: 'srv', job: 'job', agent: 'a' };
  afterEach(() => {
    delete process.env.A2A_CGROUP_ROOT;
    forgetLayout();
  });

  test('with limits: the join wrapper around the argv, in the groups it made', async () => {
    v1Tree(dir);
    process.env.A2A_CGROUP_ROOT = dir;
    const r = await limitedArgv(ids, { memoryBytes: 2 ** 27 }, ['/bin/echo', 'x'], { PATH: '/usr/bin:/bin' }, dir);
    expect(r.mechanism).toBe('cgroup v1');
    expect(r.argv.slice(0, 5)).toEqual(['/bin/sh', '-c', r.argv[2], 'a2a-cgroup-join', '3']);
    expect(r.argv.slice(-2)).toEqual(['/bin/echo', 'x']);
  });

  test('without limits: the argv as it is, and no tree is looked at', async () => {
    process.env.A2A_CGROUP_ROOT = join(dir, 'nothing');
    expect(await limitedArgv(ids, {}, ['/bin/echo'], {}, dir)).toEqual({ argv: ['/bin/echo'] });
  });

  test('no tree: refused at once, non-retryable, with the reason and the hint', async () => {
    process.env.A2A_CGROUP_ROOT = join(dir, 'nothing');
    await expect(limitedArgv(ids, { pids: 10 }, ['/bin/echo'], {}, dir)).rejects.toMatchObject({
      nonRetryable: true,
      type: 'AgentLimitsError',
      message: expect.stringMatching(
        /^agent 'a' cannot be started with its limits: there is no cgroup tree at .*nothing \(hint: run the worker as root/,
      ),
    });
  });

  test('a command that is not there is named (the wrapper would only exit 127)', async () => {
    v1Tree(dir);
    process.env.A2A_CGROUP_ROOT = dir;
    await expect(limitedArgv(ids, { cpus: 1 }, ['no-such-program-here'], { PATH: '/usr/bin:/bin' }, dir)).rejects.toMatchObject({
      nonRetryable: true,
      message: `agent 'a' cannot be started: command "no-such-program-here" not found or not executable (looked in PATH, from ${dir})`,
    });
  });
});
