import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptionCodec, METADATA_KEY_ID, PayloadKeyError, payloadBytes, payloadCodecsFor } from '../../src/temporal/codec';
import { COMPRESSED_ENCODING, CompressionCodec } from '../../src/temporal/compression';
import { loadKeyRing, newKeyLine, parseKeyFile, KeyFileError } from '../../src/temporal/codec-keys';

const ring = (...lines: string[]) => parseKeyFile('keys', lines.join(''));
const payload = (v: unknown) => defaultPayloadConverter.toPayload(v) as Payload;
const value = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const keyId = (p: Payload) => Buffer.from(p.metadata![METADATA_KEY_ID]).toString();

describe('payload codec', () => {
  const k1 = newKeyLine();
  const k2 = newKeyLine();
  const plan = { job: 'j', agents: { a: { env: { API_KEY: 'sk-very-secret', AGENT_URL: 'http://127.0.0.1:19001' } } } };

  test('round trip: the encoded payload holds nothing in clear, and decodes to the same value', async () => {
    const codec = new EncryptionCodec(ring(k1));
    const [enc] = await codec.encode([payload(plan)]);
    const raw = Buffer.from(enc.data!).toString('latin1');
    expect(raw).not.toContain('sk-very-secret');
    expect(raw).not.toContain('127.0.0.1');
    expect(Buffer.from(enc.metadata!.encoding).toString()).toBe('binary/encrypted');
    const [dec] = await codec.decode([enc]);
    expect(value(dec)).toEqual(plan);
  });

  test('compression: a repetitive plan shrinks', async () => {
    const big = {
      agents: Array.from({ length: 500 }, (_, i) => ({ id: `agent-${i}`, url: `http://127.0.0.1:${20000 + i}`, env: { A: 'x' } })),
    };
    const [enc] = await new EncryptionCodec(ring(k1)).encode([payload(big)]);
    expect(enc.data!.length).toBeLessThan(payload(big).data!.length / 4);
  });

  test('payloads that were never encrypted pass through', async () => {
    const p = payload('plain');
    expect(await new EncryptionCodec(ring(k1)).decode([p])).toEqual([p]);
  });

  test('rotation: the newest key encrypts, older keys still decrypt', async () => {
    const old = new EncryptionCodec(ring(k1));
    const rotated = new EncryptionCodec(ring(k1, k2));
    const [before] = await old.encode([payload('written before rotation')]);
    const [after] = await rotated.encode([payload('written after')]);
    expect(keyId(before)).toBe(k1.split(' ')[0]);
    expect(keyId(after)).toBe(k2.split(' ')[0]);
    expect((await rotated.decode([before, after])).map(value)).toEqual(['written before rotation', 'written after']);
  });

  test('a missing key is an error naming its id; a wrong key under the same id is refused, never garbage', async () => {
    const [enc] = await new EncryptionCodec(ring(k1)).encode([payload(plan)]);
    const id = keyId(enc);
    await expect(new EncryptionCodec(ring(k2)).decode([enc])).rejects.toThrow(`cannot decrypt a payload encrypted with key '${id}'`);
    const impostor = ring(`${id} ${k2.split(' ')[1]}`);
    const err = await new EncryptionCodec(impostor).decode([enc]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadKeyError);
    expect((err as PayloadKeyError).message).toContain(`with key '${id}': the key does not match`);
    // A relabelled payload (another key id in its metadata) does not decrypt either.
    const relabelled = { ...enc, metadata: { ...enc.metadata, [METADATA_KEY_ID]: Buffer.from(k2.split(' ')[0]) } };
    await expect(new EncryptionCodec(ring(k1, k2)).decode([relabelled])).rejects.toThrow('the key does not match');
  });
});

describe('key files', () => {
  test('format errors are located', () => {
    expect(() => parseKeyFile('f', '# only a comment\n')).toThrow('f: no key in the file');
    expect(() => parseKeyFile('f', 'k1 c2hvcnQ=\n')).toThrow("f:1: key 'k1' is 5 bytes; AES-256 needs 32");
    expect(() => parseKeyFile('f', `${newKeyLine()}bad line here\n`)).toThrow(KeyFileError);
    const line = newKeyLine();
    expect(() => parseKeyFile('f', line + line)).toThrow('appears twice');
  });

  test('embedded mode generates one key under the home, mode 0600, and reuses it; a server elsewhere needs a key file', () => {
    const home = mkdtempSync(join(tmpdir(), 'keys-'));
    const first = loadKeyRing({ env: {}, embedded: true, home });
    const second = loadKeyRing({ env: {}, embedded: true, home });
    expect(second!.current.id).toBe(first!.current.id);
    expect(statSync(join(home, 'codec.keys')).mode & 0o777).toBe(0o600);
    expect(loadKeyRing({ env: {}, embedded: false, home })).toBeUndefined();
    const file = join(home, 'mine.keys');
    writeFileSync(file, readFileSync(join(home, 'codec.keys'), 'utf8') + newKeyLine(), { mode: 0o600 });
    const mine = loadKeyRing({ env: { A2A_DEPLOY_KEY_FILE: file }, embedded: false, home })!;
    expect(mine.byId.size).toBe(2);
    expect(mine.current.id).not.toBe(first!.current.id);
  });
});

describe('compression without keys', () => {
  const agents = Object.fromEntries(
    Array.from({ length: 1000 }, (_, i) => [
      `a${i}`,
      { id: `a${i}`, url: `http://127.0.0.1:${20000 + i}`, env: { AGENT_ID: `a${i}`, MODEL: 'm' } },
    ]),
  );

  test('a big payload (a 1,000-agent plan) is compressed and decodes to the same value; a small one stays plain JSON', async () => {
    const codec = new CompressionCodec();
    const big = payload({ job: 'j', agents });
    const small = payload({ phase: 'running' });
    const [encBig, encSmall] = await codec.encode([big, small]);
    expect(Buffer.from(encBig.metadata!.encoding).toString()).toBe(COMPRESSED_ENCODING);
    expect(encBig.data!.length).toBeLessThan(big.data!.length / 5);
    expect(encSmall).toBe(small);
    const [decBig, decSmall] = await codec.decode([encBig, encSmall]);
    expect(value(decBig)).toEqual({ job: 'j', agents });
    expect(value(decSmall)).toEqual({ phase: 'running' });
    expect(payloadBytes({ job: 'j', agents }, undefined)).toBe(encBig.data!.length);
  });

  test('with keys, encryption compresses; a payload compressed before keys were on still decodes', async () => {
    const keys = ring(newKeyLine());
    const [old] = await new CompressionCodec().encode([payload({ job: 'j', agents })]);
    const codecs = payloadCodecsFor(keys);
    // decode runs the codecs in reverse order, as the SDK does
    let decoded = [old];
    for (const c of [...codecs].reverse()) decoded = await c.decode(decoded);
    expect(value(decoded[0])).toEqual({ job: 'j', agents });
    let encoded = [payload({ job: 'j', agents })];
    for (const c of codecs) encoded = await c.encode(encoded);
    expect(Buffer.from(encoded[0].metadata!.encoding).toString()).toBe('binary/encrypted');
  });
});
