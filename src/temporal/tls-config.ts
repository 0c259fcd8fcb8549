// Where a2a-deploy finds a Temporal server and how it authenticates: the same sources the
// `temporal` CLI reads (@temporalio/envconfig), so one profile file serves both. A profile in
// a TOML file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml; profile
// TEMPORAL_PROFILE, else "default"), each field overridden by its environment variable:
// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH,
// TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME (and the
// *_DATA variants).
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import { InvalidInputError } from '../common/errors';

export interface TlsSettings {
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverNameOverride?: string;
}

export interface ConnectionSettings {
  /** unset: no profile or variable names a server */
  address?: string;
  namespace?: string;
  tls?: TlsSettings | boolean;
  apiKey?: string;
}

const SETTINGS_HINT =
  'set TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH and TEMPORAL_TLS_SERVER_CA_CERT_PATH ' +
  '(and TEMPORAL_TLS_SERVER_NAME if the certificate does not name the address), or point TEMPORAL_CONFIG_FILE at a profile';

const buffer = (b: Uint8Array | undefined) => (b ? Buffer.from(b) : undefined);

export function connectionSettings(env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  let options;
  try {
    options = toClientOptions(loadClientConfigProfile({ overrideEnvVars: env as Record<string, string> }));
  } catch (err) {
    // Certificate files are read here: a wrong path is the user's input, not an outage.
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InvalidInputError(`cannot load the Temporal connection settings: ${why}`, SETTINGS_HINT);
  }
  const { address, apiKey, tls } = options.connectionOptions;
  const settings: ConnectionSettings = {};
  if (address) settings.address = address;
  if (options.namespace) settings.namespace = options.namespace;
  if (apiKey && typeof apiKey === 'string') settings.apiKey = apiKey;
  if (tls === true || tls === false) settings.tls = tls;
  else if (tls) {
    const ca = buffer(tls.serverRootCACertificate);
    const crt = buffer(tls.clientCertPair?.crt);
    const key = buffer(tls.clientCertPair?.key);
    settings.tls = {
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
    };
  }
  return settings;
}

/**
 * What to say when a configured server cannot be reached: a server requiring mutual TLS
 * refuses a client without a certificate (or with one from another CA) during the handshake,
 * which the SDK reports as a plain connection failure, so the hint names the TLS settings.
 */
export function tlsHint(settings: { tls?: TlsSettings | boolean }): string {
  const tls = settings.tls;
  if (!tls) return `if the server requires TLS, ${SETTINGS_HINT}`;
  if (tls === true || !tls.clientCertPair)
    return `TLS is on but no client certificate is set; if the server requires mutual TLS, ${SETTINGS_HINT}`;
  return `if the server refused the certificate, check that TEMPORAL_TLS_CLIENT_CERT_PATH is signed by the server's CA and TEMPORAL_TLS_SERVER_CA_CERT_PATH is that CA (${SETTINGS_HINT})`;
}
