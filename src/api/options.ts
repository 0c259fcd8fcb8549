// How a JobManager finds Temporal: as the CLI does (environment variables and the `temporal`
// CLI's profile file; the embedded dev server when none names a server), each option overriding.
import { resolve } from 'node:path';
import type { Vars } from '../job/interpolate';
import { temporalConfig, type TemporalConfig } from '../temporal/connection';
import type { TlsSettings } from '../temporal/tls-config';

export interface JobManagerOptions {
  /** host:port of a Temporal frontend; unset: TEMPORAL_ADDRESS, the profile, else the embedded dev server */
  address?: string;
  /** default: TEMPORAL_NAMESPACE, the profile, else `default` */
  namespace?: string;
  /** TLS to the frontend (true: system CAs); default from TEMPORAL_TLS_* and the profile */
  tls?: TlsSettings | boolean;
  apiKey?: string;
  /** the Web UI's base URL, for the links in results (default TEMPORAL_UI_URL, else derived from the address) */
  uiUrl?: string;
  /**
   * The state home: the embedded server's database, the background worker, payload keys and the
   * log files of local agents (default A2A_DEPLOY_HOME, else ~/.a2a-deploy).
   */
  home?: string;
  /** where the settings above are read from when not given (default process.env) */
  env?: Vars;
  /** lines about what is done on the caller's behalf (an embedded server or worker started); default: none */
  onNotice?: (line: string) => void;
}

/** The Temporal configuration of a JobManager: the environment's, with the options over it. */
export function resolveConfig(opts: JobManagerOptions = {}): TemporalConfig {
  const env = { ...(opts.env ?? process.env) } as NodeJS.ProcessEnv;
  if (opts.address) env.TEMPORAL_ADDRESS = opts.address;
  if (opts.namespace) env.TEMPORAL_NAMESPACE = opts.namespace;
  if (opts.uiUrl) env.TEMPORAL_UI_URL = opts.uiUrl;
  const cfg = temporalConfig(env);
  if (opts.tls !== undefined) cfg.tls = opts.tls;
  if (opts.apiKey) cfg.apiKey = opts.apiKey;
  const home = opts.home ?? (opts.env ? env.A2A_DEPLOY_HOME : undefined);
  if (home) cfg.home = resolve(home);
  return cfg;
}
