// Readiness probes: is an agent ready to be called? Three kinds, chosen by `config.health.type`:
//   a2a  (default) its agent card answers and advertises the URL the plan gave the agent;
//   http a GET of `health.path` answers 2xx (the behaviour before readiness types existed);
//   tcp  its port accepts a connection.
// Each probe says what it saw, so a deploy that times out can tell the user why, with a hint.
import { connect } from 'node:net';
import { getText } from '../common/http-get';
import { LEGACY_CARD_PATH } from '../a2a/card-paths';
import { AGENT_CARD_PATH as CARD_PATH, type ReadinessType } from '../job/readiness';

export type { ReadinessType };

export interface ReadinessTarget {
  /** absent in plans recorded before readiness types: those keep the plain HTTP check */
  type?: ReadinessType;
  /** what is probed: the health URL (http), the card URL (a2a), or any URL of the port (tcp) */
  probeUrl: string;
  /** the URL the plan gave the agent (AGENT_URL): its card must advertise it */
  agentUrl: string;
}

export type ProbeResult =
  | { ready: true }
  | {
      ready: false;
      /** what the probe saw, e.g. "connection refused", "HTTP 404 at …" */
      saw: string;
      hint: string;
      /** the agent is up but can never become ready as it is (its card advertises another URL) */
      fatal?: boolean;
    };

export function readinessType(type: ReadinessType | undefined): ReadinessType {
  return type ?? 'http';
}

export async function probeReadiness(target: ReadinessTarget, timeoutMs = 1000): Promise<ProbeResult> {
  switch (readinessType(target.type)) {
    case 'tcp':
      return probeTcp(target.probeUrl, timeoutMs);
    case 'http':
      return probeHttp(target.probeUrl, timeoutMs);
    case 'a2a':
      return probeCard(target, timeoutMs);
  }
}

type Fetched = { status: number; body: string } | { error: string };

async function get(url: string, timeoutMs: number): Promise<Fetched> {
  try {
    return await getText(url, timeoutMs);
  } catch (err) {
    return { error: networkError(err, timeoutMs) };
  }
}

/** "connection refused", "timed out after 1000 ms", ... from a fetch or socket error. */
function networkError(err: unknown, timeoutMs?: number): string {
  const seen = new Set<unknown>();
  for (
    let e = err as { code?: string; name?: string; message?: string; cause?: unknown } | undefined;
    e && !seen.has(e);
    e = e.cause as typeof e
  ) {
    seen.add(e);
    if (e.code === 'ECONNREFUSED') return 'connection refused';
    if (e.code === 'ECONNRESET' || e.code === 'UND_ERR_SOCKET') return 'connection reset';
    if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return 'host unreachable';
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'host name not found';
    if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT')
      return `no answer within ${timeoutMs ?? 'the probe timeout'}${timeoutMs ? ' ms' : ''}`;
  }
  return (err as Error)?.message ?? String(err);
}

const notListeningHint = (url: string) =>
  `nothing accepts connections at ${new URL(url).host}: the agent must listen on AGENT_HOST:AGENT_PORT (see its log with \`a2a-deploy logs\`)`;

async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const r = await get(url, timeoutMs);
  if ('error' in r) return { ready: false, saw: `${r.error} at ${url}`, hint: notListeningHint(url) };
  if (r.status >= 200 && r.status < 300) return { ready: true };
  return {
    ready: false,
    saw: `HTTP ${r.status} at ${url}`,
    hint:
      r.status === 404
        ? `the agent answers but serves no ${new URL(url).pathname}: set health.path to a path it serves, or drop it to use readiness type a2a (its agent card)`
        : 'the agent answers but is not healthy yet; see its log with `a2a-deploy logs`',
  };
}

function probeTcp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ready: false, saw: `no answer from ${u.host} within ${timeoutMs} ms`, hint: notListeningHint(url) }),
    );
    socket.once('connect', () => done({ ready: true }));
    socket.once('error', (err) => done({ ready: false, saw: `${networkError(err, timeoutMs)} at ${u.host}`, hint: notListeningHint(url) }));
  });
}

