// What `a2a-deploy send` prints of an A2A reply: lines a person reads, from a Message, a Task or
// the events of a stream, and failures as the agent worded them. Type-only SDK imports.
import type { Message, StreamResponse, Task, TaskState } from '@a2a-js/sdk';
import { partsText } from '../a2a/parts';

/** What a blocking reply says: a message's text, or a task's artifacts (else its status message). */
export function replyLines(reply: Message | Task): string[] {
  if ('parts' in reply && Array.isArray(reply.parts)) return nonEmpty(partsText(reply.parts));
  const task = reply as Task;
  const artifacts = (task.artifacts ?? []).map((a) => partsText(a.parts)).filter(Boolean);
  if (artifacts.length) return artifacts.flatMap(nonEmpty);
  return nonEmpty(partsText(task.status?.message?.parts));
}

/** What one stream event adds: progress notes, artifact text as it arrives, the task's state. */
export function eventLines(event: StreamResponse): { lines: string[]; state?: string } {
  const p = event.payload;
  switch (p?.$case) {
    case 'message':
      return { lines: nonEmpty(partsText(p.value.parts)) };
    case 'task': {
      const state = stateName(p.value.status?.state);
      return { lines: replyLines(p.value).map((l) => `… ${l}`), ...(state ? { state } : {}) };
    }
    case 'statusUpdate': {
      const state = stateName(p.value.status?.state);
      return { lines: nonEmpty(partsText(p.value.status?.message?.parts)).map((l) => `… ${l}`), ...(state ? { state } : {}) };
    }
    case 'artifactUpdate':
      return { lines: nonEmpty(partsText(p.value.artifact?.parts)) };
    default:
      return { lines: [] };
  }
}

// The SDK's TaskState enum, by number (TASK_STATE_INPUT_REQUIRED = 6 -> input-required).
const STATES = ['unspecified', 'submitted', 'working', 'completed', 'failed', 'canceled', 'input-required', 'rejected', 'auth-required'];

/** A task state as a word; undefined when unset. */
export function stateName(state: TaskState | undefined): string | undefined {
  if (state === undefined || state === 0) return undefined;
  return STATES[state] ?? String(state);
}

const nonEmpty = (text: string): string[] => (text ? text.split('\n') : []);

/**
 * The agent's own error text, for a person: never an HTML page or a stack trace. The SDK quotes
 * a failed answer's body in its error; an HTML body is named, not printed.
 */
export function failureText(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: unknown };
  let message = typeof e?.message === 'string' ? e.message : String(err);
  message = message.replace(/Response:\s*<(!doctype|html)[\s\S]*$/i, 'Response: an HTML page');
  if (/<(!doctype|html)\b/i.test(message)) message = message.replace(/<(!doctype|html)[\s\S]*$/i, '(an HTML page)');
  const causes: string[] = [];
  const seen = new Set<unknown>();
  for (let c = e?.cause as { code?: string; message?: string; cause?: unknown } | undefined; c && !seen.has(c); c = c.cause as typeof c) {
    seen.add(c);
    if (c.code === 'ECONNREFUSED') causes.push('connection refused');
    else if (c.code) causes.push(c.code);
  }
  if (/^fetch failed$/i.test(message) && causes.length) message = causes[0];
  else if (causes.length && !message.includes(causes[0])) message += ` (${causes[0]})`;
  if (e && (e as Error).name === 'TimeoutError') message = 'no reply in time (see --timeout)';
  const firstLines = message.split('\n').filter((l) => !/^\s+at /.test(l));
  const text = firstLines.join(' ').trim();
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
