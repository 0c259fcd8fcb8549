// Calling peers: one SDK client per peer URL, retried while the peer is not listening yet;
// and reading the peers and the forwarding metadata this agent was given.
import type { Message } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { a2aClientFactory } from '../a2a/client';
import { sleep } from '../common/sleep';
import { userMessage } from '../a2a/messages';
import { messageData, messageText, replyMessage } from '../a2a/parts';
import { configError, METADATA_KEY, type Contribution, type Peer, type PeerReply, type ReplyData } from './protocol';

const clientFactory = a2aClientFactory();
const clients = new Map<string, Promise<Client>>();

function isConnectionError(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined; e && !seen.has(e); e = e.cause as typeof e) {
    seen.add(e);
    if (['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(e.code ?? '')) return true;
    if (typeof e.message === 'string' && /fetch failed|ECONNREFUSED|socket hang up/i.test(e.message)) return true;
  }
  return false;
}

export const errorText = (err: unknown): string => {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause && !String(e?.message).includes(cause) ? ` (${cause})` : ''}`;
};

/**
 * Send a text message to an A2A agent at `url` with the SDK client and return the reply message.
 * Connection failures (agent not listening yet) are retried until `connectMs` has passed.
 */
export async function sendText(
  url: string,
  text: string,
  options: { metadata?: Record<string, unknown>; timeoutMs?: number; connectMs?: number } = {},
): Promise<Message | undefined> {
  const deadline = Date.now() + (options.connectMs ?? 10_000);
  for (let attempt = 0; ; attempt++) {
    try {
      let client = clients.get(url);
      if (!client) {
        client = clientFactory.createFromUrl(url);
        clients.set(url, client);
        const mine = client;
        client.catch(() => clients.get(url) === mine && clients.delete(url));
      }
      const result = await (
        await client
      ).sendMessage(
        { tenant: '', message: userMessage(text, options.metadata), configuration: undefined, metadata: undefined },
        { signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) },
      );
      return replyMessage(result);
    } catch (err) {
      if (!isConnectionError(err) || Date.now() >= deadline) throw await withDialledUrl(err, url);
      clients.delete(url);
      await sleep(Math.min(1000, 100 * 2 ** attempt));
    }
  }
}

/**
 * A caller dials the URL a peer's card advertises, not the one it was given: when they differ,
 * the error names the one actually dialled.
 */
async function withDialledUrl(err: unknown, url: string): Promise<unknown> {
  try {
    const client = await clients.get(url);
    const card = await client?.getAgentCard({ signal: AbortSignal.timeout(2000) });
    const dialled = card?.supportedInterfaces?.[0]?.url;
    if (dialled && dialled.replace(/\/+$/, '') !== url && err instanceof Error) {
      err.message += ` (dialled ${dialled}, the URL its agent card advertises instead of ${url})`;
    }
  } catch {
    // no card to consult: the error stands as it is
  }
  return err;
}

/** Parse a reply message into a PeerReply (works for agents that are not ours too). */
export function toPeerReply(peer: Peer, message: Message | undefined): PeerReply {
  const text = messageText(message);
  const data = messageData(message) as Partial<ReplyData> | undefined;
  const agent = typeof data?.agent === 'string' && data.agent ? data.agent : peer.id;
  const contributions = Array.isArray(data?.contributions)
    ? (data!.contributions as Contribution[]).filter((c) => c && typeof c.agent === 'string')
    : [{ agent, kind: 'unknown', summary: text.split('\n')[0] ?? '', result: data ?? text }];
  const error = typeof data?.error === 'string' ? data.error : undefined;
  return {
    agent,
    url: peer.url,
    ok: !error,
    text: text || `${agent}: (no text)`,
    result: data?.result ?? null,
    contributions,
    ...(error ? { error } : {}),
  };
}

export function readPeers(): Peer[] {
  const raw = process.env.A2A_PEERS?.trim();
  let map: Record<string, string> = {};
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      map = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch (err) {
      configError(`A2A_PEERS is not a JSON object of id -> URL: ${(err as Error).message}`);
    }
  }
  const norm = (u: string) => u.trim().replace(/\/+$/, '');
  const idByUrl = new Map(Object.entries(map).map(([id, u]) => [norm(u), id]));
  const urls = (process.env.CONNECTED_AGENTS ?? '').split(',').map(norm).filter(Boolean);
  const peers: Peer[] = [];
  const seen = new Set<string>();
  for (const url of urls) {
    const id = idByUrl.get(url) ?? url;
    if (!seen.has(id)) peers.push({ id, url });
    seen.add(id);
  }
  // Peers only given in A2A_PEERS are still peers.
  for (const [id, url] of Object.entries(map)) {
    if (seen.has(id)) continue;
    peers.push({ id, url: norm(url) });
    seen.add(id);
  }
  return peers;
}

export function readVisited(
  message: Message | undefined,
  request: { metadata?: Record<string, unknown> | undefined },
): { visited: string[]; forwarded: boolean } {
  const meta = (message?.metadata?.[METADATA_KEY] ?? request.metadata?.[METADATA_KEY]) as { visited?: unknown } | undefined;
  if (!meta || typeof meta !== 'object') return { visited: [], forwarded: false };
  const visited = Array.isArray(meta.visited) ? meta.visited.filter((v): v is string => typeof v === 'string') : [];
  return { visited, forwarded: true };
}
