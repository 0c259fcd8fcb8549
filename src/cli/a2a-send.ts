// The protocol side of `a2a-deploy send`: one text message to one agent, in any A2A version and
// binding its card offers, blocking or streamed, and the reply turned into lines a person reads.
import { TaskState } from '@a2a-js/sdk';
import type { Message, StreamResponse, Task } from '@a2a-js/sdk';
import { a2aClientFactory } from '../agents/client';
import { partsText, userMessage } from '../agents/messages';

export interface SendOptions {
  timeoutMs: number;
  /** message/stream; an agent whose card says it does not stream gets a blocking send */
  stream: boolean;
  /** a line of the reply, as soon as it is known (streamed replies print as they arrive) */
  onLine(line: string): void;
  /** a remark about the exchange itself (e.g. the agent does not stream) */
  onNote(note: string): void;
}

export interface SendOutcome {
  /** the reply as received: a Message or Task, or every event of a stream */
  reply: unknown;
  streamed: boolean;
  /** the task's last state (completed, failed, ...), when the reply was a task */
  state?: string;
}

export async function sendText(url: string, text: string, options: SendOptions): Promise<SendOutcome> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const client = await a2aClientFactory(options.timeoutMs).createFromUrl(url);
  const request = {
    tenant: '',
    message: userMessage(text),
    configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
    metadata: undefined,
  };
  let streams = false;
  if (options.stream) {
    const card = await client.getAgentCard({ signal });
    streams = card.capabilities?.streaming === true;
    if (!streams) options.onNote(`${card.name || url} does not stream (its card says streaming: false); sent without streaming`);
  }
  if (!streams) {
    const reply = await client.sendMessage(request, { signal });
    for (const line of replyLines(reply)) options.onLine(line);
    const state = 'parts' in reply ? undefined : stateName(reply.status?.state);
    if (state) options.onLine(`(task ${state})`);
    return { reply, streamed: false, ...(state ? { state } : {}) };
  }
  const events: StreamResponse[] = [];
  let state: string | undefined;
  for await (const event of client.sendMessageStream(request, { signal })) {
    events.push(event);
    const seen = eventLines(event);
    for (const line of seen.lines) options.onLine(line);
    if (seen.state) state = seen.state;
  }
  if (state) options.onLine(`(task ${state})`);
  return { reply: events, streamed: true, ...(state ? { state } : {}) };
}

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

/** TASK_STATE_COMPLETED -> completed (the SDK gives the enum's number). */
export function stateName(state: TaskState | undefined): string | undefined {
  if (state === undefined || state === TaskState.TASK_STATE_UNSPECIFIED) return undefined;
  const name = TaskState[state] as string | undefined;
  return name
    ? name
        .replace(/^TASK_STATE_/, '')
        .toLowerCase()
        .replace(/_/g, '-')
    : String(state);
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
