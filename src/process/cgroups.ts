// Resource limits for processes on this machine, through the kernel's cgroups: one group per
// agent, under a2a-deploy's own subtree, named from the job, the agent and the server identity
// (the same identity as the markers, activities/markers.ts), so two installations on one machine
// never touch each other's groups:
//   v1 (one hierarchy per controller): <mount of each controller>/a2a-deploy/<server key>/<job>.<agent>
//   v2 (unified, controllers delegated):  <base>/a2a-deploy/<server key>/<job>.<agent>
// A process is placed in its groups by the join wrapper (joinArgv) BEFORE its first instruction:
// moving it after the start would let a fork in between escape. Where no writable tree with the
// needed controllers exists, detection says why, and the caller refuses: a limit is never ignored.
//
// The root is /sys/fs/cgroup unless A2A_CGROUP_ROOT names another (a test hook: a folder without
// cgroups, or an unwritable one, shows the refusal; a plain folder laid out like a tree lets the
// logic run without the kernel).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Controller = 'memory' | 'cpu' | 'cpuacct' | 'pids';

/** What an agent may use; absent: not limited. */
export interface Limits {
  memoryBytes?: number;
  /** cores, e.g. 0.5 */
  cpus?: number;
  /** processes and threads */
  pids?: number;
}

export type CgroupLayout =
  | { version: 1; /** the mount folder of each controller found */ mounts: Partial<Record<Controller, string>>; real: boolean }
  | { version: 2; /** the folder a2a-deploy/ is made in */ base: string; controllers: Controller[]; real: boolean }
  | { version: 0; reason: string; hint: string };

/** Why a group cannot be had, in words, with what to do. */
export class CgroupError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export const SUBTREE = 'a2a-deploy';
const CGROUP_MAGIC = [0x27e0eb, 0x63677270]; // cgroup v1, cgroup2 (statfs f_type)
const CFS_PERIOD_US = 100_000;

export const cgroupRoot = (env: NodeJS.ProcessEnv = process.env) => env.A2A_CGROUP_ROOT || '/sys/fs/cgroup';

/** The folder name of a server's groups: a hash of its marker (which holds '/' and ':'). */
export const serverKey = (server: string) => `s-${createHash('sha256').update(server).digest('hex').slice(0, 12)}`;
/** An agent's leaf name: ids are lowercase letters, digits and '-', so '.' cannot be inside either. */
export const leafName = (job: string, agent: string) => `${job}.${agent}`;
export function parseLeaf(name: string): { job: string; agent: string } | undefined {
  const m = /^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$/.exec(name);
  return m ? { job: m[1], agent: m[2] } : undefined;
}

/** The controllers a set of limits needs (cpuacct is for usage only, and optional). */
export function neededControllers(l: Limits): Controller[] {
  return [
    ...(l.memoryBytes !== undefined ? ['memory' as const] : []),
    ...(l.cpus !== undefined ? ['cpu' as const] : []),
    ...(l.pids !== undefined ? ['pids' as const] : []),
  ];
}

export const hasLimits = (l: Limits | undefined): l is Limits =>
  !!l && (l.memoryBytes !== undefined || l.cpus !== undefined || l.pids !== undefined);

const isRealCgroupFs = (dir: string) => {
  try {
    return CGROUP_MAGIC.includes(Number(statfsSync(dir).type));
  } catch {
    return false;
  }
};

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** v1 mounts under root: folders named by their controllers ('cpu', 'cpu,cpuacct', 'memory', 'pids'). */
export function v1Mounts(root: string, entries: string[]): Partial<Record<Controller, string>> {
  const mounts: Partial<Record<Controller, string>> = {};
  for (const name of [...entries].sort((a, b) => b.length - a.length)) {
    for (const c of name.split(',')) {
      if (['memory', 'cpu', 'cpuacct', 'pids'].includes(c) && !mounts[c as Controller]) mounts[c as Controller] = join(root, name);
    }
  }
  return mounts;
}

