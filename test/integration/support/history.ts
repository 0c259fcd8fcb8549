// A job's whole history as the secrets tests scan it: the raw bytes Temporal stores, and every
// payload in it decoded with the deployment's codec keys.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { readFileSync } from 'node:fs';
import { EncryptionCodec } from '../../../src/temporal/codec';
import { parseKeyFile } from '../../../src/temporal/codec-keys';

export interface ScannedHistory {
  /** the history as Temporal stores it (protobuf bytes, as latin1 text to search) */
  raw: string;
  /** every payload's data, decoded with the key file, one per line */
  decoded: string;
  events: temporal.api.history.v1.IHistoryEvent[];
}

/** `keyFile`: one file, or several whose keys together decode the history (workers with other keys). */
export async function historyOf(client: Client, job: string, keyFile: string | string[]): Promise<ScannedHistory> {
  const res = await client.connection.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: `a2a-job-${job}` },
    maximumPageSize: 1000,
  });
  const history = res.history!;
  const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
  const files = [keyFile].flat();
  const codec = new EncryptionCodec(parseKeyFile(files.join(', '), files.map((f) => readFileSync(f, 'utf8')).join('\n')));
  const decoded: string[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
    const o = v as Record<string, unknown>;
    if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
      decoded.push(Buffer.from(codec.decodeOne(o as Payload).data ?? []).toString('utf8'));
      return;
    }
    for (const x of Object.values(o)) (Array.isArray(x) ? x : [x]).forEach(walk);
  };
  walk(history);
  return { raw, decoded: decoded.join('\n'), events: history.events ?? [] };
}
