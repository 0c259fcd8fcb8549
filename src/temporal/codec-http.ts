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
        const parsed = JSON.parse(body) as { payloads?: JsonPayload[] };
        if (!Array.isArray(parsed.payloads)) return reply(res, 400, { error: 'body must be {"payloads": [...]}' });
        const input = parsed.payloads.map(fromJson);
        const output = op === '/encode' ? await opts.codec.encode(input) : await opts.codec.decode(input);
        reply(res, 200, { payloads: output.map(toJson) });
      })
      .catch((err: unknown) => reply(res, err instanceof SyntaxError ? 400 : 422, { error: (err as Error).message }));
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
