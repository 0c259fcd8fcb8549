// Who listens on a TCP port, from /proc: the kernel's socket tables (/proc/net/tcp and tcp6,
// of this process's network namespace) give the listening socket's inode, and a process's
// /proc/PID/fd links name the sockets it holds. Used to refuse a port someone else serves
// before an agent starts, and to check that what answers an agent's health check is the agent.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { listPids, procStat } from './proc';

const LISTEN = '0A';

/** Inodes of the sockets listening on `port` (any address, IPv4 or IPv6). */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6, or no /proc
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== LISTEN) continue;
      const localPort = parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16);
      if (localPort === port && f[9] !== '0') inodes.add(f[9]);
    }
  }
  return inodes;
}

export interface PortOwner {
  pid: number;
  /** the process's command name (/proc/PID/comm) */
  command: string;
  /** its process group */
  pgrp: number;
}

/** The processes holding a socket that listens on `port`; empty when none is found (or none is visible to us). */
export function portOwners(port: number): PortOwner[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const owners: PortOwner[] = [];
  for (const pid of listPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    const holds = fds.some((fd) => {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return link.startsWith('socket:[') && inodes.has(link.slice(8, -1));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command = '?';
    try {
      command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* gone meanwhile */
    }
    owners.push({ pid, command, pgrp: procStat(pid)?.pgrp ?? 0 });
  }
  return owners;
}

/** Whether something listens on `port` in this network namespace. */
export const portInUse = (port: number) => listeningInodes(port).size > 0;

/** "pid 123 (python3)", or "pid 1 (a), pid 2 (b)"; "a process this user cannot see" when none is visible. */
export const describeOwners = (owners: PortOwner[]) =>
  owners.length ? owners.map((o) => `pid ${o.pid} (${o.command})`).join(', ') : 'a process this user cannot see';
