// A loopback HTTP forwarder to the API server's service proxy, so that the health gate and the
// watch (which probe plain http:// URLs) reach an agent's Service without any route into the
// pod network: http://127.0.0.1:PORT/NAMESPACE/SERVICE/PATH goes to
// /api/v1/namespaces/NAMESPACE/services/SERVICE:a2a/proxy/PATH with the kubeconfig's credentials.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeApi } from './api';

export class ServiceProxy {
  private server?: Promise<{ server: Server; port: number }>;
  constructor(private readonly api: () => KubeApi) {}

  /** The local URL of `path` on the Service `name` in `namespace`. */
  async url(namespace: string, name: string, path: string): Promise<string> {
    const { port } = await this.start();
    return `http://127.0.0.1:${port}/${namespace}/${name}${path.startsWith('/') ? path : `/${path}`}`;
  }

  private start() {
    this.server ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => {
        const m = /^\/([a-z0-9-]+)\/([a-z0-9-]+)(\/.*)?$/.exec(req.url ?? '');
        if (!m || req.method !== 'GET') {
          res.writeHead(400).end();
          return;
        }
        this.api()
          .raw('GET', `/api/v1/namespaces/${m[1]}/services/${m[2]}:a2a/proxy${m[3] ?? '/'}`, undefined, undefined, 5000)
          .then(({ res: up, text }) => {
            res.writeHead(up.statusCode ?? 502, { 'Content-Type': up.headers['content-type'] ?? 'text/plain' }).end(text);
          })
          .catch((e: Error) => res.writeHead(502).end(e.message));
      });
      server.on('error', reject);
      // Not kept alive by it: a worker exits when its work is done.
      server.listen(0, '127.0.0.1', () => {
        server.unref();
        resolve({ server, port: (server.address() as AddressInfo).port });
      });
    });
    return this.server;
  }
}
