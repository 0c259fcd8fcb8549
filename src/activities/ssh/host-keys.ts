// Host key verification: a pinned fingerprint, or known_hosts (plain, patterned and hashed
// entries, @revoked markers). Unknown and changed keys are refused, never accepted on first use.
import { ApplicationFailure } from '@temporalio/activity';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentPlan } from '../../job/plan';
import type { Endpoint } from './endpoint';
import { localPath } from './quoting';

/** OpenSSH's fingerprint of a public key blob: SHA256:<base64, unpadded>. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside an SSH public key blob (a length-prefixed string at its start). */
export function keyType(key: Buffer): string {
  try {
    return key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1');
  } catch {
    return 'unknown';
  }
}

export interface KnownHost {
  marker?: string;
  patterns: string;
  type: string;
  key: Buffer;
  file: string;
  line: number;
}

/** The entries of a known_hosts file's text (`file` is named in messages). */
export function parseKnownHosts(text: string, file: string): KnownHost[] {
  const out: KnownHost[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    if (fields.length < 3) return;
    out.push({ marker, patterns: fields[0], type: fields[1], key: Buffer.from(fields[2], 'base64'), file, line: i + 1 });
  });
  return out;
}

function readKnownHosts(file: string): KnownHost[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'), file);
  } catch {
    return []; // a missing file knows no host: every host is unknown, hence refused
  }
}

/** Does a known_hosts host field (patterns, or one hashed |1|salt|hash name) name this host? */
export function knownHostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = (negated ? pattern.slice(1) : pattern).toLowerCase();
    const re = new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    if (re.test(name)) {
      if (negated) return false; // a matching negation wins over any positive match
      matched = true;
    }
  }
  return matched;
}

export interface HostKeyPolicy {
  /** a pinned fingerprint, or */
  pinned?: string;
  /** the known_hosts file and its entries for this host */
  file: string;
  entries: KnownHost[];
}

export function hostKeyPolicy(d: DeploymentPlan, ep: Endpoint, baseDir: string): HostKeyPolicy {
  const file = localPath(d.knownHosts ?? '~/.ssh/known_hosts', baseDir);
  if (d.hostKey) return { pinned: d.hostKey, file, entries: [] };
  return {
    file,
    entries: readKnownHosts(file).filter((e) => e.marker !== '@cert-authority' && knownHostsFieldMatches(e.patterns, ep.knownHostsName)),
  };
}

/** Throws (non-retryable) unless the presented key is the one we expect for this host. */
export function verifyHostKey(key: Buffer, policy: HostKeyPolicy, ep: Endpoint): void {
  const fp = fingerprint(key);
  const type = keyType(key);
  if (policy.pinned) {
    if (policy.pinned.replace(/=+$/, '') === fp) return;
    throw ApplicationFailure.nonRetryable(
      `host key of ${ep.label} does not match deployment.host_key: expected ${policy.pinned}, the host presented ${fp} (${type}). ` +
        'Refusing to connect: someone may be intercepting the connection, or the host was re-keyed (then verify the new key out of band and update host_key).',
      'SshHostKeyMismatch',
    );
  }
  const revoked = policy.entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) {
    throw ApplicationFailure.nonRetryable(
      `host key of ${ep.label} (${fp}) is marked @revoked in ${revoked.file}:${revoked.line}; refusing to connect`,
      'SshHostKeyRevoked',
    );
  }
  const known = policy.entries.filter((e) => !e.marker);
  if (known.some((e) => e.key.equals(key))) return;
  const scan = `ssh-keyscan -p ${ep.port} -t ${type.replace(/^ssh-/, '')} ${ep.host}`;
  if (known.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `host key of ${ep.label} is not known (fingerprint ${fp}, ${type}); verify it and add it to known_hosts ` +
        `(${scan} >> ${policy.file === join(homedir(), '.ssh', 'known_hosts') ? '~/.ssh/known_hosts' : policy.file}) or pin it with deployment.host_key: ${fp}`,
      'SshHostKeyUnknown',
    );
  }
  const where = known.map((e) => `${e.file}:${e.line} (${e.type})`).join(', ');
  throw ApplicationFailure.nonRetryable(
    `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${ep.label}! The host presented a ${type} key with fingerprint ${fp}, ` +
      `but known_hosts holds another key for it at ${where}. Someone could be eavesdropping on you right now (man-in-the-middle attack), ` +
      `or the host key has just been changed. Refusing to connect. If the change is expected, verify the new key out of band, ` +
      `remove the old entry (ssh-keygen -R '${ep.knownHostsName}' -f ${policy.file}) and add the new one.`,
    'SshHostKeyChanged',
  );
}

/** Host key algorithms, those of the keys known_hosts holds first (as OpenSSH orders them), so a
 *  host with several keys presents the one we know rather than looking "changed". */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];
export function hostKeyAlgorithms(policy: HostKeyPolicy): HostKeyAlgorithm[] {
  const knownTypes = new Set(policy.entries.filter((e) => !e.marker).map((e) => e.type));
  const algoType = (a: string) => (a.startsWith('rsa-sha2-') ? 'ssh-rsa' : a);
  const preferred = HOST_KEY_ALGORITHMS.filter((a) => knownTypes.has(algoType(a)));
  return [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))];
}
