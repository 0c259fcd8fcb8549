// Reading A2A replies, as the example agents and `a2a-deploy send` do. Replies may come in either
// protocol version's shape (v1.0's `content` union, v0.3's flat `text`/`data` fields) and as a
// Message or a Task (its artifacts, or its status message), so readers accept all of them.
// Type-only imports of the SDK: this loads without it.
import type { Message, Task } from '@a2a-js/sdk';

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
