// Connection settings from the environment and from a `temporal` CLI profile file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { InvalidInputError } from '../../src/api/errors';
import { exitCodeFor } from '../../src/cli/exit-codes';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalConfig } from '../../src/temporal/connection';

const dir = mkdtempSync(join(tmpdir(), 'a2a-tls-'));
const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
const ca = file('ca.pem', 'CA');
const crt = file('c.pem', 'CERT');
const key = file('c.key', 'KEY');
const none = join(dir, 'absent.toml');

test('nothing configured: the embedded dev server, no TLS', () => {
  const cfg = temporalConfig({ TEMPORAL_CONFIG_FILE: none });
  expect(cfg).toMatchObject({ embedded: true, address: '127.0.0.1:7233', namespace: 'default' });
  expect(cfg.tls).toBeUndefined();
});

test('TEMPORAL_TLS_* variables: a client certificate pair, the CA and a server name override', () => {
  const cfg = temporalConfig({
    TEMPORAL_CONFIG_FILE: none,
    TEMPORAL_ADDRESS: '10.0.0.1:29233',
    TEMPORAL_TLS_CLIENT_CERT_PATH: crt,
    TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    TEMPORAL_TLS_SERVER_NAME: 'temporal-server',
  });
  expect(cfg.embedded).toBe(false);
  expect(cfg.tls).toEqual({
    serverRootCACertificate: Buffer.from('CA'),
    clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
    serverNameOverride: 'temporal-server',
  });
});

test('a profile file serves like the temporal CLI, and variables override its fields', () => {
  const profile = file(
    'temporal.toml',
    `[profile.default]\naddress = "10.0.0.2:29233"\nnamespace = "prod"\n[profile.default.tls]\nclient_cert_path = "${crt}"\nclient_key_path = "${key}"\nserver_ca_cert_path = "${ca}"\n`,
  );
  const cfg = temporalConfig({ TEMPORAL_CONFIG_FILE: profile });
  expect(cfg).toMatchObject({ embedded: false, address: '10.0.0.2:29233', namespace: 'prod' });
  expect(cfg.tls).toMatchObject({ clientCertPair: { crt: Buffer.from('CERT') } });
  expect(temporalConfig({ TEMPORAL_CONFIG_FILE: profile, TEMPORAL_NAMESPACE: 'other' }).namespace).toBe('other');
});

test('a certificate path that does not exist: invalid input (exit 2), naming the settings', () => {
  let thrown: unknown;
  try {
    temporalConfig({ TEMPORAL_CONFIG_FILE: none, TEMPORAL_ADDRESS: 'x:1', TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'nope.pem') });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  expect(exitCodeFor(thrown)).toBe(2);
  expect(thrown).toMatchObject({ hint: expect.stringContaining('TEMPORAL_TLS_CLIENT_CERT_PATH') });
});