/** The folders a v2 subtree may go in: the root (as root, with no systemd), else the parent of this process's own group (a delegated subtree). */
export function v2Candidates(root: string, ownGroup: string | undefined): string[] {
  const out = [root];
  if (ownGroup && ownGroup !== '/') {
    const parent = dirname(ownGroup);
    if (parent !== '/') out.push(join(root, parent));
  }
  return out;
}

/** This process's v2 group (the "0::" line of /proc/self/cgroup). */
function ownV2Group(): string | undefined {
  return /^0::(.*)$/m.exec(read('/proc/self/cgroup') ?? '')?.[1];
}

const none = (reason: string, hint: string): CgroupLayout => ({ version: 0, reason, hint });
const NO_TREE_HINT =
  'run the worker as root on a host with cgroup v1 (memory, cpu, pids mounted) or cgroup v2 with those controllers delegated to it; or remove cpus, memory and pids from the agent';

/** What this machine offers; cached per root, as it does not change while a worker runs. */
const cache = new Map<string, CgroupLayout>();
export function cgroupLayout(root = cgroupRoot()): CgroupLayout {
  let layout = cache.get(root);
  if (!layout) cache.set(root, (layout = detect(root)));
  return layout;
}
/** What was detected already in this process, without detecting (undefined: nothing asked for limits yet). */
export const knownLayout = (root = cgroupRoot()): CgroupLayout | undefined => cache.get(root);
/** Forgets what was detected (tests that change A2A_CGROUP_ROOT's tree). */
export const forgetLayout = () => cache.clear();

function detect(root: string): CgroupLayout {
  if (!existsSync(root)) return none(`there is no cgroup tree at ${root}`, NO_TREE_HINT);
  if (existsSync(join(root, 'cgroup.controllers'))) return detectV2(root);
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (err) {
    return none(`the cgroup tree at ${root} cannot be read (${(err as NodeJS.ErrnoException).code})`, NO_TREE_HINT);
  }
  const mounts = v1Mounts(root, entries);
  if (!mounts.memory && !mounts.cpu && !mounts.pids) {
    if (entries.includes('unified') && existsSync(join(root, 'unified', 'cgroup.controllers'))) return detectV2(join(root, 'unified'));
    return none(`no cgroup hierarchy for memory, cpu or pids is mounted under ${root}`, NO_TREE_HINT);
  }
  // Writable: a2a-deploy's own folder can be made in each hierarchy found.
  for (const [c, dir] of Object.entries(mounts)) {
    try {
      mkdirSync(join(dir, SUBTREE), { recursive: true });
    } catch (err) {
      delete mounts[c as Controller];
      if (Object.keys(mounts).length === 0)
        return none(`the cgroup tree at ${root} is not writable (${(err as NodeJS.ErrnoException).code} on ${dir})`, NO_TREE_HINT);
    }
  }
  // cpu and cpuacct mounted together are one folder: dedupe by real path.
  return { version: 1, mounts, real: isRealCgroupFs(Object.values(mounts)[0]!) };
}

function detectV2(root: string): CgroupLayout {
  const wanted: Controller[] = ['memory', 'cpu', 'pids'];
  let lastReason = `cgroup v2 at ${root} delegates none of memory, cpu, pids to this user`;
  for (const base of v2Candidates(root, ownV2Group())) {
    const available = (read(join(base, 'cgroup.controllers')) ?? '')
      .split(/\s+/)
      .filter((c): c is Controller => wanted.includes(c as Controller));
    if (available.length === 0) continue;
    try {
      mkdirSync(join(base, SUBTREE), { recursive: true });
      enableControllers(base, available);
      enableControllers(join(base, SUBTREE), available);
      return { version: 2, base, controllers: available, real: isRealCgroupFs(base) };
    } catch (err) {
      lastReason = `cgroup v2 at ${base} is not writable here (${(err as NodeJS.ErrnoException).code})`;
    }
  }
  return none(lastReason, NO_TREE_HINT);
}

