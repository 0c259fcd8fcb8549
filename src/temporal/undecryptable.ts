// What a worker does with a job it cannot decrypt (a payload encrypted with a key it lacks).
//
// The SDK decodes a workflow task's payloads before the workflow sees them, and a codec error
// fails the workflow task, which the server retries for ever (TS SDK 1.24 has no option to
// fail the workflow on a codec error instead: temporalio/sdk-typescript#1139). Left at that,
// a job started with a key this worker lacks hangs unseen, and a foreground `start` waits.
//
// So the worker's codec reports such failures here, and:
// - a job that never ran (no workflow task of its run ever completed, and the run is not a
//   continue-as-new) has started nothing: it is terminated at once, the reason naming the key
//   id, which `start` and `status` show. Nothing was decoded, so nothing garbled was written.
// - a job that has run keeps failing its task and waits for a worker with the key (it resumes
//   then): ending it would leave its agents running without an orchestrator. The worker logs it.
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { hostname } from 'node:os';
import { PayloadKeyError } from './codec';

type WorkflowService = {
  describeWorkflowExecution(
    req: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionRequest,
  ): Promise<temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse>;
  getWorkflowExecutionHistory(
    req: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest,
  ): Promise<temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse>;
  terminateWorkflowExecution(req: temporal.api.workflowservice.v1.ITerminateWorkflowExecutionRequest): Promise<unknown>;
};

/** The encryption codec, telling `onKeyError` about every workflow payload it cannot decrypt. */
export class ReportingCodec implements PayloadCodec {
  constructor(
    private readonly inner: PayloadCodec,
    private readonly onKeyError: (workflowId: string, err: PayloadKeyError) => unknown,
  ) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return this.inner.encode(payloads);
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    try {
      return await this.inner.decode(payloads);
    } catch (err) {
      // Activities fail on their own with the same message, and the workflow decides about them.
      if (err instanceof PayloadKeyError && context?.type === 'workflow') this.onKeyError(context.workflowId, err);
      throw err;
    }
  }
}

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
/** A job is looked at once per this long, however often its task is retried. */
const RECHECK_MS = 60_000;

/**
 * The handler for ReportingCodec: terminates a job that never ran, naming the key, and logs
 * one that has (see the top of this file). Never throws: it runs beside the failing task.
 */
export function undecryptableJobs(
  service: WorkflowService,
  namespace: string,
  log: (message: string, meta: Record<string, unknown>) => void,
): (workflowId: string, err: PayloadKeyError) => Promise<void> {
  const seen = new Map<string, number>();
  const identity = `a2a-deploy worker ${process.pid}@${hostname()}`;
  return async (workflowId, err) => {
    if (Date.now() - (seen.get(workflowId) ?? 0) < RECHECK_MS) return;
    seen.set(workflowId, Date.now());
    await (async () => {
      const d = await service.describeWorkflowExecution({ namespace, execution: { workflowId } });
      const info = d.workflowExecutionInfo;
      const runId = info?.execution?.runId ?? undefined;
      if (!runId || info?.status !== RUNNING) return; // a query on a closed job: nothing to end
      const history = await service.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 50 });
      const events = history.history?.events ?? [];
      const ran =
        !!events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ||
        events.some((e) => e.workflowTaskCompletedEventAttributes) ||
        !!history.nextPageToken?.length; // more than a page of history: it has run
      if (ran) {
        log(`job ${workflowId} waits for a worker that can decrypt it: ${err.message}`, { workflowId, keyId: err.keyId });
        return;
      }
      await service.terminateWorkflowExecution({
        namespace,
        workflowExecution: { workflowId, runId },
        reason: `no agent was started: worker ${process.pid} on ${hostname()} ${err.message}`,
        identity,
      });
      log(`job ${workflowId} ended before it started anything: ${err.message}`, { workflowId, keyId: err.keyId });
    })().catch((e: Error) => {
      seen.delete(workflowId); // try again on the next failed attempt
      log(`job ${workflowId} cannot be decrypted (${err.message}), and ending it failed: ${e.message}`, { workflowId });
    });
  };
}
