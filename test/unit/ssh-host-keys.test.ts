// Host key verification without an sshd: known_hosts parsing (plain, patterned, hashed and
// @revoked entries), fingerprint pins, and the refusals a user sees.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointOf, type Endpoint } from '../../src/activities/ssh/endpoint';
import {
  fingerprint,
  hostKeyAlgorithms,
  hostKeyPolicy,
  keyType,
  knownHostsFieldMatches,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/activities/ssh/host-keys';
import type { DeploymentPlan } from '../../src/job/plan';

// Two real ed25519 public keys and their fingerprints (ssh-keygen -lf), and OpenSSH's own
// hashing (ssh-keygen -H) of "[127.0.0.1]:2222" and "example.org" with KEY.
const KEY_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIIuJ7yYXqM9djFdfKZdTXc5xKL6YJP3T4kHH0xbapxhU';
const KEY_FP = 'SHA256:q52UPT4H/kMh8+TRbmjMgjUJ0efit1oZpuL8+d+0P6o';
const OTHER_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAICcPnTQ+iSz3zyXzWBE373cPkpEVoDRXPkuuaTkkBiiW';
const OTHER_FP = 'SHA256:1ZFkQaU+lWv/3Lkqwup74mkp1VvC34d9SsNiRzswys4';
const HASHED_PORT = '|1|peo8fthylK32ingy/SFyxHHN0oc=|sLRqD6km02+7gFnJKUVl7E1JHjE=';
const HASHED_NAME = '|1|1TKSnWLvADIcYzlH5SOs6ny4T8o=|cqJXuXEii2PQl6PPr+J0tpKxN4g=';
const KEY = Buffer.from(KEY_B64, 'base64');
const OTHER = Buffer.from(OTHER_B64, 'base64');

const deployment = (d: Partial<DeploymentPlan>): DeploymentPlan =>
  ({ host: '127.0.0.1', user: 'deploy', node: 'node', pull: 'if-not-present', volumes: [], ...d }) as DeploymentPlan;

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'a2a-hostkeys-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A policy for a host from known_hosts text, as a connection would build it. */
function policyFor(text: string, d: Partial<DeploymentPlan>) {
  const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  const dep = deployment({ knownHosts: file, ...d });
  const ep = endpointOf(dep);
  return { policy: hostKeyPolicy(dep, ep, dir), ep, file };
}
const refusal = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return e as Error & { type?: string; nonRetryable?: boolean };
  }
  throw new Error('expected a refusal');
};

describe('fingerprints and key types', () => {
  test('match ssh-keygen -lf', () => {
    expect(fingerprint(KEY)).toBe(KEY_FP);
    expect(fingerprint(OTHER)).toBe(OTHER_FP);
    expect(keyType(KEY)).toBe('ssh-ed25519');
    expect(keyType(Buffer.from('x'))).toBe('unknown');
  });
});

