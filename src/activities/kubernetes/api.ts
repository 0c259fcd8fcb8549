// A small client of the Kubernetes API over node's https with the kubeconfig's credentials
// (no client library is installed here): JSON requests, server-side apply, and streamed
// responses for logs. Errors carry the API's own message (a Status object's `message`).
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { ClusterAccess } from './kubeconfig';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The field manager of every server-side apply: what owns the fields a2a-deploy sets. */
export const FIELD_MANAGER = 'a2a-deploy';

export class KubeApi {
  private readonly agent: Agent;
  constructor(readonly access: ClusterAccess) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      ...(access.ca ? { ca: access.ca } : {}),
      ...(access.cert ? { cert: access.cert } : {}),
      ...(access.key ? { key: access.key } : {}),
      rejectUnauthorized: !access.insecure,
    });
  }

  /** The raw response (any status), its body read up to `maxBytes`. */
  raw(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 30_000,
  ): Promise<{ res: IncomingMessage; text: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(this.access.server + path);
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = { Accept: 'application/json' };
      // An explicit length: node sends a DELETE's body with neither a length nor chunking, and
      // the server then reads that body as the next request on the kept-alive socket.
      if (payload !== undefined)
        Object.assign(headers, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) });
      if (this.access.token) headers.Authorization = `Bearer ${this.access.token}`;
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        { method, headers, ...(url.protocol === 'https:' ? { agent: this.agent } : {}), timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ res, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no answer from the Kubernetes API within ${timeoutMs} ms (${method} ${url.pathname})`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A JSON request; a 4xx/5xx (other than those in `ok`) throws KubeApiError with the API's message. */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    opts: { ok?: number[]; contentType?: string } = {},
  ): Promise<ApiResponse<T>> {
    const { res, text } = await this.raw(method, path, body, opts.contentType);
    const status = res.statusCode ?? 0;
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 400 && !(opts.ok ?? []).includes(status)) {
      const msg = (parsed as { message?: string } | undefined)?.message ?? text.slice(0, 300);
      throw new KubeApiError(status, `Kubernetes API ${method} ${path.split('?')[0]}: HTTP ${status}: ${msg}`);
    }
    return { status, body: parsed as T, text };
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.call<T>('GET', path, undefined, { ok: [404] });
  }

  /** Server-side apply: creates or updates the object, idempotently, owning the fields it sets. */
  apply(path: string, object: unknown) {
    return this.call('PATCH', `${path}?fieldManager=${FIELD_MANAGER}&force=true`, object, { contentType: 'application/apply-patch+yaml' });
  }

  /** Deletes with the given propagation; a missing object is not an error (idempotent). */
  delete(path: string, propagation: 'Foreground' | 'Background' = 'Foreground', gracePeriodSeconds?: number) {
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: propagation,
      ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
    };
    return this.call('DELETE', path, body, { ok: [404] });
  }

  close() {
    this.agent.destroy();
  }
}