async function probeCard(target: ReadinessTarget, timeoutMs: number): Promise<ProbeResult> {
  const primary = target.probeUrl;
  let r = await get(primary, timeoutMs);
  let url = primary;
  if (!('error' in r) && r.status === 404) {
    // Agents written for A2A before 0.3 serve their card here.
    const legacy = new URL(LEGACY_CARD_PATH, primary).href;
    const second = await get(legacy, timeoutMs);
    if (!('error' in second) && second.status !== 404) [r, url] = [second, legacy];
  }
  if ('error' in r) return { ready: false, saw: `${r.error} at ${url}`, hint: notListeningHint(url) };
  const cardHint =
    `an A2A agent serves its agent card at ${CARD_PATH} (the a2a-sdk does so by itself); ` +
    'for an agent that is no A2A server, set health.type: http with a health.path, or health.type: tcp';
  if (r.status === 404) return { ready: false, saw: `HTTP 404 at ${primary} and at ${LEGACY_CARD_PATH}`, hint: cardHint };
  if (r.status < 200 || r.status >= 300) {
    return {
      ready: false,
      saw: `HTTP ${r.status} at ${url}`,
      hint: 'the agent answers but not with its card yet; see its log with `a2a-deploy logs`',
    };
  }
  let card: unknown;
  try {
    card = JSON.parse(r.body);
  } catch {
    return { ready: false, saw: `an answer at ${url} that is not JSON (${JSON.stringify(r.body.slice(0, 60))})`, hint: cardHint };
  }
  const advertised = advertisedUrl(card);
  if (!advertised.ok) return { ready: false, saw: `JSON at ${url} that is not an agent card (${advertised.why})`, hint: cardHint };
  if (!sameAgentUrl(advertised.url, target.agentUrl)) {
    return {
      ready: false,
      fatal: true,
      saw: `the agent card at ${url} advertises ${advertised.url}, but the agent's URL is ${target.agentUrl}`,
      hint: 'callers dial the URL the card advertises: advertise the URL in AGENT_URL (the a2a-sdk: AgentCard url / supportedInterfaces[].url = os.environ["AGENT_URL"])',
    };
  }
  return { ready: true };
}

/**
 * The URL an agent card tells callers to dial: v1.0, the first (preferred) `supportedInterfaces`
 * entry; v0.3, `url`. Anything else is not a card.
 */
export function advertisedUrl(card: unknown): { ok: true; url: string } | { ok: false; why: string } {
  if (!card || typeof card !== 'object' || Array.isArray(card)) return { ok: false, why: 'not an object' };
  const c = card as { name?: unknown; supportedInterfaces?: unknown; url?: unknown };
  if (typeof c.name !== 'string') return { ok: false, why: 'no name' };
  if (Array.isArray(c.supportedInterfaces) && c.supportedInterfaces.length > 0) {
    const first = c.supportedInterfaces[0] as { url?: unknown } | null;
    if (typeof first?.url === 'string' && first.url) return { ok: true, url: first.url };
    return { ok: false, why: 'its first supportedInterfaces entry has no url' };
  }
  if (typeof c.url === 'string' && c.url) return { ok: true, url: c.url };
  return { ok: false, why: 'neither supportedInterfaces nor url' };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '0.0.0.0', '[::1]', '::1']);

/**
 * Two URLs name the same agent: equal up to a trailing slash, and on this machine 127.0.0.1,
 * localhost and 0.0.0.0 are one host.
 */
export function sameAgentUrl(a: string, b: string): boolean {
  let x: URL, y: URL;
  try {
    x = new URL(a);
    y = new URL(b);
  } catch {
    return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  }
  const host = (u: URL) => (LOOPBACK.has(u.hostname) ? 'loopback' : u.hostname);
  const path = (u: URL) => u.pathname.replace(/\/+$/, '');
  return x.protocol === y.protocol && host(x) === host(y) && x.port === y.port && path(x) === path(y) && x.search === y.search;
}

/** The error a deploy fails with when readiness never came: what the last probe saw, and a hint. */
export function notReadyMessage(agentId: string, target: ReadinessTarget, timeoutMs: number, last: ProbeResult | undefined): string {
  const head = `agent '${agentId}' did not become healthy at ${target.probeUrl} within ${timeoutMs} ms (readiness ${readinessType(target.type)})`;
  if (!last || last.ready) return head;
  return `${head}: the last probe saw ${last.saw}. Hint: ${last.hint}`;
}
