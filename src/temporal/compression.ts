// Big payloads compressed on their way to Temporal when nothing encrypts them: a 1,000-agent
// plan is about 1 MB of JSON, half of Temporal's 2 MB blob limit, and it shrinks about
// twentyfold (its agents differ in a few fields). Small payloads stay plain JSON, so the Web UI
// and `temporal workflow show` read them without a codec server. With keys, EncryptionCodec
// compresses everything itself; this one then only decodes what was written before keys were on.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { deflateSync, inflateSync } from 'node:zlib';

export const COMPRESSED_ENCODING = 'binary/zlib';
/** Payloads above this are compressed: far below the 2 MB limit, above any status or event. */
export const COMPRESS_ABOVE_BYTES = 64 * 1024;

const utf8 = (s: string) => new TextEncoder().encode(s);
const isCompressed = (p: Payload) => !!p.metadata?.encoding && Buffer.from(p.metadata.encoding).toString() === COMPRESSED_ENCODING;

export class CompressionCodec implements PayloadCodec {
  /** @param compress false where another codec compresses (encryption): this one then only decodes */
  constructor(private readonly compress = true) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encodeOne(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) =>
      isCompressed(p) ? (temporal.api.common.v1.Payload.decode(inflateSync(p.data ?? new Uint8Array())) as Payload) : p,
    );
  }

  encodeOne(p: Payload): Payload {
    if (!this.compress || (p.data?.length ?? 0) <= COMPRESS_ABOVE_BYTES) return p;
    return { metadata: { encoding: utf8(COMPRESSED_ENCODING) }, data: deflateSync(temporal.api.common.v1.Payload.encode(p).finish()) };
  }
}
