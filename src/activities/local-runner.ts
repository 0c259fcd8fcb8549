// The local runner: agents as detached processes on the worker's machine.
//
// Every agent process carries a marker in its environment (A2A_DEPLOY_AGENT=job/agent and
// its spec hash). The marker, not a remembered pid, is the truth about what runs: a worker
// killed between spawning an agent and recording its pid finds the agent again by its
// marker, so a retried start never starts a second copy.
import { ApplicationFailure } from '@temporalio/activity';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { waitUntil } from '../common/wait';
import { agentDir } from '../config/paths';
import type { AgentPlan } from '../job/plan';
import { liveEnviron, procStat, scanProcesses, terminateProcess, type FoundProcess } from '../process';
import { refuseTakenPort, servedByAgent } from './port-checks';
import type { AgentEvent, RunnerActivities, WatchedAgent } from './types';
import { DEFAULT_LOG_ROTATION, readLogDir, rotateLogDir } from './log-files';
import { pollHealth, stderrTail } from './health';
import { activityContext, heartbeat } from './context';
import { isMarkedAs, MARKER, markerOf, markersIn, SERVER, SPEC } from './markers';
import { watchLoop } from './watch';
import { buildAgentEnv, resolveSecretsOrFail, scrub, scrubLogsWith } from './agent-env';
import { rememberGiven, scrubValuesOf } from './given-secrets';
import { refuseUnrunnable, spawnFailure, spawnOrFail } from './spawn-checks';
import { limitedArgv, limitsOf, observeUsage, oomExit, refuseUnlimitable, removeAgentGroups } from './limits';
import { hasLimits } from '../process/cgroups';
import { primeOomKills, recordOomKill } from '../metrics/instruments';

/** What the worker hands the local runner. */
export interface LocalRunnerDeps {
  /** the state home: agents' folders (pid records, logs) live under it */
  home: string;
  /** the SERVER marker of the Temporal server this worker serves (see markers.ts) */
  serverMarker: string;
}

interface PidRecord {
  pid: number;
  specHash: string;
  startedAt: string;
  /** the process's start time in the kernel's ticks (see StartedAgent.procStart); absent in older records */
  procStart?: string;
}

/** A live process's markers; undefined if it is gone or a zombie. */
function processMarker(pid: number): { marker?: string; spec?: string; server?: string } | undefined {
  const env = liveEnviron(pid);
  return env && markersIn(env);
}

/** Whether pid is still the process that started at procStart (not a reused pid), and alive. */
function sameProcess(pid: number, procStart: string | undefined): boolean {
  if (procStart === undefined) return false;
  const stat = procStat(pid);
  return !!stat && stat.startTime === procStart && !stat.state.startsWith('Z') && !stat.state.startsWith('X');
}

/** Live process group leaders carrying this marker of this server (an agent's own children inherit it). */
function findAgentProcesses(marker: string, server: string): { pid: number; spec?: string }[] {
  return scanProcesses((env) => env[MARKER] === marker && env[SERVER] === server, { leadersOnly: true }).map((p) => ({
    pid: p.pid,
    spec: p.env[SPEC],
  }));
}

/**
 * Marked processes, minus those in a group that another of them leads (they stop with their
 * leader). What remains: agents, and the processes an agent left behind when it exited (a
 * forking agent's server lives on in the group of a leader that is gone).
 */
function withoutFollowers(found: FoundProcess[]): FoundProcess[] {
  const pids = new Set(found.map((p) => p.pid));
  return found.filter((p) => {
    const group = procStat(p.pid)?.pgrp;
    return group === p.pid || group === undefined || !pids.has(group);
  });
}

/** Every live process of this agent of this server, leaders or not (a stop after the ledger lost it). */
function allAgentProcesses(marker: string, server: string): { pid: number; spec?: string }[] {
  return withoutFollowers(scanProcesses((env) => env[MARKER] === marker && env[SERVER] === server)).map((p) => ({
    pid: p.pid,
    spec: p.env[SPEC],
  }));
}

/** All marked agent processes on this machine, by marker (used by gc and tests): agents, and
 *  what agents that exited left behind in their groups. */
export function listMarkedAgents(): { pid: number; marker: string; server?: string }[] {
  return withoutFollowers(scanProcesses((env) => !!env[MARKER])).map(({ pid, env }) => ({
    pid,
    marker: env[MARKER],
    ...(env[SERVER] ? { server: env[SERVER] } : {}),
  }));
}

