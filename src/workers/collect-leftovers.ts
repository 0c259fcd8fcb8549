// Every worker (main and host) removes, on its own machine, the agents of jobs whose workflow is
// over: after a terminate nobody has to remember `a2a-deploy gc`. It is `gc`'s code
// (jobs/leftovers.ts), run every `--collect-every` (A2A_DEPLOY_COLLECT_EVERY; 30 s by default,
// so leftovers go within a minute of the terminate; `off` disables it).
//
// Why a loop in the worker and not a Temporal Schedule per task queue: the agents are processes
// and containers of one machine, and the main workers of several machines share one task queue,
// so a scheduled activity would reach one of them, not each. A Schedule would also keep firing
// when no worker runs (piling up runs) and add a workflow history per round; the loop lives and
// dies with the worker that started the agents, needs no server object to create, upgrade or
// delete, and only asks Temporal about the jobs that have agents on this machine.
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { machineAgents } from '../activities/machine-agents';
import { InvalidInputError } from '../common/errors';
import { parseDuration } from '../common/duration';
import { DEFAULT_COLLECT_EVERY_MS } from '../jobs/execution';
import { collectLeftovers, describeLeftover, type Leftover } from '../jobs/leftovers';

const MIN_MS = 1000;
const MAX_MS = 3_600_000;

/** `--collect-every`, else A2A_DEPLOY_COLLECT_EVERY, else 30 s; undefined when `off`. */
export function collectEveryMs(flag: string | undefined, env = process.env): number | undefined {
  const given = flag ?? env.A2A_DEPLOY_COLLECT_EVERY;
  if (given === undefined || given === '') return DEFAULT_COLLECT_EVERY_MS;
  if (given.trim().toLowerCase() === 'off') return undefined;
  const ms = parseDuration(given.trim());
  if (ms === undefined || ms < MIN_MS || ms > MAX_MS) {
    const source = flag !== undefined ? '--collect-every' : 'A2A_DEPLOY_COLLECT_EVERY';
    throw new InvalidInputError(`${source} '${given.slice(0, 40)}' is not a period between 1s and 1h`, 'e.g. 30s, 2m, or off');
  }
  return ms;
}

export interface LeftoverCollectorOptions {
  client: Client;
  server: string;
  docker: Docker;
  everyMs: number;
  /** how the worker logs a line (text or JSON, with the job and agent) */
  log: (level: 'INFO' | 'WARN', message: string, meta: { job?: string; agent?: string }) => void;
}

/** Starts the loop (a first round at once); the returned function stops it after the round under way. */
export function startLeftoverCollector(o: LeftoverCollectorOptions): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  let lastWarning = '';
  const once = async () => {
    try {
      const { removed, skipped } = await collectLeftovers({ client: o.client, server: o.server, machine: machineAgents(o.docker) });
      for (const r of removed) o.log('INFO', describeLeftover(r, 'collected'), { job: r.job, agent: r.agent } satisfies Partial<Leftover>);
      for (const s of skipped) o.log('WARN', `left the agents of job ${s.job} alone this round: ${s.why}`, { job: s.job });
      lastWarning = '';
    } catch (err) {
      // Said once, not every round, while the cause lasts (e.g. the server restarting).
      const why = `collecting leftover agents failed: ${(err as Error).message.split('\n')[0]}`;
      if (why !== lastWarning) o.log('WARN', why, {});
      lastWarning = why;
    }
  };
  const schedule = () => {
    if (stopped) return;
    round = once().finally(() => {
      if (!stopped) timer = setTimeout(schedule, o.everyMs);
    });
  };
  schedule();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await round;
  };
}
