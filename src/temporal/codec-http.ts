// Temporal's remote codec protocol over HTTP, so the Web UI (and `temporal` CLI) can show
// payloads in clear to whoever may see them: POST /encode and POST /decode take and return
// {"payloads": [{"metadata": {KEY: base64}, "data": base64}]}. CORS lets the Web UI's origin
// call it from the browser; an optional bearer token keeps everyone else out.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY = 8 * 2 ** 20;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** origins allowed to call from a browser (the Web UI's), e.g. http://127.0.0.1:8233 */
  origins: string[];
  /** when set, requests must carry `Authorization: Bearer TOKEN` */
  token?: string;
  /** Host header values accepted (the bound address); a name that resolves elsewhere is refused,
   * so a page on another origin can't reach this server by DNS rebinding. Unset: any Host. */
  hosts?: string[];
  /** where the reason a payload could not be decoded goes (never to the client) */
  log?: (line: string) => void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The Host values a server bound to HOST:PORT answers: that address, and every loopback
 * spelling when it is bound to loopback. */
export function allowedHosts(host: string, port: number): string[] {
  const fmt = (h: string) => `${h.includes(':') ? `[${h}]` : h}:${port}`;
  return LOOPBACK.has(host) || host.startsWith('127.') ? [fmt(host), ...[...LOOPBACK].map(fmt)] : [fmt(host)];
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function createCodecServer(opts: CodecServerOptions): Server {
  const tokenOk = (req: IncomingMessage) => {
    if (!opts.token) return true;
    const got = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${opts.token}`);
    return got.length === want.length && timingSafeEqual(got, want);
  };
  return createServer((req, res) => {
    const origin = req.headers.origin;
    if (opts.hosts && !opts.hosts.includes((req.headers.host ?? '').toLowerCase()))
      return reply(res, 421, { error: 'unexpected Host header' });
    // A browser always sends Origin for cross-origin requests: only the allowed ones get in.
    if (origin !== undefined && !opts.origins.includes(origin)) return reply(res, 403, { error: 'origin not allowed' });
    if (origin && opts.origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      // The browser's preflight carries no credentials: answer it without the token.
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.writeHead(origin && opts.origins.includes(origin) ? 200 : 403).end();
      return;
    }
    const op = req.url?.split('?')[0].replace(/\/+$/, '');
    if (req.method !== 'POST' || (op !== '/encode' && op !== '/decode')) return reply(res, 404, { error: 'POST /encode or /decode' });
    if (!tokenOk(req)) return reply(res, 401, { error: 'a valid bearer token is required' });
    readBody(req)
      .then(async (body) => {
        if (body === undefined) return reply(res, 413, { error: `request body over ${MAX_BODY} bytes` });
        const parsed = JSON.parse(body) as { payloads?: JsonPayload[] };
        if (!Array.isArray(parsed.payloads)) return reply(res, 400, { error: 'body must be {"payloads": [...]}' });
        const input = parsed.payloads.map(fromJson);
        const output = op === '/encode' ? await opts.codec.encode(input) : await opts.codec.decode(input);
        reply(res, 200, { payloads: output.map(toJson) });
      })
      .catch((err: unknown) => {
        if (err instanceof SyntaxError) return reply(res, 400, { error: 'body is not JSON' });
        // The reason names key ids and the key file: it goes to this server's log, not the caller.
        (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`cannot ${op?.slice(1)}: ${(err as Error).message}`);
        reply(res, 422, { error: `cannot ${op?.slice(1)} these payloads` });
      });
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** The body, or undefined when it is over MAX_BODY. An oversized body is read to its end (and
 * dropped) so the client gets its 413 instead of a reset; one past 4 × MAX_BODY is cut off. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 4 * MAX_BODY) req.destroy();
      else if (size > MAX_BODY) chunks.length = 0;
      else chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
