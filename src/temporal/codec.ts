// The payload codec: every payload a2a-deploy hands to Temporal (workflow input, activity
// inputs and results, queries, updates, signals, memo) is compressed (zlib) and encrypted
// (AES-256-GCM) here, outside the workflow sandbox, so the server, its database and the Web UI
// see ciphertext. The key id travels in the payload's metadata: the newest key encrypts, any
// key in the ring decrypts, so keys rotate without breaking running jobs. Payloads that are not
// ours (written before encryption was on) pass through untouched.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { InvalidInputError } from '../common/errors';
import { KEY_FILE_HINT, type KeyRing } from './codec-keys';
import { CompressionCodec } from './compression';
import { failureConverter } from './failure-converter';

export const ENCODING = 'binary/encrypted';
/** In a worker's poller identity when it encrypts (workers/worker.ts, api/jobs.ts). */
export const ENCRYPTING_MARK = '(encrypts payloads)';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
const CIPHER = 'AES256GCM-ZLIB';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined | null) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** Decoding failed in a way no retry can fix: the key is missing, or the payload was altered.
 *  An input error (exit 2) to a client: it needs the workers' key file. */
export class PayloadKeyError extends InvalidInputError {
  constructor(
    message: string,
    readonly keyId: string,
  ) {
    super(message, `give this process the workers' key file (A2A_DEPLOY_KEY_FILE); ${KEY_FILE_HINT}`);
    this.name = 'PayloadKeyError';
  }
}

/** The key id of a payload we encrypted, or undefined for any other payload. */
export const encryptedWith = (payload: Payload): string | undefined =>
  text(payload.metadata?.[METADATA_ENCODING]) === ENCODING ? (text(payload.metadata?.[METADATA_KEY_ID]) ?? '') : undefined;

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encodeOne(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decodeOne(p));
  }

  encodeOne(payload: Payload): Payload {
    const { id, key } = this.keys.current;
    const plain = deflateSync(temporal.api.common.v1.Payload.encode(payload).finish());
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id is authenticated data: a payload relabelled with another id does not decrypt.
    cipher.setAAD(utf8(id));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: { [METADATA_ENCODING]: utf8(ENCODING), [METADATA_KEY_ID]: utf8(id), [METADATA_CIPHER]: utf8(CIPHER) },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  decodeOne(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING]) !== ENCODING) return payload;
    const id = text(payload.metadata?.[METADATA_KEY_ID]) ?? '';
    const key = this.keys.byId.get(id);
    if (!key) {
      throw new PayloadKeyError(
        `cannot decrypt a payload encrypted with key '${id}': this process holds keys ${[...this.keys.byId.keys()].map((k) => `'${k}'`).join(', ')} (from ${this.keys.source}); give it that key (A2A_DEPLOY_KEY_FILE)`,
        id,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(inflateSync(plain)) as Payload;
    } catch {
      throw new PayloadKeyError(`cannot decrypt a payload with key '${id}': the key does not match or the payload was altered`, id);
    }
  }
}

/**
 * The codec of a process without keys: sends payloads as they are, and meets an encrypted one
 * (the workers encrypt) with a clear error naming the key, not the SDK's "Unknown encoding".
 */
export class KeylessCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const p of payloads) {
      const id = encryptedWith(p);
      if (id !== undefined)
        throw new PayloadKeyError(
          `cannot decrypt a payload encrypted with key '${id}': this process has no key (A2A_DEPLOY_KEY_FILE is not set and the server is not the embedded one)`,
          id,
        );
    }
    return payloads;
  }
}

/**
 * The codecs of a client or worker, in encoding order (decoding runs them in reverse): big
 * payloads compressed (compression.ts), then encryption, which compresses everything itself, when
 * there are keys, else the keyless codec. `outer` replaces the last (the worker's reporting one).
 */
export const payloadCodecsFor = (keys: KeyRing | undefined, outer?: PayloadCodec): PayloadCodec[] =>
  keys ? [new CompressionCodec(false), outer ?? new EncryptionCodec(keys)] : [new CompressionCodec(), outer ?? new KeylessCodec()];

/** The data converter options of a client: its codecs, and failures encoded through them when
 *  there are keys (see failure-converter.ts). */
export const codecConverter = (keys: KeyRing | undefined) =>
  keys
    ? { dataConverter: { payloadCodecs: payloadCodecsFor(keys), failureConverter } }
    : { dataConverter: { payloadCodecs: payloadCodecsFor(undefined) } };

/** How many bytes `value` takes as a payload on its way to Temporal: compressed when big, and encrypted when there are keys. */
export function payloadBytes(value: unknown, keys: KeyRing | undefined): number {
  const payload = { metadata: { [METADATA_ENCODING]: utf8('json/plain') }, data: Buffer.from(JSON.stringify(value)) };
  return (keys ? new EncryptionCodec(keys) : new CompressionCodec()).encodeOne(payload).data!.length;
}