/** v2: the children of `dir` get these controllers (each level enables them for the next). */
function enableControllers(dir: string, controllers: Controller[]) {
  const on = (read(join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
  const missing = controllers.filter((c) => !on.includes(c));
  if (missing.length) writeFileSync(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
}

/** The controllers a layout offers. */
export const offered = (layout: CgroupLayout): Controller[] =>
  layout.version === 1 ? (Object.keys(layout.mounts) as Controller[]) : layout.version === 2 ? layout.controllers : [];

/** In words, for `status`: which mechanism holds the agent. */
export const mechanismOf = (layout: CgroupLayout) => (layout.version === 0 ? 'none' : `cgroup v${layout.version}`);

/** The server's folder in each hierarchy (one for v2). */
function serverDirs(layout: CgroupLayout, server: string): string[] {
  if (layout.version === 2) return [join(layout.base, SUBTREE, serverKey(server))];
  if (layout.version === 1)
    return [...new Set(Object.values(layout.mounts).map((m) => realpathOr(m)))].map((m) => join(m, SUBTREE, serverKey(server)));
  return [];
}

const realpathOr = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** An agent's group folders: one per hierarchy (v1), or the one (v2). */
export const groupDirs = (layout: CgroupLayout, server: string, job: string, agent: string) =>
  serverDirs(layout, server).map((d) => join(d, leafName(job, agent)));

/** The folder of a controller's files for an agent (v1: that controller's hierarchy). */
function dirFor(layout: CgroupLayout, c: Controller, server: string, job: string, agent: string): string | undefined {
  if (layout.version === 2)
    return layout.controllers.includes(c) || c === 'cpuacct'
      ? join(layout.base, SUBTREE, serverKey(server), leafName(job, agent))
      : undefined;
  if (layout.version === 1 && layout.mounts[c])
    return join(realpathOr(layout.mounts[c]!), SUBTREE, serverKey(server), leafName(job, agent));
  return undefined;
}

/** The files each limit is written to, and their values (pure: unit-tested). */
export function limitFiles(version: 1 | 2, l: Limits): { controller: Controller; file: string; value: string }[] {
  const out: { controller: Controller; file: string; value: string }[] = [];
  if (l.memoryBytes !== undefined) {
    const bytes = String(Math.floor(l.memoryBytes));
    if (version === 1) {
      out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: bytes });
      // Memory and swap together at the same limit: swapping cannot get round it (only where swap accounting is on).
      out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: bytes });
    } else {
      out.push({ controller: 'memory', file: 'memory.max', value: bytes });
      out.push({ controller: 'memory', file: 'memory.swap.max', value: '0' });
    }
  }
  if (l.cpus !== undefined) {
    const quota = Math.max(1000, Math.round(l.cpus * CFS_PERIOD_US));
    if (version === 1) {
      out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CFS_PERIOD_US) });
      out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(quota) });
    } else out.push({ controller: 'cpu', file: 'cpu.max', value: `${quota} ${CFS_PERIOD_US}` });
  }
  if (l.pids !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(Math.floor(l.pids)) });
  return out;
}

/** Files that only some kernels have: a missing one is not a failure. */
const OPTIONAL_FILES = new Set(['memory.memsw.limit_in_bytes', 'memory.swap.max']);

/**
 * Makes the agent's groups afresh (so their counters, the out-of-memory kills and the peak, are
 * this start's) with the limits written, and returns the files the join wrapper writes its pid
 * to. A group left from an earlier start is emptied first: what is still in it is this agent's.
 */
