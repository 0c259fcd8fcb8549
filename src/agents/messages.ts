// A2A messages as the example agents and `a2a-deploy send` build and read them. Replies may come in
// either protocol version's shape (v1.0's `content` union, v0.3's flat `text`/`data` fields) and
// as a Message or a Task (its status message, or its artifacts), so readers accept all of them.
import { randomUUID } from 'node:crypto';
import { Role } from '@a2a-js/sdk';
import type { Message, Part, Task } from '@a2a-js/sdk';

export const textPart = (value: string): Part => ({
  content: { $case: 'text', value },
  metadata: undefined,
  filename: '',
  mediaType: 'text/plain',
});

export const dataPart = (value: unknown): Part => ({
  content: { $case: 'data', value },
  metadata: undefined,
  filename: '',
  mediaType: 'application/json',
});

/** A message part as either protocol version shapes it. */
type LoosePart = { content?: { $case?: string; value?: unknown }; text?: unknown; data?: unknown } | undefined;

/** Text parts of a list of parts, joined by newlines. */
export function partsText(parts: readonly unknown[] | undefined): string {
  const out: string[] = [];
  for (const p of (parts ?? []) as LoosePart[]) {
    if (p?.content?.$case === 'text') out.push(String(p.content.value));
    else if (typeof p?.text === 'string') out.push(p.text);
  }
  return out.join('\n');
}

/** Text parts of a message, joined by newlines. */
export function messageText(message: Message | undefined): string {
  return partsText(message?.parts);
}

/** The first data part of a message, if any. */
export function messageData(message: Message | undefined): unknown {
  for (const p of (message?.parts ?? []) as LoosePart[]) {
    if (p?.content?.$case === 'data') return p.content.value;
    if (p && 'data' in p && !('content' in p)) return p.data;
  }
  return undefined;
}

/** The message an A2A send resolved to: the message itself, or a task's artifacts or status message. */
export function replyMessage(result: Message | Task): Message | undefined {
  if ('parts' in result && Array.isArray(result.parts)) return result as Message;
  const task = result as Task;
  const parts = (task.artifacts ?? []).flatMap((a) => a.parts ?? []);
  if (parts.length) return { parts } as unknown as Message;
  return task.status?.message;
}

export function userMessage(text: string, metadata?: Record<string, unknown>): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [textPart(text)],
    metadata,
    extensions: [],
    referenceTaskIds: [],
  };
}