// The agent's directory is this machine's ledger of what was started: `agent.pid.json` names
// the process, and `agent.starting` exists from just before a spawn until its record is
// written. So a marked process without a record can only come from a start interrupted between
// the two, and only then is /proc scanned for the marker. (A scan reads every process's
// environment: about 66 ms with 1,000 processes, which made a wide deploy quadratic.)
const STARTING = 'agent.starting';

/** The live processes of this agent: the recorded one, or after an interrupted start, a scan. */
function ledgerProcesses(
  dir: string,
  marker: string,
  server: string,
): { pid: number; spec?: string; startedAt?: string; procStart?: string }[] {
  if (existsSync(join(dir, STARTING))) return findAgentProcesses(marker, server);
  const record = readPidRecord(dir);
  if (!record) return [];
  const m = processMarker(record.pid);
  const found = { pid: record.pid, startedAt: record.startedAt, procStart: record.procStart };
  if (m?.marker === marker && m.server === server) return [{ ...found, spec: m.spec }];
  // Its markers unreadable (its environment area rewritten): the recorded start time still names it.
  return sameProcess(record.pid, record.procStart) ? [{ ...found, spec: record.specHash }] : [];
}

function readPidRecord(dir: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'agent.pid.json'), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

function writePidRecord(dir: string, rec: PidRecord) {
  const tmp = join(dir, `.agent.pid.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(rec));
  renameSync(tmp, join(dir, 'agent.pid.json')); // atomic: readers never see half a record
}

/** argv for the agent: `node <module> args…` or the command list, never a shell string. */
export function agentArgv(agent: AgentPlan): string[] {
  if (agent.run.command) {
    const [program, ...rest] = agent.run.command;
    return [program, ...rest, ...agent.run.args];
  }
  return [process.execPath, resolveModule(agent.run.module!, agent.baseDir), ...agent.run.args];
}

/** A path (relative to the job file) or a package specifier such as a2a-deploy/agents/weather. */
export function resolveModule(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const p = resolve(baseDir, spec);
    if (!existsSync(p)) throw ApplicationFailure.nonRetryable(`module ${spec} not found (looked for ${p})`, 'AgentSpecError');
    return p;
  }
  try {
    return require.resolve(spec, { paths: [baseDir, process.cwd()] });
  } catch {
    throw ApplicationFailure.nonRetryable(`module ${spec} cannot be resolved from ${baseDir}`, 'AgentSpecError');
  }
}

/** TERM → grace → KILL to the agent's process group; true when it had to be killed. */
async function terminate(pid: number, graceMs: number, force: boolean): Promise<boolean> {
  return (await terminateProcess(pid, { graceMs, force, onWait: () => heartbeat() })).forced;
}

/** Rotates an agent's logs if due; a failure to rotate (a full disk) never fails a start or a watch. */
function rotateLogs(dir: string, deployment: AgentPlan['deployment']) {
  try {
    rotateLogDir(dir, deployment.logs ?? DEFAULT_LOG_ROTATION);
  } catch {
    /* the agent keeps writing; the next round tries again */
  }
}

/** The limits in words, for the start line of its stderr.log: `memory 256m, cpus 0.5, pids 64`. */
const limitWords = (d: AgentPlan['deployment']) =>
  [
    d.memory !== undefined ? `memory ${d.memory}` : '',
    d.cpus !== undefined ? `cpus ${d.cpus}` : '',
    d.pids !== undefined ? `pids ${d.pids}` : '',
  ]
    .filter(Boolean)
    .join(', ');

type Exit = { code: number | null; signal: string | null };
const describeExit = (e: Exit | undefined) => (e ? (e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`) : 'exited');

