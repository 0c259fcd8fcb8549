// Who listens on a TCP port, from /proc: the kernel's socket tables (/proc/net/tcp and tcp6,
// of this process's network namespace) give the listening socket's inode, and a process's
// /proc/PID/fd links name the sockets it holds. Used to refuse a port someone else serves
// before an agent starts, and to check that what answers an agent's health check is the agent.
//
// Both checks run once per agent start, and a wide deploy starts hundreds of agents at once, so
// neither may cost in proportion to the machine: the socket tables list every connection
// (thousands of entries while health probes run), and walking every process's fd table is
// processes × fds system calls. Reading both per agent made a 200-agent level quadratic and
// starved the worker's event loop until its heartbeats missed. So:
//   - the check before a start binds the port itself (portFree), reading no table;
//   - the served-by check reads the tables at most once per SNAPSHOT_MS for all callers, and a
//     listener not seen in the snapshot is read again at once;
//   - the owner of a listener is looked for among the processes the caller names first (the
//     agent and its children), and only then, rarely, among all processes.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { listPids, procStat } from './proc';

const LISTEN = '0A';
/** How long one read of the socket tables serves every caller. */
const SNAPSHOT_MS = 250;

/** Listening sockets by port: the inodes of each port's listeners (any address, IPv4 or IPv6). */
type ListenTable = Map<number, Set<string>>;
let snapshot: { atMs: number; table: ListenTable } | undefined;

function readListenTable(): ListenTable {
  const table: ListenTable = new Map();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6, or no /proc
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/, 10);
      if (f.length < 10 || f[3] !== LISTEN || f[9] === '0') continue;
      const port = parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16);
      let inodes = table.get(port);
      if (!inodes) table.set(port, (inodes = new Set()));
      inodes.add(f[9]);
    }
  }
  return table;
}

/** The listening table, read now (`fresh`) or at most SNAPSHOT_MS ago. */
function listenTable(fresh: boolean): ListenTable {
  const now = Date.now();
  if (fresh || !snapshot || now - snapshot.atMs > SNAPSHOT_MS) snapshot = { atMs: now, table: readListenTable() };
  return snapshot.table;
}

/**
 * Whether `port` can be bound at `host` now, as the agent is about to bind it: a listen of our
 * own, closed at once. It answers exactly what the agent would meet (EADDRINUSE), for a fraction
 * of a millisecond, where reading the socket tables costs in proportion to every connection on
 * the machine. (A cached table answered "free" for a port taken a moment before.)
 */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'EADDRINUSE'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PortOwner {
  pid: number;
  /** the process's command name (/proc/PID/comm) */
  command: string;
  /** its process group */
  pgrp: number;
}

/** Whether the process holds one of `inodes` among its open files. */
function holdsSocket(pid: number, inodes: Set<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // gone, or not ours to read
  }
  return fds.some((fd) => {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return link.startsWith('socket:[') && inodes.has(link.slice(8, -1));
    } catch {
      return false;
    }
  });
}

function ownerOf(pid: number): PortOwner {
  let command = '?';
  try {
    command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    /* gone meanwhile */
  }
  return { pid, command, pgrp: procStat(pid)?.pgrp ?? 0 };
}

/**
 * The processes holding a socket that listens on `port`; empty when none is found (or none is
 * visible to us). `likely`: pids to look at first (the agent expected to serve the port); when
 * one of them holds it, the answer is that one alone and no other process is looked at.
 */
export function portOwners(port: number, likely: number[] = []): PortOwner[] {
  const among = (inodes: Set<string>) => likely.filter((pid) => holdsSocket(pid, inodes));
  const cached = listenTable(false).get(port);
  const first = cached ? among(cached) : [];
  if (first.length) return first.map(ownerOf);
  // Not found in the snapshot (a listener started, or changed, since): read again before looking further.
  const inodes = listenTable(true).get(port);
  if (!inodes) return [];
  const owners = among(inodes);
  return (owners.length ? owners : listPids().filter((pid) => holdsSocket(pid, inodes))).map(ownerOf);
}

/** A process and its children (where the kernel lists them): who is likely to serve an agent's port. */
export function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(children ? children.split(' ').map(Number) : [])];
  } catch {
    return [pid];
  }
}

/** "pid 123 (python3)", or "pid 1 (a), pid 2 (b)"; "a process this user cannot see" when none is visible. */
export const describeOwners = (owners: PortOwner[]) =>
  owners.length ? owners.map((o) => `pid ${o.pid} (${o.command})`).join(', ') : 'a process this user cannot see';
