// What a worker does with a job it cannot decrypt: the decision (end a job that never ran,
// leave one that has) on histories as the server returns them, through an in-memory service.
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, PayloadKeyError } from '../../src/temporal/codec';
import { newKeyLine, parseKeyFile } from '../../src/temporal/codec-keys';
import { ReportingCodec, undecryptableJobs } from '../../src/temporal/undecryptable';

type Event = temporal.api.history.v1.IHistoryEvent;
const { WORKFLOW_EXECUTION_STATUS_RUNNING: RUNNING, WORKFLOW_EXECUTION_STATUS_COMPLETED: COMPLETED } =
  temporal.api.enums.v1.WorkflowExecutionStatus;

const started = (continued?: string): Event => ({ workflowExecutionStartedEventAttributes: { continuedExecutionRunId: continued ?? '' } });
const failedTask: Event[] = [
  { workflowTaskScheduledEventAttributes: {} },
  { workflowTaskStartedEventAttributes: {} },
  { workflowTaskFailedEventAttributes: {} },
];
const completedTask: Event[] = [
  { workflowTaskScheduledEventAttributes: {} },
  { workflowTaskStartedEventAttributes: {} },
  { workflowTaskCompletedEventAttributes: {} },
];

/** A server holding one run of job `a2a-job-j`: what the handler asks, and what it terminated. */
function server(events: Event[], status = RUNNING) {
  const calls = { describe: 0, terminated: [] as { runId: string; reason: string }[] };
  return {
    calls,
    service: {
      describeWorkflowExecution: async () => {
        calls.describe++;
        return { workflowExecutionInfo: { execution: { workflowId: 'a2a-job-j', runId: 'run-1' }, status } };
      },
      getWorkflowExecutionHistory: async () => ({ history: { events } }),
      terminateWorkflowExecution: async (req: temporal.api.workflowservice.v1.ITerminateWorkflowExecutionRequest) => {
        calls.terminated.push({ runId: req.workflowExecution!.runId!, reason: req.reason! });
        return {};
      },
    },
  };
}

const keyError = new PayloadKeyError("cannot decrypt a payload encrypted with key 'k-1': this process holds keys 'k-2'", 'k-1');

describe('a job a worker cannot decrypt', () => {
  test('one that never ran is terminated, the reason naming the key', async () => {
    const { service, calls } = server([started(), ...failedTask]);
    const logs: string[] = [];
    await undecryptableJobs(service, 'default', (m) => logs.push(m))('a2a-job-j', keyError);
    expect(calls.terminated).toEqual([
      {
        runId: 'run-1',
        reason: expect.stringMatching(/^no agent was started: worker \d+ on .* cannot decrypt a payload encrypted with key 'k-1'/),
      },
    ]);
    expect(logs).toEqual([expect.stringContaining('ended before it started anything')]);
  });

  test('one that has run, or continued as new, is left to wait for a worker with the key', async () => {
    for (const events of [
      [started(), ...completedTask, ...failedTask],
      [started('run-0'), ...failedTask],
    ]) {
      const { service, calls } = server(events);
      const logs: string[] = [];
      await undecryptableJobs(service, 'default', (m) => logs.push(m))('a2a-job-j', keyError);
      expect(calls.terminated).toEqual([]);
      expect(logs).toEqual([
        expect.stringContaining("waits for a worker that can decrypt it: cannot decrypt a payload encrypted with key 'k-1'"),
      ]);
    }
  });

  test('a closed job (a query replaying it) is left alone; retries of one task are looked at once', async () => {
    const closed = server([started(), ...failedTask], COMPLETED);
    await undecryptableJobs(closed.service, 'default', () => {})('a2a-job-j', keyError);
    expect(closed.calls.terminated).toEqual([]);

    const fresh = server([started(), ...failedTask]);
    const handle = undecryptableJobs(fresh.service, 'default', () => {});
    await Promise.all([handle('a2a-job-j', keyError), handle('a2a-job-j', keyError), handle('a2a-job-j', keyError)]);
    expect(fresh.calls.describe).toBe(1);
    expect(fresh.calls.terminated).toHaveLength(1);
  });

  test('the codec reports workflow payloads it cannot decrypt (not activity ones) and still fails them', async () => {
    const theirs = new EncryptionCodec(parseKeyFile('theirs', newKeyLine()));
    const [payload] = await theirs.encode([defaultPayloadConverter.toPayload({ plan: 'x' }) as Payload]);
    const reported: string[] = [];
    const codec = new ReportingCodec(new EncryptionCodec(parseKeyFile('ours', newKeyLine())), (id) => reported.push(id));
    await expect(codec.decode([payload], { type: 'workflow', namespace: 'default', workflowId: 'a2a-job-j' })).rejects.toThrow(
      PayloadKeyError,
    );
    await expect(
      codec.decode([payload], { type: 'activity', namespace: 'default', workflowId: 'a2a-job-k', isLocal: false }),
    ).rejects.toThrow(PayloadKeyError);
    expect(reported).toEqual(['a2a-job-j']);
  });
});