export async function prepareGroup(layout: CgroupLayout, server: string, job: string, agent: string, limits: Limits): Promise<string[]> {
  if (layout.version === 0) throw new CgroupError(layout.reason, layout.hint);
  const missing = neededControllers(limits).filter((c) => !offered(layout).includes(c));
  if (missing.length)
    throw new CgroupError(
      `this machine's cgroups have no writable ${missing.join(', ')} controller (${mechanismOf(layout)})`,
      layout.version === 1
        ? `mount the ${missing.join(', ')} hierarchy read-write under ${cgroupRoot()}`
        : `delegate ${missing.join(', ')} to the worker's cgroup subtree`,
    );
  await removeGroup(layout, server, job, agent);
  const dirs = groupDirs(layout, server, job, agent);
  for (const d of dirs) {
    mkdirSync(dirname(d), { recursive: true });
    if (layout.version === 2) enableControllers(dirname(d), layout.controllers);
    mkdirSync(d, { recursive: true });
  }
  for (const f of limitFiles(layout.version, limits)) {
    const dir = dirFor(layout, f.controller, server, job, agent)!;
    try {
      writeFileSync(join(dir, f.file), f.value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (OPTIONAL_FILES.has(f.file) && (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM')) continue;
      throw new CgroupError(
        `cannot set ${f.file} to ${f.value} in ${dir} (${code})`,
        "the value may be out of the kernel's range, or the tree not writable",
      );
    }
  }
  return dirs.map((d) => join(d, 'cgroup.procs'));
}

/**
 * argv that puts itself in the groups, then becomes the agent: the shell writes its own pid ($$,
 * which exec keeps) to each cgroup.procs file and execs the program. Every path and argument is a
 * positional parameter, never part of the script text.
 */
export const JOIN_SCRIPT =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || { echo "a2a-deploy: cannot join the cgroup $1" >&2; exit 125; }; shift; n=$((n - 1)); done; exec "$@"';
export const joinArgv = (procsFiles: string[], argv: readonly string[]): string[] => [
  '/bin/sh',
  '-c',
  JOIN_SCRIPT,
  'a2a-cgroup-join',
  String(procsFiles.length),
  ...procsFiles,
  ...argv,
];

/** The pids in a group (its cgroup.procs), for emptying it; none when it is gone. */
function groupPids(dir: string): number[] {
  return (read(join(dir, 'cgroup.procs')) ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/**
 * Removes an agent's groups: what still runs in them is killed first (a process that left the
 * agent's process group is still in its cgroup), then the folders go (a group whose last process
 * is exiting is busy for a moment: retried briefly). Only a real cgroup tree's pids are killed.
 */
export async function removeGroup(layout: CgroupLayout, server: string, job: string, agent: string): Promise<boolean> {
  if (layout.version === 0) return false;
  let removed = false;
  for (const d of groupDirs(layout, server, job, agent)) {
    if (!existsSync(d)) continue;
    if (layout.real) for (const pid of groupPids(d)) if (pid !== process.pid) tryKill(pid);
    removed = (await rmGroupDir(d, layout.real)) || removed;
  }
  return removed;
}

const tryKill = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone already */
  }
};

async function rmGroupDir(d: string, real: boolean): Promise<boolean> {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      rmdirSync(d);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      // A plain folder laid out as a tree (tests) holds files: a real cgroup folder never says ENOTEMPTY for its own files.
      if (!real && code === 'ENOTEMPTY') {
        rmSync(d, { recursive: true, force: true });
        return true;
      }
      if (code !== 'EBUSY' || Date.now() > deadline) return false;
      for (const pid of groupPids(d)) tryKill(pid);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The agents (job and agent) with groups of this server on this machine, for gc. */
export function listGroups(layout: CgroupLayout, server: string): { job: string; agent: string }[] {
  const seen = new Map<string, { job: string; agent: string }>();
  for (const d of serverDirs(layout, server)) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = parseLeaf(n);
      if (p) seen.set(n, p);
    }
  }
  return [...seen.values()];
}

export interface Usage {
  /** cgroup v1 or v2 */
  mechanism: string;
  memoryBytes?: number;
  memoryPeakBytes?: number;
  memoryLimitBytes?: number;
  cpuSeconds?: number;
  /** periods in which the group was throttled, and the time it spent throttled */
  throttledPeriods?: number;
  throttledSeconds?: number;
  oomKills?: number;
  pids?: number;
}

const num = (s: string | undefined) => {
  if (s === undefined) return undefined;
  const t = s.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
};
/** A "key value" line of a flat-keyed file (memory.events, cpu.stat, memory.oom_control). */
export const keyed = (text: string | undefined, key: string) => num(new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '')?.[1]);
/** v1 writes "no limit" as a huge page-aligned number, v2 as "max". */
const limitOf = (s: string | undefined) => {
  const n = num(s);
  return n === undefined || n >= 2 ** 62 ? undefined : n;
};

/** What an agent's groups say it uses now: a handful of small reads (one usage read per agent). */
export function readUsage(layout: CgroupLayout, server: string, job: string, agent: string): Usage | undefined {
  if (layout.version === 0) return undefined;
  return usageFrom(layout.version, (c, f) => {
    const d = dirFor(layout, c, server, job, agent);
    return d ? read(join(d, f)) : undefined;
  });
}

/** The files a usage read takes, by controller (v1: each in its hierarchy; v2: all in the one group). */
export const USAGE_FILES: Record<1 | 2, [Controller, string][]> = {
  1: [
    ['memory', 'memory.usage_in_bytes'],
    ['memory', 'memory.max_usage_in_bytes'],
    ['memory', 'memory.limit_in_bytes'],
    ['memory', 'memory.oom_control'],
    ['cpuacct', 'cpuacct.usage'],
    ['cpu', 'cpu.stat'],
    ['pids', 'pids.current'],
  ],
  2: [
    ['memory', 'memory.current'],
    ['memory', 'memory.peak'],
    ['memory', 'memory.max'],
    ['memory', 'memory.events'],
    ['cpu', 'cpu.stat'],
    ['pids', 'pids.current'],
  ],
};

/** Usage from the files' contents, however they were read (here, or by the SSH runner's remote script). */
export function usageFrom(version: 1 | 2, at: (c: Controller, file: string) => string | undefined): Usage | undefined {
  if (version === 1) {
    const current = num(at('memory', 'memory.usage_in_bytes'));
    const cpuNs = num(at('cpuacct', 'cpuacct.usage'));
    if (current === undefined && cpuNs === undefined && at('pids', 'pids.current') === undefined) return undefined;
    const cpuStat = at('cpu', 'cpu.stat');
    const throttledNs = keyed(cpuStat, 'throttled_time');
    return strip({
      mechanism: 'cgroup v1',
      memoryBytes: current,
      memoryPeakBytes: num(at('memory', 'memory.max_usage_in_bytes')),
      memoryLimitBytes: limitOf(at('memory', 'memory.limit_in_bytes')),
      cpuSeconds: cpuNs === undefined ? undefined : cpuNs / 1e9,
      throttledPeriods: keyed(cpuStat, 'nr_throttled'),
      throttledSeconds: throttledNs === undefined ? undefined : throttledNs / 1e9,
      oomKills: keyed(at('memory', 'memory.oom_control'), 'oom_kill'),
      pids: num(at('pids', 'pids.current')),
    });
  }
  const cpuStat = at('cpu', 'cpu.stat');
  if (cpuStat === undefined) return undefined;
  const usec = keyed(cpuStat, 'usage_usec');
  const throttledUsec = keyed(cpuStat, 'throttled_usec');
  return strip({
    mechanism: 'cgroup v2',
    memoryBytes: num(at('memory', 'memory.current')),
    memoryPeakBytes: num(at('memory', 'memory.peak')),
    memoryLimitBytes: limitOf(at('memory', 'memory.max')),
    cpuSeconds: usec === undefined ? undefined : usec / 1e6,
    throttledPeriods: keyed(cpuStat, 'nr_throttled'),
    throttledSeconds: throttledUsec === undefined ? undefined : throttledUsec / 1e6,
    oomKills: keyed(at('memory', 'memory.events'), 'oom_kill'),
    pids: num(at('pids', 'pids.current')),
  });
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `256m`-style words for a byte count (MiB below a GiB, else GiB with one decimal). */
export function sizeWords(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${Math.round((bytes / 1024 ** 3) * 10) / 10}g`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)}m`;
  return `${Math.max(1, Math.round(bytes / 1024))}k`;
}

/** The words of an out-of-memory kill: `killed: out of memory (limit 256m, peak 255m)`. */
export function oomWords(u: { memoryLimitBytes?: number; memoryPeakBytes?: number }): string {
  const parts = [
    ...(u.memoryLimitBytes !== undefined ? [`limit ${sizeWords(u.memoryLimitBytes)}`] : []),
    ...(u.memoryPeakBytes !== undefined ? [`peak ${sizeWords(u.memoryPeakBytes)}`] : []),
  ];
  return `killed: out of memory${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
