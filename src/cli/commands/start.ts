import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { temporalConfig, workflowUiUrl } from '../../temporal/connection';
import { payloadBytes } from '../../temporal/codec';
import { keyRingFor } from '../../temporal/codec-keys';
import { deployJob } from '../../workflows';
import { deployJobStart, redeployUpdate, workflowIdFor, type JobStatus } from '../../workflows/api';
import { diffPlans, isEmptyDiff } from '../../job/diff';
import type { DeployPlan } from '../../job/plan';
import { renderDiff } from './diff';
import type { JobContext } from '../jobs';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';
import { isNoWorker, jobContext, jobPlan, jobStatus, NO_WORKER_HINT, workerPolls } from '../jobs';
import { loadPlanOrExit } from '../load';
import { table } from '../table';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'start');
  const plan = loadPlanOrExit(positionals[0], { quietWarnings: !!values.json, envFiles: values['env-file'] });
  checkPlanSize(plan, positionals[0]);
  const ctx = await jobContext({ needWorker: true, quiet: !!values.json });
  const workflowId = workflowIdFor(plan.job);
  const n = Object.keys(plan.agents).length;
  let handle;
  try {
    handle = await ctx.client.workflow.start(deployJob, deployJobStart(plan));
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return redeploy(ctx, plan, !!values.json);
    throw err;
  }
  const ui = workflowUiUrl(ctx.cfg, workflowId);
  let warned = false;
  const warnNoWorker = () => {
    if (!warned)
      process.stderr.write(
        `a2a-deploy: warning: no worker is running: job ${plan.job} is submitted and deploys when one runs; ${NO_WORKER_HINT}\n`,
      );
    warned = true;
  };
  if (!(await workerPolls(ctx.client))) warnNoWorker();
  if (values.detach) {
    if (values.json) process.stdout.write(JSON.stringify({ job: plan.job, workflowId, runId: handle.firstExecutionRunId, ui }) + '\n');
    else process.stdout.write(`Submitted job ${plan.job} (${n} agents). Watch it: a2a-deploy status ${plan.job}  or  ${ui}\n`);
    return EXIT.ok;
  }

  if (!values.json) process.stdout.write(`Deploying ${plan.job}: ${n} agents in ${plan.stages.length} stages (${ui})\n`);
  const shown = new Map<string, string>();
  const t0 = Date.now();
  for (;;) {
    let status: JobStatus;
    try {
      status = await jobStatus(handle);
    } catch (err) {
      if (isNoWorker(err)) {
        // Ended without answering a query (e.g. ended by a worker that cannot decrypt it,
        // undecryptable.ts): its result says why.
        if ((await handle.describe()).status.name !== 'RUNNING') {
          try {
            await handle.result();
          } catch (e) {
            return reportFailure(values.json, plan.job, e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : String(e));
          }
        }
        // Submitted all the same: keep waiting, so a worker started now deploys it under our eyes.
        warnNoWorker();
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      // The workflow may have ended (failed) between two polls; its result says why.
      try {
        await handle.result();
      } catch (e) {
        return reportFailure(values.json, plan.job, e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : String(e));
      }
      throw err;
    }
    if (!values.json) {
      for (const a of Object.values(status.agents)) {
        if (shown.get(a.id) === a.state || a.state === 'pending') continue;
        shown.set(a.id, a.state);
        const secs = ((Date.now() - t0) / 1000).toFixed(1).padStart(5);
        process.stdout.write(`  ${secs}s  stage ${a.stage}  ${a.id.padEnd(20)} ${a.state}${a.pid ? ` (pid ${a.pid})` : ''}\n`);
      }
    }
    if (status.phase === 'running' || status.phase === 'degraded') {
      if (values.json) {
        process.stdout.write(
          JSON.stringify({ job: plan.job, workflowId, phase: status.phase, ui, entry: status.entry, agents: status.agents }, null, 2) +
            '\n',
        );
      } else {
        const rows = plan.stages
          .flat()
          .map((id) => [id, status.agents[id].state, status.agents[id].url, String(status.agents[id].pid ?? '-')]);
        process.stdout.write(
          [
            '',
            `Job ${plan.job} is running: ${n} agents healthy in ${((Date.now() - t0) / 1000).toFixed(1)}s.`,
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
      }
      return EXIT.ok;
    }
    if (status.phase === 'failed' || status.phase === 'stopped' || (status.phase === 'stopping' && status.error)) {
      // Wait for the teardown to finish so that the user sees a clean end state.
      try {
        await handle.result();
      } catch {
        /* reported below */
      }
      return reportFailure(values.json, plan.job, status.error ?? `job ended while deploying (${status.phase})`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

function reportFailure(json: boolean | undefined, job: string, error: string): number {
  if (json) process.stdout.write(JSON.stringify({ job, phase: 'failed', error }, null, 2) + '\n');
  else process.stderr.write(`\nJob ${job} failed; every agent it had started was stopped.\n${error}\n`);
  return EXIT.jobFailed;
}

/** `start` on a running job: refuse an identical file, roll out a changed one. */
async function redeploy(ctx: JobContext, plan: DeployPlan, json: boolean): Promise<number> {
  const handle = ctx.client.workflow.getHandle(workflowIdFor(plan.job));
  const current = await jobPlan(handle);
  const d = diffPlans(current, plan);
  if (isEmptyDiff(d)) {
    throw new CliError(
      `job '${plan.job}' is already running with this exact spec`,
      EXIT.invalidInput,
      `see \`a2a-deploy status ${plan.job}\`, or stop it first with \`a2a-deploy stop ${plan.job}\``,
    );
  }
  if (!json) process.stdout.write(renderDiff(current, plan, d).split('\nApply with')[0] + '\nRolling out ...\n');
  let result;
  try {
    result = await handle.executeUpdate(redeployUpdate, { args: [plan] });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new CliError(`cannot redeploy ${plan.job}: ${cause?.message ?? (err as Error).message}`, EXIT.invalidInput);
  }
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else if (result.applied)
    process.stdout.write(
      `Redeployed ${plan.job}: ${result.changed.length} changed, ${result.added.length} added, ${result.removed.length} removed; everything else untouched.\n`,
    );
  else process.stderr.write(`Redeploy of ${plan.job} failed and was rolled back to the previous spec.\n${result.error}\n`);
  return result.applied ? EXIT.ok : EXIT.jobFailed;
}

// The plan travels in the workflow's input (and in each continue-as-new), and Temporal refuses
// any payload over 2 MiB. Say so before contacting the server, with what to do about it. The
// payload codec compresses it (about 60 bytes per agent instead of 930), so with encryption on
// the file size limit comes first (README, Performance).
const PLAN_LIMIT = 1.5 * 2 ** 20;
function checkPlanSize(plan: DeployPlan, file: string) {
  const bytes = payloadBytes(plan, keyRingFor(temporalConfig()));
  if (bytes <= PLAN_LIMIT) return;
  const n = Object.keys(plan.agents).length;
  throw new CliError(
    `${file}: the plan of job '${plan.job}' is ${(bytes / 2 ** 20).toFixed(1)} MiB (${n} agents, ${Math.round(bytes / n)} bytes each); one job's plan must stay under ${PLAN_LIMIT / 2 ** 20} MiB to fit Temporal's 2 MiB payload limit`,
    EXIT.invalidInput,
    'split the job into several jobs (for example one per host or per subtree), shorten environments and peer lists, or set A2A_DEPLOY_KEY_FILE: the payload codec compresses the plan',
  );
}
