// The worker's /metrics endpoint: this process's a2a_* metrics followed by the Temporal SDK's
// own, which the SDK's Rust core serves on a private loopback port; /metrics fetches them on
// each scrape, so Prometheus scrapes one target per worker and sees one consistent set.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { Registry } from './registry';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(registry: Registry, host: string, port: number, sdkMetricsUrl?: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
      return;
    }
    void (async () => {
      const own = registry.render();
      const sdk = sdkMetricsUrl ? await fetchSdkMetrics(sdkMetricsUrl) : '';
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(own + sdk);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => (server.off('error', reject), resolve()));
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/metrics`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function fetchSdkMetrics(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return text.endsWith('\n') || text === '' ? text : text + '\n';
  } catch (err) {
    // The worker's own metrics are still worth serving; say why the SDK's are missing.
    return `# Temporal SDK metrics unavailable: ${String(err).replace(/\n/g, ' ')}\n`;
  }
}

/** A free loopback port for the SDK's exporter (the core binds it when the Runtime is installed). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
