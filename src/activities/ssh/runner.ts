// The remote runner: agents as detached processes on another machine, driven over SSH.
//
// It keeps the local runner's contract: every agent process carries the marker
// A2A_DEPLOY_AGENT=job/agent and A2A_DEPLOY_SPEC=<spec hash> in its environment, and the
// marker (found by scanning the remote /proc), not a remembered pid, says what runs. So a
// start retried after a worker crash finds the agent it already started instead of starting
// a second copy.
//
// Remote commands are small POSIX sh scripts (scripts.ts) fed to `/bin/sh -s` on stdin over
// the worker's connection pool (pool.ts). Host keys are always verified (host-keys.ts).
import { ApplicationFailure } from '@temporalio/activity';
import { constants as osConstants } from 'node:os';
import { lastLines, STDERR_LINES } from '../../common/text-tail';
import type { AgentPlan, DeploymentPlan } from '../../job/plan';
import { terminateWithGrace } from '../../process/terminate';
import { buildAgentEnv, resolveSecretsOrFail, scrub, scrubLogsWith, secretFileText, secretValues, splitSecretRefs } from '../agent-env';
import { activityContext, heartbeat } from '../context';
import { pollHealth } from '../health';
import type { AgentEvent, RunnerActivities, WatchedAgent } from '../types';
import { watchLoop } from '../watch';
import { endpointOf, hostKey } from './endpoint';
import { COMMAND_TIMEOUT_MS, type SshPool } from './pool';
import { oomWords, hasLimits } from '../../process/cgroups';
import { recordOomKill, recordUsage } from '../../metrics/instruments';
import { limitsOf } from '../limits';
import {
  cgroupRemoveScript,
  lines,
  parseUsage,
  usageScript,
  readLogScript,
  removePidFileScript,
  secretFilesScript,
  signalScript,
  startScript,
  statusScript,
  stopScript,
  tailScript,
  type RemoteEnv,
  type StatusQuery,
} from './scripts';

/** What the worker hands the SSH runner. */
export interface SshRunnerDeps {
  pool: SshPool;
  /** the SERVER marker (see ../markers.ts): remote agents carry it, and every lookup checks it */
  serverMarker: string;
}

interface Running {
  pid: number;
  spec: string;
}

interface Ended {
  /** the agent's exit status as its wrapper saw it; undefined if unknown (e.g. SIGKILL) */
  status?: number;
  /** its memory group counted an out-of-memory kill: the limit and peak it read */
  oom?: { memoryLimitBytes?: number; memoryPeakBytes?: number };
}

export function describeEnd(e: Ended | undefined): string {
  if (e?.oom) return oomWords(e.oom);
  if (e?.status === undefined) return 'exited';
  if (e.status > 128) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === e.status! - 128)?.[0];
    if (name) return `was killed by ${name}`;
  }
  return `exited with code ${e.status}`;
}

const exitCodeOf = (e: Ended | undefined) => (e?.status === undefined || e.status > 128 ? null : e.status);

/** Parses statusScript's output: per pid, alive, or gone and how it ended. */
export function parseStatus(out: string): Map<number, Ended | 'alive'> {
  const result = new Map<number, Ended | 'alive'>();
  for (const l of lines(out, 'A2A-DEPLOY-ST')) {
    const [pid, state, exitPid, exitStatus] = l.split(' ');
    if (state === 'alive') result.set(Number(pid), 'alive');
    else result.set(Number(pid), exitPid === pid && /^\d+$/.test(exitStatus ?? '') ? { status: Number(exitStatus) } : {});
  }
  for (const l of lines(out, 'A2A-DEPLOY-OOM')) {
    const [pid, , limit, peak] = l.split(' ');
    const ended = result.get(Number(pid));
    const bytes = (w: string | undefined) => (w && /^\d+$/.test(w) && Number(w) < 2 ** 62 ? Number(w) : undefined);
    if (ended && ended !== 'alive')
      ended.oom = {
        ...(bytes(limit) !== undefined ? { memoryLimitBytes: bytes(limit) } : {}),
        ...(bytes(peak) !== undefined ? { memoryPeakBytes: bytes(peak) } : {}),
      };
  }
  return result;
}

