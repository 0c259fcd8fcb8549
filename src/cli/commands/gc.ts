import Docker from 'dockerode';
import { machineAgents } from '../../activities/machine-agents';
import { serverMarkerOf } from '../../activities/markers';
import { collectLeftovers, describeLeftover } from '../../jobs/leftovers';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { jobContext } from '../../api/jobs';

/** Removes agent processes and containers on this machine whose job's workflow is no longer running. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'gc');
  const ctx = await jobContext({ needWorker: false, quiet: true });
  const dryRun = !!values['dry-run'];
  const { removed, skipped } = await collectLeftovers({
    client: ctx.client,
    server: await serverMarkerOf(ctx.client.workflowService, ctx.cfg),
    machine: machineAgents(new Docker()),
    dryRun,
  });
  if (values.json) process.stdout.write(JSON.stringify({ dryRun, removed, ...(skipped.length ? { skipped } : {}) }, null, 2) + '\n');
  else {
    if (removed.length === 0 && skipped.length === 0)
      process.stdout.write('Nothing to collect: every agent on this machine belongs to a running job.\n');
    for (const r of removed) process.stdout.write(describeLeftover(r, dryRun ? 'would remove' : 'removed') + '\n');
    for (const s of skipped) process.stderr.write(`a2a-deploy: warning: left the agents of job ${s.job} alone: ${s.why}\n`);
  }
  return EXIT.ok;
}