describe('known_hosts host fields', () => {
  test('plain names, lists, wildcards and a negation that wins', () => {
    expect(knownHostsFieldMatches('example.org', 'example.org')).toBe(true);
    expect(knownHostsFieldMatches('Example.ORG', 'example.org')).toBe(true);
    expect(knownHostsFieldMatches('a.org,example.org', 'example.org')).toBe(true);
    expect(knownHostsFieldMatches('*.example.org', 'db.example.org')).toBe(true);
    expect(knownHostsFieldMatches('db?.example.org', 'db1.example.org')).toBe(true);
    expect(knownHostsFieldMatches('*.example.org,!db.example.org', 'db.example.org')).toBe(false);
    expect(knownHostsFieldMatches('example.org', 'example.org.evil')).toBe(false);
    // Regex characters in a pattern are literal.
    expect(knownHostsFieldMatches('a.b', 'axb')).toBe(false);
    expect(knownHostsFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(knownHostsFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
  });

  test('hashed entries (OpenSSH ssh-keygen -H) match their host and nothing else', () => {
    expect(knownHostsFieldMatches(HASHED_PORT, '[127.0.0.1]:2222')).toBe(true);
    expect(knownHostsFieldMatches(HASHED_PORT, '[127.0.0.1]:2223')).toBe(false);
    expect(knownHostsFieldMatches(HASHED_NAME, 'example.org')).toBe(true);
    expect(knownHostsFieldMatches(HASHED_NAME, 'example.com')).toBe(false);
    expect(knownHostsFieldMatches('|1|broken', 'example.org')).toBe(false);
  });

  test('parsing: comments, blank and short lines are skipped; markers and line numbers kept', () => {
    const entries = parseKnownHosts(
      `# a comment\n\nexample.org ssh-ed25519 ${KEY_B64}\nshort-line\n@revoked * ssh-ed25519 ${OTHER_B64}\n  ${HASHED_PORT} ssh-ed25519 ${KEY_B64} comment\n`,
      'kh',
    );
    expect(entries.map((e) => ({ marker: e.marker, patterns: e.patterns, line: e.line }))).toEqual([
      { marker: undefined, patterns: 'example.org', line: 3 },
      { marker: '@revoked', patterns: '*', line: 5 },
      { marker: undefined, patterns: HASHED_PORT, line: 6 },
    ]);
    expect(entries[0].key.equals(KEY)).toBe(true);
  });

  test('the endpoint names a non-22 port as [host]:port, and brackets IPv6', () => {
    expect(endpointOf(deployment({ host: 'Example.org' })).knownHostsName).toBe('example.org');
    expect(endpointOf(deployment({ sshPort: 2222 })).knownHostsName).toBe('[127.0.0.1]:2222');
    const v6: Endpoint = endpointOf(deployment({ host: '[::1]', sshPort: 2222 }));
    expect([v6.host, v6.label, v6.knownHostsName]).toEqual(['::1', '[::1]:2222', '[::1]:2222']);
  });
});

describe('verifying a presented key', () => {
  test('a key known for the host (hashed entry) is accepted', () => {
    const { policy, ep } = policyFor(`${HASHED_PORT} ssh-ed25519 ${KEY_B64}\n`, { sshPort: 2222 });
    expect(() => verifyHostKey(KEY, policy, ep)).not.toThrow();
  });

  test('an unknown host is refused with its fingerprint and how to add it', () => {
    const { policy, ep, file } = policyFor(`other.org ssh-ed25519 ${KEY_B64}\n`, { sshPort: 2222 });
    const e = refusal(() => verifyHostKey(KEY, policy, ep));
    expect(e.type).toBe('SshHostKeyUnknown');
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toContain(KEY_FP);
    expect(e.message).toContain(`ssh-keyscan -p 2222 -t ed25519 127.0.0.1 >> ${file}`);
  });

  test('a missing known_hosts file knows no host', () => {
    const dep = deployment({ knownHosts: join(dir, 'does-not-exist') });
    expect(refusal(() => verifyHostKey(KEY, hostKeyPolicy(dep, endpointOf(dep), dir), endpointOf(dep))).type).toBe('SshHostKeyUnknown');
  });

  test('a changed key is refused loudly, naming the entry', () => {
    const { policy, ep, file } = policyFor(`# c\n127.0.0.1 ssh-ed25519 ${KEY_B64}\n`, {});
    const e = refusal(() => verifyHostKey(OTHER, policy, ep));
    expect(e.type).toBe('SshHostKeyChanged');
    expect(e.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(e.message).toContain(`${file}:2 (ssh-ed25519)`);
  });

  test('a @revoked key is refused even when also listed as known', () => {
    const { policy, ep } = policyFor(`127.0.0.1 ssh-ed25519 ${KEY_B64}\n@revoked * ssh-ed25519 ${KEY_B64}\n`, {});
    expect(refusal(() => verifyHostKey(KEY, policy, ep)).type).toBe('SshHostKeyRevoked');
  });

  test('@cert-authority lines are not host keys', () => {
    const { policy, ep } = policyFor(`@cert-authority 127.0.0.1 ssh-ed25519 ${KEY_B64}\n`, {});
    expect(refusal(() => verifyHostKey(KEY, policy, ep)).type).toBe('SshHostKeyUnknown');
  });

  test('a pinned fingerprint (with or without base64 padding) decides alone', () => {
    const { policy, ep } = policyFor(`127.0.0.1 ssh-ed25519 ${OTHER_B64}\n`, { hostKey: `${KEY_FP}=` });
    expect(() => verifyHostKey(KEY, policy, ep)).not.toThrow();
    const e = refusal(() => verifyHostKey(OTHER, policy, ep));
    expect(e.type).toBe('SshHostKeyMismatch');
    expect(e.message).toContain(OTHER_FP);
  });

  test('the algorithms of known keys are offered first', () => {
    const { policy } = policyFor(`127.0.0.1 ssh-rsa ${KEY_B64}\n`, {});
    expect(hostKeyAlgorithms(policy).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(policy)).toContain('ssh-ed25519');
  });
});
