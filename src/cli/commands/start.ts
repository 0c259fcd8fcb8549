import { JobFailedError } from '../../api/errors';
import type { StartProgress } from '../../api/deploy';
import { NO_WORKER_HINT } from '../../api/jobs';
import { renderDiff } from './diff';
import { parse } from '../args';
import { EXIT } from '../exit-codes';
import { loadPlanOrExit } from '../load';
import { jobManager } from '../manager';
import { table } from '../table';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'start');
  const json = !!values.json;
  const plan = loadPlanOrExit(positionals[0], { quietWarnings: json, envFiles: values['env-file'] });
  const jm = jobManager({ quiet: json });
  const n = Object.keys(plan.agents).length;
  const onProgress = (e: StartProgress) => {
    if (e.type === 'no-worker')
      process.stderr.write(
        `a2a-deploy: warning: no worker is running: job ${plan.job} is submitted and deploys when one runs; ${NO_WORKER_HINT}\n`,
      );
    if (json) return;
    if (e.type === 'adopting') process.stderr.write(`a2a-deploy: ${e.note}\n`);
    if (e.type === 'redeploying')
      process.stdout.write(renderDiff(e.current, e.next, e.diff).split('\nApply with')[0] + '\nRolling out ...\n');
    if (e.type === 'submitted' && !values.detach)
      process.stdout.write(`Deploying ${plan.job}: ${n} agents in ${plan.stages.length} stages (${e.ui})\n`);
    if (e.type === 'agent') {
      const a = e.agent;
      const secs = (e.elapsedMs / 1000).toFixed(1).padStart(5);
      const waiting = a.waitingFor ? `: ${a.waitingFor}` : '';
      process.stdout.write(`  ${secs}s  stage ${a.stage}  ${a.id.padEnd(20)} ${a.state}${a.pid ? ` (pid ${a.pid})` : ''}${waiting}\n`);
    }
  };
  let result;
  try {
    // The plan loaded above (its warnings printed), checked for size before connecting.
    result = await jm.start(plan, { wait: !values.detach, onProgress });
  } catch (err) {
    if (err instanceof JobFailedError && err.error !== undefined) return reportFailure(json, plan.job, err.error);
    throw err;
  } finally {
    await jm.close();
  }
  const { workflowId, runId, ui, status, redeploy } = result;
  if (redeploy) {
    if (json) process.stdout.write(JSON.stringify(redeploy, null, 2) + '\n');
    else if (redeploy.applied)
      process.stdout.write(
        `Redeployed ${plan.job}: ${redeploy.changed.length} changed, ${redeploy.added.length} added, ${redeploy.removed.length} removed; everything else untouched.\n`,
      );
    else process.stderr.write(`Redeploy of ${plan.job} failed and was rolled back to the previous spec.\n${redeploy.error}\n`);
    return redeploy.applied ? EXIT.ok : EXIT.jobFailed;
  }
  if (!status) {
    if (json) process.stdout.write(JSON.stringify({ job: plan.job, workflowId, runId, ui }) + '\n');
    else process.stdout.write(`Submitted job ${plan.job} (${n} agents). Watch it: a2a-deploy status ${plan.job}  or  ${ui}\n`);
    return EXIT.ok;
  }
  if (json) {
    process.stdout.write(
      JSON.stringify({ job: plan.job, workflowId, phase: status.phase, ui, entry: status.entry, agents: status.agents }, null, 2) + '\n',
    );
    return EXIT.ok;
  }
  const rows = plan.stages.flat().map((id) => [id, status.agents[id].state, status.agents[id].url, String(status.agents[id].pid ?? '-')]);
  process.stdout.write(
    [
      '',
      `Job ${plan.job} is running: ${n} agents healthy in ${((result.elapsedMs ?? 0) / 1000).toFixed(1)}s.`,
      table(['AGENT', 'STATE', 'URL', 'PID'], rows),
      '',
      `Web UI:  ${ui}`,
      'Next:',
      `  a2a-deploy send ${plan.job} "your message"   talk to the entry agent (${status.entry})`,
      `  a2a-deploy status ${plan.job}                per-agent state`,
      `  a2a-deploy logs ${plan.job} --follow         agent output`,
      `  a2a-deploy stop ${plan.job}                  tear it all down`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

function reportFailure(json: boolean | undefined, job: string, error: string): number {
  if (json) process.stdout.write(JSON.stringify({ job, phase: 'failed', error }, null, 2) + '\n');
  else process.stderr.write(`\nJob ${job} failed; every agent it had started was stopped.\n${error}\n`);
  return EXIT.jobFailed;
}
