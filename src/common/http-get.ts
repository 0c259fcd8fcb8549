// One small HTTP GET for probes: node's own http client with connections kept alive, not
// fetch(). A readiness or health probe is the worker's most frequent call (every watched agent,
// every few seconds), and fetch costs about 0.6 ms of CPU per request here against about 0.2 ms
// for a request on a kept-alive connection: at a thousand agents that is most of a core.
import { Agent as HttpAgent, get as httpGet, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';

// One connection per agent at most, kept between probes. Idle ones close after 4 s, before the
// usual servers' keep-alive of 5 s (node, uvicorn) ends them: a request written on a connection
// the server is closing fails, and a watch would count that as a missed health check.
const IDLE_MS = 4000;
const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 1, timeout: IDLE_MS }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 1, timeout: IDLE_MS }),
};

export interface GetResult {
  status: number;
  /** the body's first `maxBody` bytes, as UTF-8 */
  body: string;
}

/** Errors carry the code of the socket error (ECONNREFUSED, ...) or name TimeoutError. */
export function getText(url: string, timeoutMs: number, maxBody = 256 * 1024): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      return reject(err as Error);
    }
    const protocol = u.protocol === 'https:' ? 'https:' : u.protocol === 'http:' ? 'http:' : undefined;
    if (!protocol) return reject(new Error(`not an http(s) URL: ${url}`));
    const get = protocol === 'https:' ? httpsGet : httpGet;
    let settled = false;
    const finish = (err: Error | undefined, result?: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result!);
    };
    const req = get(u, { agent: agents[protocol], headers: { accept: 'application/json' } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < maxBody) chunks.push(c.subarray(0, maxBody - size));
        size += c.length;
        // A card is small; a huge answer is not one (and must not fill the worker's memory).
        if (size > maxBody) res.destroy();
      });
      const done = () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      res.on('end', done);
      res.on('close', done);
      res.on('error', (e) => (size > maxBody ? done() : finish(e)));
    });
    const timer = setTimeout(() => {
      const e = new Error(`no answer within ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      req.destroy(e);
      finish(e);
    }, timeoutMs);
    req.on('error', (e) => finish(e));
  });
}