export function createLocalRunner({ home, serverMarker }: LocalRunnerDeps): RunnerActivities {
  /** Exit statuses of agents this worker spawned, for precise error messages. */
  const exits = new Map<number, Exit>();
  /**
   * Agents this worker spawned that have not exited (pid -> kernel start time). Node reports a
   * child's exit, so these need no /proc read to be known alive: watching 1,000 of them cost
   * 1,000 reads a second. Agents adopted from an earlier worker are read from /proc (isAgent).
   */
  const liveChildren = new Map<number, string>();
  const dirOf = (job: string, agent: string) => agentDir(job, agent, home);
  /** An agent's stderr tail with its secret values hidden: it reaches status and history. */
  const stderrOf = (job: string, a: { id: string; deployment: AgentPlan['deployment'] }) =>
    scrub(stderrTail(join(dirOf(job, a.id), 'stderr.log')), scrubValuesOf(dirOf(job, a.id), a));

  /**
   * The agent's process: the very process that was started (its pid and kernel start time, one
   * small /proc read: this runs for every watched agent every second), or one marked as it.
   */
  const isAgent = (pid: number, job: string, id: string, procStart: string | undefined) =>
    sameProcess(pid, procStart) || isMarkedAs(processMarker(pid), job, id, serverMarker);
  /** The start time the ledger recorded for this pid, if it did. */
  const recordedStart = (job: string, id: string, pid: number) => {
    const r = readPidRecord(dirOf(job, id));
    return r?.pid === pid ? r.procStart : undefined;
  };

  /** Why the agent's process ended: an out-of-memory kill its groups counted, else its exit status. */
  const exitWords = (job: string, a: { id: string; deployment: AgentPlan['deployment'] }, pid: number) => {
    const oom = hasLimits(limitsOf(a.deployment)) ? oomExit({ server: serverMarker, job, agent: a.id }) : undefined;
    if (!oom) return `agent '${a.id}' ${describeExit(exits.get(pid))}`;
    recordOomKill(job, a.id, 'localhost');
    // The kernel killed a process of its group; the agent itself may have exited on its own after that.
    const e = exits.get(pid);
    return e && !e.signal ? `agent '${a.id}' exited with code ${e.code} after a process of its group was ${oom}` : `agent '${a.id}' ${oom}`;
  };

  return {
    async startAgent({ job, agent }) {
      const dir = dirOf(job, agent.id);
      mkdirSync(dir, { recursive: true });
      const marker = markerOf(job, agent.id);
      const running = ledgerProcesses(dir, marker, serverMarker);
      const same = running.find((p) => p.spec === agent.specHash);
      if (same && running.length === 1) {
        // Idempotent: the same spec is already running (a retried or replayed start).
        const startedAt = same.startedAt ?? new Date().toISOString();
        const procStart = same.procStart ?? procStat(same.pid)?.startTime;
        writePidRecord(dir, { pid: same.pid, specHash: agent.specHash, startedAt, procStart });
        rmSync(join(dir, STARTING), { force: true });
        return { pid: same.pid, reused: true, startedAt, logDir: dir, ...(procStart ? { procStart } : {}) };
      }
      // Read before anything is stopped: a missing secret fails this deploy and leaves what runs alone.
      const secrets = resolveSecretsOrFail(agent.id, agent.deployment.secrets, process.env);
      // Likewise a machine that cannot hold the agent to its limits: refused before anything stops.
      const limits = limitsOf(agent.deployment);
      refuseUnlimitable(agent.id, limits);
      for (const p of running) await terminate(p.pid, agent.stopGraceMs, false); // an older spec, or strays
      // Someone else serves the port: the agent would die of EADDRINUSE while they answer its health checks.
      await refuseTakenPort(agent);

      const argv = agentArgv(agent);
      const cwd = agent.deployment.workdir ? resolve(agent.baseDir, agent.deployment.workdir) : agent.baseDir;
      const env = buildAgentEnv({
        workerEnv: process.env,
        inherit: agent.deployment.inheritEnv,
        planEnv: agent.env,
        secrets,
        markers: { [MARKER]: marker, [SPEC]: agent.specHash, [SERVER]: serverMarker },
      });
      // What no retry can fix fails now, in words: a NUL byte or E2BIG (the secrets and inherited
      // variables are known only here), a workdir that is not there (spawn would say ENOENT as
      // for a missing command).
      refuseUnrunnable(agent.id, argv, env, cwd);
      // Its groups made afresh with the limits, and joined by the process before the agent's first instruction.
      const limited = await limitedArgv({ server: serverMarker, job, agent: agent.id }, limits, argv, env, cwd);
      if (limits.memoryBytes !== undefined) primeOomKills(job, agent.id, 'localhost');
      const startedAt = new Date().toISOString();
      rotateLogs(dir, agent.deployment); // an agent in a crash loop writes only at its starts
      const out = openSync(join(dir, 'stdout.log'), 'a');
      const err = openSync(join(dir, 'stderr.log'), 'a');
      const within = limited.mechanism ? ` in ${limited.mechanism} (${limitWords(agent.deployment)})` : '';
      writeSync(err, `--- a2a-deploy: starting ${agent.id} at ${startedAt}${within}: ${JSON.stringify(argv)}\n`);
      writeFileSync(join(dir, STARTING), startedAt);
      // What it is given is what its output is scrubbed of, whatever its sources hold later.
      rememberGiven(dir, Object.values(secrets));
      let spawned = false;
      try {
        const child = spawnOrFail(agent.id, limited.argv, {
          cwd,
          env,
          detached: true, // its own process group: it outlives the worker, and stops as a group
          stdio: ['ignore', out, err],
        });
        const pid = await new Promise<number>((resolvePid, reject) => {
          child.once('error', (e) => reject(spawnFailure(agent.id, argv, cwd, e)));
          child.once('spawn', () => resolvePid(child.pid!));
        });
        spawned = true;
        child.once('exit', (code, signal) => {
          exits.set(pid, { code, signal });
          liveChildren.delete(pid);
        });
        child.unref();
        const procStart = procStat(pid)?.startTime;
        if (procStart && !exits.has(pid)) liveChildren.set(pid, procStart);
        writePidRecord(dir, { pid, specHash: agent.specHash, startedAt, procStart });
        rmSync(join(dir, STARTING));
        return { pid, reused: false, startedAt, logDir: dir, ...(procStart ? { procStart } : {}) };
      } finally {
        closeSync(out);
        closeSync(err);
        if (!spawned) rmSync(join(dir, STARTING), { force: true }); // nothing runs: nothing to look for
      }
    },

    async waitHealthy({ job, agent, pid, procStart }) {
      const started = procStart ?? recordedStart(job, agent.id, pid);
      const health = await pollHealth(agent, {
        alive: () => isAgent(pid, job, agent.id, started),
        describeExit: async () => {
          // /proc can show the process gone a moment before node reports its exit status.
          await waitUntil(() => exits.has(pid), 1000, { fastPollMs: 20, pollMs: 20 });
          return `${exitWords(job, agent, pid)} before becoming healthy`;
        },
        stderr: () => stderrOf(job, agent),
        signal: activityContext()?.cancellationSignal ?? new AbortController().signal,
        heartbeat: (d) => heartbeat(d),
      });
      // An answer proves nothing if it came from another process: the port must be the agent's.
      servedByAgent(agent, pid, (owner) => isAgent(owner, job, agent.id, undefined));
      return health;
    },

    async stopAgent({ job, agent, force, known }) {
      const dir = dirOf(job, agent.id);
      const marker = markerOf(job, agent.id);
      let running: { pid: number }[] = ledgerProcesses(dir, marker, serverMarker);
      // The recorded leader is gone (a forking agent's launcher exits; its server lives on in
      // the group) or the ledger is lost: what carries the agent's markers is what runs.
      if (running.length === 0) running = allAgentProcesses(marker, serverMarker);
      // And what the workflow knows: the pid it was given at the start, if it is still that
      // process (same start time), even when neither the ledger nor the markers find it.
      if (known?.pid !== undefined && !running.some((p) => p.pid === known.pid) && sameProcess(known.pid, known.procStart))
        running = [...running, { pid: known.pid }];
      let forced = false;
      for (const p of running) {
        heartbeat(p.pid);
        forced = (await terminate(p.pid, agent.stopGraceMs, !!force)) || forced;
      }
      rmSync(join(dir, 'agent.pid.json'), { force: true });
      rmSync(join(dir, STARTING), { force: true });
      // Its groups go with it (and whatever still ran in them, outside its process group).
      await removeAgentGroups({ server: serverMarker, job, agent: agent.id }, hasLimits(limitsOf(agent.deployment)));
      return { wasRunning: running.length > 0, forced };
    },

    async watchAgents(opts) {
      const { job } = opts;
      // Liveness: nothing to read for an agent this worker spawned (liveChildren), one /proc read
      // for an adopted one (its start time, see isAgent); health and log rotation come less often
      // (watch.ts).
      return watchLoop(opts, {
        intervalMs: 1000,
        liveness: async (agents) => {
          const alive: WatchedAgent[] = [];
          const events: AgentEvent[] = [];
          for (const a of agents) {
            const known = liveChildren.get(a.pid);
            if (known !== undefined && known === a.procStart) {
              alive.push(a);
              continue;
            }
            if (isAgent(a.pid, job, a.id, a.procStart ?? recordedStart(job, a.id, a.pid))) {
              alive.push(a);
              continue;
            }
            const e = exits.get(a.pid);
            events.push({
              id: a.id,
              kind: 'exited',
              exitCode: e ? e.code : null,
              detail: exitWords(job, a, a.pid),
              stderr: stderrOf(job, a),
            });
          }
          return { alive, events };
        },
        // As often as its health check: log rotation, and one usage read of an agent with groups.
        upkeep: (a) => {
          rotateLogs(dirOf(job, a.id), a.deployment);
          if (hasLimits(limitsOf(a.deployment))) observeUsage({ server: serverMarker, job, agent: a.id });
        },
        stderrOf: (a) => stderrOf(job, a),
      });
    },

    async readLogs({ job, agent, tail, offsets }) {
      return scrubLogsWith(readLogDir(dirOf(job, agent.id), tail, offsets), scrubValuesOf(dirOf(job, agent.id), agent));
    },
  };
}
