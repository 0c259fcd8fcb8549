// Reading the raw (not yet schema-checked) value of a job file: the cross-file rules run on it,
// so they report even when another part of the file does not match the schema.
import type { Path } from './yaml-source';

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function valueAt(raw: unknown, path: Path): unknown {
  let v: unknown = raw;
  for (const seg of path) {
    if (!isObj(v) && !Array.isArray(v)) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}
