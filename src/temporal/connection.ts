// How the CLI and workers reach Temporal. With TEMPORAL_ADDRESS unset, a2a-deploy uses its
// own embedded dev server on 127.0.0.1:7233 (started on demand); with it set, any server.
import { Client, Connection } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { joinHostPort, splitHostPort } from '../common/host';
import { TemporalUnreachableError } from './errors';

export { TemporalUnreachableError };

export interface TemporalConfig {
  address: string;
  namespace: string;
  /** no server was configured: a2a-deploy manages a local dev server itself */
  embedded: boolean;
  tls?: { serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer }; serverNameOverride?: string } | boolean;
  apiKey?: string;
  uiUrl: string;
}

export const EMBEDDED_ADDRESS = '127.0.0.1:7233';
export const EMBEDDED_UI = 'http://127.0.0.1:8233';

export function temporalConfig(env = process.env): TemporalConfig {
  const embedded = !env.TEMPORAL_ADDRESS;
  const file = (name: string | undefined) => (name ? readFileSync(name) : undefined);
  const cert = file(env.TEMPORAL_TLS_CLIENT_CERT_PATH);
  const key = file(env.TEMPORAL_TLS_CLIENT_KEY_PATH);
  const ca = file(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  const tlsOn = env.TEMPORAL_TLS === 'true' || !!cert || !!ca || !!env.TEMPORAL_API_KEY;
  return {
    address: env.TEMPORAL_ADDRESS || EMBEDDED_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    embedded,
    ...(tlsOn
      ? {
          tls: {
            ...(ca ? { serverRootCACertificate: ca } : {}),
            ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
            ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
    uiUrl: (
      env.TEMPORAL_UI_URL || (embedded ? EMBEDDED_UI : `http://${joinHostPort(splitHostPort(env.TEMPORAL_ADDRESS!, 7233)[0], 8233)}`)
    ).replace(/\/$/, ''),
  };
}

export const workflowUiUrl = (cfg: TemporalConfig, workflowId: string) =>
  `${cfg.uiUrl}/namespaces/${encodeURIComponent(cfg.namespace)}/workflows/${encodeURIComponent(workflowId)}`;

export function unreachable(cfg: TemporalConfig, err?: unknown): TemporalUnreachableError {
  const hint = cfg.embedded
    ? 'start the embedded server with `a2a-deploy server` (or let `a2a-deploy start FILE` start it), or set TEMPORAL_ADDRESS'
    : `check TEMPORAL_ADDRESS (${cfg.address}) and TEMPORAL_NAMESPACE, or unset TEMPORAL_ADDRESS to use the embedded dev server`;
  const why = err instanceof Error ? `: ${err.message.split('\n')[0]}` : '';
  return new TemporalUnreachableError(`cannot reach Temporal at ${cfg.address}${why}`, hint);
}

export async function connectClient(cfg: TemporalConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({
      address: cfg.address,
      connectTimeout: '3s',
      ...(cfg.tls ? { tls: cfg.tls } : {}),
      ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
    });
    return new Client({ connection, namespace: cfg.namespace });
  } catch (err) {
    throw unreachable(cfg, err);
  }
}
