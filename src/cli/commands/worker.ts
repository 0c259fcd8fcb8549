import Docker from 'dockerode';
import { connectClient, temporalConfig, unreachable } from '../../temporal/connection';
import { registerLocalWorker, startWorkerDetached, stopWorkerDetached } from '../../temporal/embedded';
import { hostTaskQueue, WORKFLOW_TASK_QUEUE } from '../../config/names';
import { parse } from '../args';
import { serverMarkerOf } from '../../activities/markers';
import { CliError, EXIT } from '../exit-codes';
import { A2ADeployError } from '../../api/errors';
import { keyRingFor } from '../../temporal/codec-keys';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'worker');
  const what = values.host ? `background worker for host ${values.host}` : 'background worker';
  if (values.stop) {
    const stopped = await stopWorkerDetached(undefined, values.host);
    process.stdout.write(stopped ? `${what[0].toUpperCase()}${what.slice(1)} stopped.\n` : `No ${what} was running.\n`);
    return EXIT.ok;
  }
  if (values.detach) return detach(values, what);
  const cfg = temporalConfig();
  // A missing or bad key file: exit 2 with its hint now, before a metrics server or the SDK's
  // Runtime exists to keep the process running after the error.
  keyRingFor(cfg);
  const { createWorker } = await import('../../workers/worker');
  const { collectEveryMs, startLeftoverCollector } = await import('../../workers/collect-leftovers');
  const collectEvery = collectEveryMs(values['collect-every']);
  // Metrics and the log format are set up before the worker: the SDK Runtime takes them at install.
  const { startMetrics } = await import('../../metrics');
  const observability = await startMetrics({ cfg, host: values.host, metrics: values.metrics, logFormat: values['log-format'] });
  let worker;
  try {
    worker = await createWorker(cfg, values.host ? { host: values.host } : {});
  } catch (err) {
    if (err instanceof CliError || err instanceof A2ADeployError) throw err; // e.g. a bad key file: exit 2, its hint
    throw unreachable(cfg, err);
  }
  const unregister = registerLocalWorker(values.host);
  const queue = values.host ? hostTaskQueue(values.host) : WORKFLOW_TASK_QUEUE;
  const started = `Worker${values.host ? ` for host ${values.host}` : ''} polling '${queue}' on ${cfg.address} (namespace ${cfg.namespace}, pid ${process.pid}). Ctrl-C stops it; agents keep running.`;
  const metricsLine = observability.url ? `Metrics at ${observability.url}` : 'Metrics off.';
  const collectLine = collectEvery
    ? `Collecting agents of ended jobs on this machine every ${collectEvery / 1000} s.`
    : 'Collection of agents of ended jobs off (a2a-deploy gc does it by hand).';
  process.stdout.write(observability.startupLines([started, metricsLine, collectLine]));
  await observability.collectJobs();
  const collector = collectEvery ? await connectClient(cfg) : undefined;
  const stopCollecting =
    collector && collectEvery
      ? startLeftoverCollector({
          client: collector,
          server: await serverMarkerOf(collector.workflowService, cfg),
          docker: new Docker(),
          everyMs: collectEvery,
          log: (level, message, meta) => observability.log(level, message, meta),
        })
      : async () => undefined;
  try {
    await worker.run(); // returns after SIGINT/SIGTERM, which the SDK handles
  } finally {
    await stopCollecting();
    unregister();
    await observability.close();
    await collector?.connection.close();
    // The SDK's Runtime shuts down once its last connection closes; until then, with the core's
    // logs forwarded (--log-format json), its log callback keeps this process alive after run().
    await worker.connection?.close();
  }
  return EXIT.ok;
}

/**
 * `worker --detach`: the same worker in the background, with the flags given here, reported
 * started once it is up; one that dies first is reported with its own error and exit code.
 */
async function detach(values: ReturnType<typeof parse<'worker'>>['values'], what: string): Promise<number> {
  const args: string[] = [];
  for (const flag of ['metrics', 'log-format', 'collect-every'] as const)
    if (values[flag] !== undefined) args.push(`--${flag}`, String(values[flag]));
  const r = await startWorkerDetached({ ...(values.host ? { host: values.host } : {}), args });
  if (r.ok) {
    process.stdout.write(`${what[0].toUpperCase()}${what.slice(1)} started (pid ${r.pid}, log ${r.log}).\n`);
    return EXIT.ok;
  }
  const stop = `a2a-deploy worker --stop${values.host ? ` --host ${values.host}` : ''}`;
  if ('running' in r)
    throw new CliError(`a ${what} runs already (pid ${r.running}, log ${r.log})`, EXIT.invalidInput, `stop it first with \`${stop}\``);
  // Its own last words (what `a2a-deploy worker` would have printed), and its exit code.
  const said = r.output.trim().split('\n').slice(-8).join('\n');
  const code = r.exitCode !== null && r.exitCode > 0 && r.exitCode <= EXIT.noWorker ? r.exitCode : EXIT.jobFailed;
  throw new CliError(
    `the ${what} exited at once${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}:\n${said}`,
    code,
    `its log: ${r.log}`,
  );
}
