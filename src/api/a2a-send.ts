// The protocol side of `a2a-deploy send`: one text message to one agent, in any A2A version and
// binding its card offers, blocking or streamed, and the reply turned into lines a person reads.
import type { StreamResponse } from '@a2a-js/sdk';
import { a2aClientFactory } from '../a2a/client';
import { userMessage } from '../a2a/messages';
import { eventLines, replyLines, stateName } from './a2a-reply';

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
