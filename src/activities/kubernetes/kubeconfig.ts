// The cluster a kubernetes agent goes to, found as kubectl finds it: the first file of
// KUBECONFIG (else ~/.kube/config), its current context or the one the job names. Client
// certificates (inline or as files) and bearer tokens are supported; exec plugins are not.
import { ApplicationFailure } from '@temporalio/activity';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ClusterAccess {
  context: string;
  server: string;
  namespace: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure: boolean;
}

type Named<T> = { name: string } & T;
interface KubeConfigFile {
  'current-context'?: string;
  clusters?: Named<{ cluster: Record<string, unknown> }>[];
  users?: Named<{ user: Record<string, unknown> }>[];
  contexts?: Named<{ context: { cluster: string; user: string; namespace?: string } }>[];
}

export const kubeconfigPath = (env: NodeJS.ProcessEnv = process.env) =>
  env.KUBECONFIG?.split(delimiter).find((p) => p) ?? resolve(homedir(), '.kube', 'config');

const fail = (msg: string) => ApplicationFailure.nonRetryable(msg, 'KubeconfigError');

/** The access of `context` (default: the current one). Errors name the contexts that exist. */
export function loadClusterAccess(context?: string, file = kubeconfigPath()): ClusterAccess {
  let cfg: KubeConfigFile;
  try {
    cfg = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeConfigFile;
  } catch (e) {
    throw fail(`cannot read the kubeconfig ${file}: ${(e as Error).message}`);
  }
  const names = (cfg.contexts ?? []).map((c) => c.name);
  const want = context ?? cfg['current-context'];
  const ctx = (cfg.contexts ?? []).find((c) => c.name === want);
  if (!ctx) throw fail(`kubeconfig ${file} has no context '${want ?? ''}' (contexts: ${names.join(', ') || 'none'})`);
  const cluster = (cfg.clusters ?? []).find((c) => c.name === ctx.context.cluster)?.cluster;
  const user = (cfg.users ?? []).find((u) => u.name === ctx.context.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw fail(`kubeconfig ${file}: context '${want}' names no cluster with a server`);
  const base = dirname(file);
  const bytes = (data: unknown, path: unknown): Buffer | undefined =>
    typeof data === 'string' ? Buffer.from(data, 'base64') : typeof path === 'string' ? readFileSync(resolve(base, path)) : undefined;
  if (user.exec || user['auth-provider'])
    throw fail(`kubeconfig ${file}: user '${ctx.context.user}' uses an exec or auth-provider plugin, which a2a-deploy does not run`);
  return {
    context: ctx.name,
    server: cluster.server.replace(/\/$/, ''),
    namespace: ctx.context.namespace ?? 'default',
    ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: bytes(user['client-certificate-data'], user['client-certificate']),
    key: bytes(user['client-key-data'], user['client-key']),
    token:
      typeof user.token === 'string'
        ? user.token
        : typeof user.tokenFile === 'string'
          ? readFileSync(user.tokenFile, 'utf8').trim()
          : undefined,
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
}

/** The names of the kubeconfig's contexts (for validation), or undefined when there is none. */
export function contextNames(file = kubeconfigPath()): string[] | undefined {
  try {
    return ((parse(readFileSync(file, 'utf8')) as KubeConfigFile)?.contexts ?? []).map((c) => c.name);
  } catch {
    return undefined;
  }
}