const query = (a: { id: string; pid: number; deployment: DeploymentPlan }): StatusQuery => ({
  id: a.id,
  pid: a.pid,
  workdir: a.deployment.workdir,
  ...(hasLimits(limitsOf(a.deployment)) ? { limited: true } : {}),
});

/**
 * A remote agent's environment, by the rule every runner follows (agent-env.ts): inherit_env
 * and `env:` secrets come from this worker's environment (the process that runs the agent;
 * the host has no worker), its base variables from the host's login environment, and its
 * `file:` secrets are read on the host (the machine that runs it) by the start script.
 */
export function remoteEnvOf(agent: AgentPlan, workerEnv: NodeJS.ProcessEnv): RemoteEnv {
  const { env, files } = splitSecretRefs(agent.deployment.secrets);
  const secrets = resolveSecretsOrFail(agent.id, env, workerEnv);
  const values = buildAgentEnv({
    base: false,
    workerEnv,
    inherit: agent.deployment.inheritEnv,
    planEnv: agent.env,
    secrets,
  });
  return { values, files, secrets: Object.values(secrets) };
}

export function createSshRunner({ pool, serverMarker }: SshRunnerDeps): RunnerActivities {
  const remote = (d: DeploymentPlan, baseDir: string, body: string, timeoutMs?: number) => pool.run(d, baseDir, body, timeoutMs);

  /** For each pid: alive (with its marker), or gone and how it ended. One round trip per host.
   *  With `waitGoneMs`, the remote shell first waits up to that long for all of them to end:
   *  a stop then costs one round trip per wait, not one per poll. */
  const status = async (d: DeploymentPlan, baseDir: string, job: string, agents: StatusQuery[], waitGoneMs = 0) =>
    parseStatus((await remote(d, baseDir, statusScript(job, serverMarker, agents, waitGoneMs), COMMAND_TIMEOUT_MS + waitGoneMs)).stdout);

  /** An agent's secret values, to scrub what it printed: the values its starts were given (kept
   *  on its host, see scripts.ts keepGiven), `env:` ones from this worker now, `file:` ones read
   *  on its host now (through the connection). Throws rather than leave output unscrubbed. */
  const secretsOf = async (job: string, id: string, d: DeploymentPlan, baseDir: string): Promise<string[]> => {
    const { env, files } = splitSecretRefs(d.secrets);
    const values = secretValues(id, env, process.env);
    if (!d.secrets || Object.keys(d.secrets).length === 0) return values;
    const out = (await remote(d, baseDir, secretFilesScript(d.workdir, files, { job, agent: id }))).stdout;
    const text = (l: string) => Buffer.from(l.split(' ').at(-1) ?? '', 'hex').toString('utf8');
    for (const l of lines(out, 'A2A-DEPLOY-GIVEN')) values.push(text(l));
    for (const l of lines(out, 'A2A-DEPLOY-SECRET')) values.push(secretFileText(text(l)));
    return [...new Set(values.filter((v) => v.length > 0))];
  };

  /** The last lines of a remote log of an agent (for error messages), scrubbed of its secrets. */
  const remoteTail = async (job: string, id: string, d: DeploymentPlan, baseDir: string) => {
    try {
      const [out, secrets] = await Promise.all([
        remote(d, baseDir, tailScript(job, id, d.workdir, 'stderr', STDERR_LINES)),
        secretsOf(job, id, d, baseDir),
      ]);
      return scrub(lastLines(out.stdout, STDERR_LINES), secrets);
    } catch (e) {
      return `(cannot read the remote stderr.log: ${(e as Error).message})`;
    }
  };

  /** Stops agents: TERM to each group, a grace period, then KILL (at once when forced).
   *  `signalled`: the first signal was already sent (by the script that found them). */
  const terminate = async (job: string, agent: AgentPlan, pids: number[], force: boolean, signalled = false): Promise<boolean> => {
    const d = agent.deployment;
    let left = pids;
    const { forced, gone } = await terminateWithGrace(
      {
        signal: async (sig) => void (await remote(d, agent.baseDir, signalScript(sig === 'SIGTERM' ? 'TERM' : 'KILL', left))),
        waitGone: async (ms) => {
          const deadline = Date.now() + ms;
          for (;;) {
            // The remote waits in slices of at most 2 s, so we heartbeat in between.
            const slice = Math.max(0, Math.min(2000, deadline - Date.now()));
            const st = await status(
              d,
              agent.baseDir,
              job,
              left.map((pid) => query({ ...agent, pid })),
              slice,
            );
            left = left.filter((p) => st.get(p) === 'alive');
            if (left.length === 0) return true;
            if (Date.now() >= deadline) return false;
            heartbeat({ stopping: left });
          }
        },
      },
      { graceMs: agent.stopGraceMs, force, firstSignalSent: signalled },
    );
    if (!gone)
      throw ApplicationFailure.retryable(
        `agent '${agent.id}' (pid ${left.join(', ')}) survived SIGKILL on ${endpointOf(d).label}`,
        'AgentStopError',
      );
    return forced;
  };

  return {
    async startAgent({ job, agent }) {
      const d = agent.deployment;
      // `env:` secrets are read here, before anything is stopped; `file:` ones by the script, as early.
      const env = remoteEnvOf(agent, process.env);
      for (let round = 0; round < 3; round++) {
        const startedAt = new Date().toISOString();
        const out = (await remote(d, agent.baseDir, startScript(job, agent, startedAt, serverMarker, env))).stdout;
        const [unreadable] = lines(out, 'A2A-DEPLOY-SECRET-ERROR');
        if (unreadable !== undefined) {
          const [name, ...why] = unreadable.split(' ');
          const path = env.files[name];
          throw ApplicationFailure.nonRetryable(
            `secret ${name} of agent '${agent.id}' (file:${path}): cannot read ${path} on ${endpointOf(d).label} (${why.join(' ')})`,
            'SecretError',
          );
        }
        const error = lines(out, 'A2A-DEPLOY-ERROR')[0];
        if (error !== undefined)
          throw ApplicationFailure.nonRetryable(`cannot start '${agent.id}' on ${endpointOf(d).label}: ${error}`, 'AgentStartError');
        const logDir = lines(out, 'A2A-DEPLOY-DIR')[0] ?? '';
        const started = lines(out, 'A2A-DEPLOY-STARTED')[0];
        if (started) return { pid: Number(started), reused: false, startedAt, logDir };

        const running: Running[] = lines(out, 'A2A-DEPLOY-RUNNING').map((l) => {
          const [pid, spec = ''] = l.split(' ');
          return { pid: Number(pid), spec };
        });
        const same = running.find((p) => p.spec === agent.specHash);
        if (same && running.length === 1) {
          // Idempotent: the same spec already runs (a retried or replayed start).
          const [pidText, , recordedAt] = (lines(out, 'A2A-DEPLOY-PIDFILE')[0] ?? '').split(' ');
          return { pid: same.pid, reused: true, startedAt: Number(pidText) === same.pid && recordedAt ? recordedAt : startedAt, logDir };
        }
        // An older spec, or strays: stop them, then look again (and start).
        await terminate(
          job,
          agent,
          running.map((p) => p.pid),
          false,
        );
      }
      throw ApplicationFailure.retryable(
        `agent '${agent.id}' keeps reappearing on ${endpointOf(d).label}; is another deployer starting it?`,
        'AgentStartError',
      );
    },

    async waitHealthy({ job, agent, pid }) {
      const ctx = activityContext();
      let ended: Ended | undefined;
      return pollHealth(agent, {
        alive: async () => {
          const st = (await status(agent.deployment, agent.baseDir, job, [query({ ...agent, pid })])).get(pid);
          if (st === 'alive') return true;
          ended = st;
          return false;
        },
        describeExit: () => {
          if (ended?.oom) recordOomKill(job, agent.id, 'remote');
          return `agent '${agent.id}' ${describeEnd(ended)} on ${endpointOf(agent.deployment).label} before becoming healthy`;
        },
        stderr: () => remoteTail(job, agent.id, agent.deployment, agent.baseDir),
        signal: ctx?.cancellationSignal ?? new AbortController().signal,
        heartbeat: (details) => ctx?.heartbeat(details),
      });
    },

    async stopAgent({ job, agent, force }) {
      // The same round trip that finds the agent sends the first signal, and when nothing
      // runs it is all there is to do.
      const out = (await remote(agent.deployment, agent.baseDir, stopScript(job, agent, !!force, serverMarker))).stdout;
      const pids = lines(out, 'A2A-DEPLOY-RUNNING').map(Number);
      // Its groups go with it (and whatever still runs in them, outside its process group).
      const limited = hasLimits(limitsOf(agent.deployment));
      const dropGroups = async () => {
        if (limited) await remote(agent.deployment, agent.baseDir, cgroupRemoveScript(serverMarker, job, agent.id));
      };
      if (pids.length === 0) {
        await dropGroups();
        return { wasRunning: false, forced: false };
      }
      heartbeat({ stopping: pids });
      const forced = await terminate(job, agent, pids, !!force, true);
      await remote(agent.deployment, agent.baseDir, removePidFileScript(job, agent));
      await dropGroups();
      return { wasRunning: true, forced };
    },

    async watchAgents(opts) {
      const { job } = opts;
      // One liveness command per host and round; agents on one host share its connection.
      const byHost = new Map<string, WatchedAgent[]>();
      for (const a of opts.agents) {
        const key = hostKey(endpointOf(a.deployment));
        byHost.set(key, [...(byHost.get(key) ?? []), a]);
      }
      const stderrOf = (a: WatchedAgent) => remoteTail(job, a.id, a.deployment, pool.baseDirFor(a.deployment));
      // Liveness every second, one command per host; health (HTTP from the worker) less often (watch.ts).
      return watchLoop(opts, {
        intervalMs: 1000,
        liveness: async () => {
          const events: AgentEvent[] = [];
          const alive: WatchedAgent[] = [];
          // Hosts side by side: one slow host does not delay the others' checks.
          await Promise.all(
            [...byHost.values()].map(async (group) => {
              const d = group[0].deployment;
              const st = await status(d, pool.baseDirFor(d), job, group.map(query));
              for (const a of group) {
                const s = st.get(a.pid);
                if (s === 'alive') {
                  alive.push(a);
                  continue;
                }
                if (s?.oom) recordOomKill(job, a.id, 'remote');
                events.push({
                  id: a.id,
                  kind: 'exited',
                  exitCode: exitCodeOf(s),
                  detail: `agent '${a.id}' ${describeEnd(s)} on ${endpointOf(d).label}`,
                  stderr: await stderrOf(a),
                });
              }
            }),
          );
          return { alive, events };
        },
        stderrOf,
        // As often as its health check: one usage read of an agent with limits (a command on its host), into /metrics.
        upkeep: async (a) => {
          if (!hasLimits(limitsOf(a.deployment))) return;
          try {
            const u = parseUsage((await remote(a.deployment, pool.baseDirFor(a.deployment), usageScript(serverMarker, job, a.id))).stdout);
            if (u) recordUsage(job, a.id, u);
          } catch {
            /* the host did not answer this time: the next slot reads again */
          }
        },
      });
    },

    async readLogs({ job, agent, tail, offsets }) {
      // One command per stream, run side by side: its first line is the file's size, then the text.
      const read = async (name: 'stdout' | 'stderr') => {
        const from = offsets ? Math.max(0, Math.floor(Number(offsets[name]) || 0)) : undefined;
        const out = (await remote(agent.deployment, agent.baseDir, readLogScript(job, agent, name, tail, from))).stdout;
        const nl = out.indexOf('\n');
        const size = Number(out.slice(0, nl)) || 0;
        const text = out.slice(nl + 1);
        return { size, text: offsets ? text : lastLines(text, tail) };
      };
      const [out, err, secrets] = await Promise.all([
        read('stdout'),
        read('stderr'),
        secretsOf(job, agent.id, agent.deployment, agent.baseDir),
      ]);
      // Logs travel through Temporal: scrubbed like the stderr tails.
      return scrubLogsWith({ stdout: out.text, stderr: err.text, offsets: { stdout: out.size, stderr: err.size } }, secrets);
    },
  };
}
