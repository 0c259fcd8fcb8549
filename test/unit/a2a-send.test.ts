import type { Message, StreamResponse, Task } from '@a2a-js/sdk';
import { eventLines, failureText, replyLines, stateName } from '../../src/api/a2a-reply';

// The SDK's TaskState numbers (the SDK itself does not load under jest: it requires an ES module).
const TaskState = { TASK_STATE_WORKING: 2, TASK_STATE_COMPLETED: 3, TASK_STATE_FAILED: 4, TASK_STATE_INPUT_REQUIRED: 6 } as const;
const textPart = (text: string) => ({
  content: { $case: 'text', value: text },
  metadata: undefined,
  filename: '',
  mediaType: 'text/plain',
});

const message = (text: string) => ({ parts: [textPart(text)] }) as unknown as Message;
const task = (state: number, artifacts: string[], status?: string) =>
  ({
    id: 't',
    contextId: 'c',
    status: { state, message: status === undefined ? undefined : message(status), timestamp: undefined },
    artifacts: artifacts.map((t, i) => ({
      artifactId: String(i),
      name: '',
      description: '',
      parts: [textPart(t)],
      metadata: undefined,
      extensions: [],
    })),
    history: [],
    metadata: undefined,
  }) as Task;

test('a message prints its text; a task its artifacts, else its status message', () => {
  expect(replyLines(message('a\nb'))).toEqual(['a', 'b']);
  expect(replyLines(task(TaskState.TASK_STATE_COMPLETED, ['one', 'two']))).toEqual(['one', 'two']);
  expect(replyLines(task(TaskState.TASK_STATE_FAILED, [], 'it broke'))).toEqual(['it broke']);
  // v0.3's flat part shape reads the same
  expect(replyLines({ parts: [{ kind: 'text', text: 'flat' }] } as unknown as Message)).toEqual(['flat']);
});

test('stream events: progress notes, artifact text, the last state', () => {
  const status = {
    payload: {
      $case: 'statusUpdate',
      value: { taskId: 't', contextId: 'c', status: task(TaskState.TASK_STATE_WORKING, [], 'asking b').status, metadata: undefined },
    },
  };
  expect(eventLines(status as StreamResponse)).toEqual({ lines: ['… asking b'], state: 'working' });
  const artifact = {
    payload: {
      $case: 'artifactUpdate',
      value: {
        taskId: 't',
        contextId: 'c',
        artifact: task(0, ['the answer']).artifacts[0],
        append: false,
        lastChunk: true,
        metadata: undefined,
      },
    },
  };
  expect(eventLines(artifact as StreamResponse)).toEqual({ lines: ['the answer'] });
  expect(stateName(TaskState.TASK_STATE_INPUT_REQUIRED)).toBe('input-required');
  expect(stateName(undefined)).toBeUndefined();
});

test('failures read as the agent said them: no HTML page, no stack', () => {
  const html = new Error(
    'HTTP error for message/send! Status: 413 Payload Too Large. Response: <!DOCTYPE html><html><pre>PayloadTooLargeError: at x</pre></html>',
  );
  expect(failureText(html)).toBe('HTTP error for message/send! Status: 413 Payload Too Large. Response: an HTML page');
  const refused = new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  });
  expect(failureText(refused)).toBe('connection refused');
  expect(failureText(new Error('Task not found\n    at foo (x.js:1:1)'))).toBe('Task not found');
});
