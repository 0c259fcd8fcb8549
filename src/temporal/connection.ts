// How the CLI and workers reach Temporal. With TEMPORAL_ADDRESS unset, a2a-deploy uses its
// own embedded dev server on 127.0.0.1:7233 (started on demand); with it set, any server.
import { Client, Connection } from '@temporalio/client';
import { joinHostPort, splitHostPort } from '../common/host';
import { sleep } from '../common/sleep';
import { codecConverter } from './codec';
import { keyRingFor } from './codec-keys';
import { TemporalUnreachableError } from '../common/errors';
import { connectionSettings, tlsHint, type TlsSettings } from './tls-config';

export { TemporalUnreachableError };

export interface TemporalConfig {
  address: string;
  namespace: string;
  /** no server was configured: a2a-deploy manages a local dev server itself */
  embedded: boolean;
  tls?: TlsSettings | boolean;
  apiKey?: string;
  uiUrl: string;
  /** the state home (embedded server, worker, keys, agent logs); unset: A2A_DEPLOY_HOME or ~/.a2a-deploy */
  home?: string;
}

export const EMBEDDED_ADDRESS = '127.0.0.1:7233';
export const EMBEDDED_UI = 'http://127.0.0.1:8233';

export function temporalConfig(env = process.env): TemporalConfig {
  // The environment and the `temporal` CLI's profile file (see tls-config.ts).
  const settings = connectionSettings(env);
  const embedded = !settings.address;
  return {
    address: settings.address || EMBEDDED_ADDRESS,
    namespace: settings.namespace || 'default',
    embedded,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    uiUrl: (
      env.TEMPORAL_UI_URL || (embedded ? EMBEDDED_UI : `http://${joinHostPort(splitHostPort(settings.address!, 7233)[0], 8233)}`)
    ).replace(/\/$/, ''),
  };
}

export const workflowUiUrl = (cfg: TemporalConfig, workflowId: string) =>
  `${cfg.uiUrl}/namespaces/${encodeURIComponent(cfg.namespace)}/workflows/${encodeURIComponent(workflowId)}`;

export function unreachable(cfg: TemporalConfig, err?: unknown): TemporalUnreachableError {
  const hint = cfg.embedded
    ? 'start the embedded server with `a2a-deploy server` (or let `a2a-deploy start FILE` start it), or set TEMPORAL_ADDRESS'
    : `check TEMPORAL_ADDRESS (${cfg.address}) and TEMPORAL_NAMESPACE, or unset TEMPORAL_ADDRESS to use the embedded dev server; ${tlsHint(cfg)}`;
  const why = err instanceof Error ? `: ${err.message.split('\n')[0]}` : '';
  return new TemporalUnreachableError(`cannot reach Temporal at ${cfg.address}${why}`, hint);
}

export async function connectClient(cfg: TemporalConfig): Promise<Client> {
  // Every payload this client sends is encrypted when there are keys (see codec.ts).
  const codec = codecConverter(keyRingFor(cfg));
  // A busy server can miss one connect (1 of 15 parallel commands did): retry with backoff for
  // a bounded time before calling it unreachable.
  const giveUpAt = Date.now() + 8000;
  for (let attempt = 0; ; attempt++) {
    try {
      const connection = await Connection.connect({
        address: cfg.address,
        connectTimeout: `${Math.min(3000, Math.max(250, giveUpAt - Date.now()))}ms`,
        ...(cfg.tls ? { tls: cfg.tls } : {}),
        ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
      });
      return new Client({ connection, namespace: cfg.namespace, ...codec });
    } catch (err) {
      const pause = Math.min(250 * 2 ** attempt, 2000);
      if (Date.now() + pause >= giveUpAt) throw unreachable(cfg, err);
      await sleep(pause);
    }
  }
}
