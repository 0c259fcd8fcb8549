// Small helpers shared by the harness and the floor: plans from the compiled code, statistics,
// /proc readings, and finding (and killing, by pid) the agents a benchmark run left behind.
'use strict';
const { readFileSync, readdirSync } = require('node:fs');
const { resolve } = require('node:path');
const net = require('node:net');

const ROOT = resolve(__dirname, '..', '..');
const dist = (p) => require(resolve(ROOT, 'dist', p));

/** The plan a2a-deploy would deploy for this file (the CLI's own validate + plan). */
function loadPlan(file) {
  const { loadJobFile } = dist('job/validate');
  const { resolvePlan } = dist('job/plan');
  const loaded = loadJobFile(file);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (!loaded.job || errors.length) throw new Error(`${file}: ${errors.map((d) => d.message).join('; ')}`);
  return resolvePlan(loaded.job, file);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], n, runs: xs };
}

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat times are in these ticks

/** CPU seconds (user + system) a process has used so far, or NaN when it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in MiB: now (VmRSS) and its peak so far (VmHWM). */
function memory(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, hwmMiB: NaN };
  }
}

/**
 * Live processes whose environment marker (A2A_DEPLOY_AGENT=job/agent, set by the local runner,
 * or A2A_BENCH_FLOOR_AGENT, set by the floor) names a job starting with `prefix`. Group leaders only.
 */
function markedProcesses(prefix) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || Number(fields[2]) !== Number(name)) continue; // zombie, or not a group leader
      const env = readFileSync(`/proc/${name}/environ`, 'utf8');
      const m = /(?:^|\0)(?:A2A_DEPLOY_AGENT|A2A_BENCH_FLOOR_AGENT)=([^\0]*)/.exec(env);
      if (m && m[1].startsWith(prefix)) out.push({ pid: Number(name), marker: m[1] });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

/** Kills (SIGKILL, whole group) the agents of jobs starting with `prefix`; returns how many. */
function killMarked(prefix) {
  const found = markedProcesses(prefix);
  for (const p of found) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return found.length;
}

function portOpen(port, host = '127.0.0.1') {
  return new Promise((done) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
}

/** Ports (of `ports`) that something already listens on. */
async function busyPorts(ports) {
  const busy = [];
  for (let i = 0; i < ports.length; i += 100) {
    const batch = ports.slice(i, i + 100);
    const open = await Promise.all(batch.map((p) => portOpen(p)));
    batch.forEach((p, j) => open[j] && busy.push(p));
  }
  return busy;
}

module.exports = { ROOT, dist, loadPlan, sleep, stats, cpuSeconds, memory, markedProcesses, killMarked, busyPorts };
