import Docker from 'dockerode';
import { connectClient, temporalConfig, unreachable } from '../../temporal/connection';
import { registerLocalWorker, startWorkerDetached, stopWorkerDetached, workerLogFile } from '../../temporal/embedded';
import { hostTaskQueue, WORKFLOW_TASK_QUEUE } from '../../config/names';
import { parse } from '../args';
import { serverMarkerOf } from '../../activities/markers';
import { CliError, EXIT } from '../exit-codes';
import { A2ADeployError } from '../../api/errors';
import { keyRingFor } from '../../temporal/codec-keys';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'worker');
  if (values.stop) {
    process.stdout.write((await stopWorkerDetached()) ? 'Background worker stopped.\n' : 'No background worker was running.\n');
    return EXIT.ok;
  }
  if (values.detach) {
    process.stdout.write(`Background worker started (pid ${startWorkerDetached()}, log ${workerLogFile()}).\n`);
    return EXIT.ok;
  }
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
  }
  return EXIT.ok;
}
