// Issue 23: output is scrubbed of the values an agent was given (not only what its `file:`
// source holds now), a secret written in parts is held back until whole, and a process
// without keys meets an encrypted payload with a clear input error.
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrubLogsWith, secretStartAtEnd } from '../../src/activities/agent-env';
import { givenValues, rememberGiven, scrubValuesOf } from '../../src/activities/given-secrets';
import { InvalidInputError } from '../../src/api/errors';
import { EncryptionCodec, KeylessCodec, PayloadKeyError } from '../../src/temporal/codec';
import { newKeyLine, parseKeyFile } from '../../src/temporal/codec-keys';

const SECRET = 'FILESECRET-abcdef-123456';

test('a chunk ending in the start of a secret holds that start back, out of the text and the offsets', () => {
  const first = scrubLogsWith({ stdout: 'ok\nsplit=FILESE', stderr: '', offsets: { stdout: 100, stderr: 0 } }, [SECRET]);
  expect(first).toEqual({ stdout: 'ok\nsplit=', stderr: '', offsets: { stdout: 100 - 'FILESE'.length, stderr: 0 } });
  // The next read starts at the held part: the secret is whole, and scrubbed.
  const next = scrubLogsWith({ stdout: 'FILESECRET-abcdef-123456\n', stderr: '', offsets: { stdout: 119, stderr: 0 } }, [SECRET]);
  expect(next.stdout).toBe('[secret]\n');
  // Bytes, not characters, come off the offsets.
  expect(scrubLogsWith({ stdout: 'é', stderr: '', offsets: { stdout: 2, stderr: 0 } }, ['éx']).offsets.stdout).toBe(0);
  // Nothing that could begin a secret: all of it comes out.
  expect(scrubLogsWith({ stdout: 'split=', stderr: '', offsets: { stdout: 6, stderr: 0 } }, [SECRET]).offsets.stdout).toBe(6);
});

test('secretStartAtEnd: the longest end of the last line that begins a value', () => {
  expect(secretStartAtEnd('a\nxxFIL', [SECRET, 'FIX'])).toBe(3);
  expect(secretStartAtEnd('FILE\n', [SECRET])).toBe(0);
  expect(secretStartAtEnd(`x${SECRET}`, [SECRET])).toBe(0); // whole: scrubbed, not held
});

test('the values an agent was given are kept (mode 0600) and scrubbed after its file: source changed or went away', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'given-')), 'jobs', 'j', 'a');
  const source = join(dir, '..', 'key');
  rememberGiven(dir, ['given-value']);
  expect(statSync(join(dir, 'agent.secrets.json')).mode & 0o777).toBe(0o600);
  expect(givenValues(dir)).toEqual(['given-value']);
  writeFileSync(source, 'rotated-value\n');
  const agent = { id: 'a', deployment: { secrets: { K: `file:${source}` } } };
  expect(scrubValuesOf(dir, agent).sort()).toEqual(['given-value', 'rotated-value']);
});

test('an agent restarted with a rotated value: the value its earlier start was given stays scrubbed (its output is still in the logs)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'given-')), 'jobs', 'j', 'a');
  rememberGiven(dir, ['before-rotation']);
  rememberGiven(dir, ['after-rotation']);
  expect(givenValues(dir)).toEqual(['before-rotation', 'after-rotation']);
  // A restarted worker reads the same from the agent's folder.
  expect(JSON.parse(readFileSync(join(dir, 'agent.secrets.json'), 'utf8'))).toEqual(['before-rotation', 'after-rotation']);
  expect(scrubLogsWith({ stdout: 'old=before-rotation new=after-rotation\n', stderr: '' }, givenValues(dir)).stdout).toBe(
    'old=[secret] new=[secret]\n',
  );
  // Bounded: an agent restarted for ever keeps the newest 64.
  for (let i = 0; i < 70; i++) rememberGiven(dir, [`v${i}`]);
  expect(givenValues(dir)).toHaveLength(64);
  expect(givenValues(dir).at(-1)).toBe('v69');
  expect(givenValues(dir)).not.toContain('before-rotation');
});

test('a process without keys meets an encrypted payload with an input error naming the key, not "Unknown encoding"', async () => {
  const keys = parseKeyFile('keys', newKeyLine());
  const [enc] = await new EncryptionCodec(keys).encode([defaultPayloadConverter.toPayload({ a: 1 }) as Payload]);
  const err = await new KeylessCodec().decode([enc]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PayloadKeyError);
  expect(err).toBeInstanceOf(InvalidInputError);
  expect((err as Error).message).toContain(`encrypted with key '${keys.current.id}': this process has no key`);
  expect((err as InvalidInputError).hint).toContain('A2A_DEPLOY_KEY_FILE');
  const plain = defaultPayloadConverter.toPayload('x') as Payload;
  expect(await new KeylessCodec().decode([plain])).toEqual([plain]);
});
