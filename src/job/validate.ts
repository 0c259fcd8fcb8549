// Turns a job file into a typed job, reporting every problem at once, each located at the
// YAML node it is about. Schema problems come from zod; the rules that span several places
// (references, cycles, trees, ports) are checked on the raw value, so they are reported even
// when some other part of the file does not match the schema.
import { z } from 'zod';
import { didYouMean, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics';
import { JobFileSchema, type JobFile } from './schema';
import { crossChecks } from './cross-checks';
import { limitChecks } from './limit-checks';
import { resourceChecks } from './resource-checks';
import { isObj, valueAt } from './raw';
import { readYamlFile, parseYamlText, type ParsedYaml, type Path, type ReadOptions, type YamlSource } from './yaml-source';

export interface LoadedJob {
  file: string;
  job?: JobFile; // present when there is no error
  diagnostics: Diagnostic[];
}

/** `opts.vars`: the variables ${NAME} in values resolves against (see interpolate.ts). */
export function loadJobFile(file: string, opts: ReadOptions = {}): LoadedJob {
  return fromParsed(file, readYamlFile(file, opts));
}

export function loadJobText(file: string, text: string, opts: ReadOptions = {}): LoadedJob {
  return fromParsed(file, parseYamlText(file, text, opts));
}

/** Top-level `x-...` fields are extensions (anchors for merge keys, notes), ignored as in Compose files. */
function withoutExtensions(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')));
}

function fromParsed(file: string, parsed: ParsedYaml): LoadedJob {
  if (!parsed.source || parsed.diagnostics.length > 0) return { file, diagnostics: parsed.diagnostics };
  const src = parsed.source;
  if (!isObj(parsed.value)) {
    return {
      file,
      diagnostics: [src.diag([], 'a job file is a mapping with job, agents and topology', 'see jobs/examples/simple-weather.yaml')],
    };
  }
  const raw = withoutExtensions(parsed.value);
  const diagnostics: Diagnostic[] = [];
  const result = JobFileSchema.safeParse(raw);
  if (!result.success) diagnostics.push(...result.error.issues.flatMap((i) => schemaDiagnostics(src, raw, i)));
  diagnostics.push(...crossChecks(src, raw), ...limitChecks(src, raw), ...resourceChecks(src, raw));
  const sorted = sortDiagnostics(dedupe(diagnostics));
  return { file, diagnostics: sorted, job: result.success && !hasErrors(sorted) ? result.data : undefined };
}

// ---------------------------------------------------------------------------------------------
// Schema issues

type Issue = z.core.$ZodIssue;

function schemaDiagnostics(src: YamlSource, raw: unknown, issue: Issue): Diagnostic[] {
  const path = issue.path as Path;
  const field = String(path[path.length - 1] ?? 'document');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, raw);
      return issue.keys.map((k) =>
        src.diag(
          [...path, k],
          `unknown field '${k}'`,
          didYouMean(k, known) ?? (known.length ? `allowed here: ${known.join(', ')}` : undefined),
          'key',
        ),
      );
    }
    case 'invalid_type': {
      const value = valueAt(raw, path);
      if (value === undefined) {
        return [src.diag(path.slice(0, -1), `missing required field '${field}'`, hintForMissing(field), 'key')];
      }
      const custom = !issue.message.startsWith('Invalid input');
      return [src.diag(path, custom ? issue.message : `'${field}' must be ${article(issue.expected)}, not ${describe(value)}`)];
    }
    case 'invalid_union': {
      const value = valueAt(raw, path);
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
      if (value === undefined)
        return [src.diag(path.slice(0, -1), `missing required field '${field}'`, `one of: ${options.join(', ')}`, 'key')];
      return [
        src.diag(
          path,
          (issue.message.startsWith('Invalid input') ? `invalid value for '${field}'` : issue.message) + notValue(value),
          typeof value === 'string' ? didYouMean(value, options) : undefined,
        ),
      ];
    }
    case 'invalid_value': {
      const value = valueAt(raw, path);
      const values = issue.values.map(String);
      return [
        src.diag(
          path,
          (issue.message.startsWith('Invalid') ? `'${field}' must be one of: ${values.join(', ')}` : issue.message) + notValue(value),
          typeof value === 'string' ? didYouMean(value, values) : undefined,
        ),
      ];
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    default: {
      const message =
        issue.message.startsWith('Too small') && issue.code === 'too_small' && issue.origin === 'array'
          ? `'${field}' must list at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
          : issue.message.startsWith('Too small') && issue.code === 'too_small' && issue.origin === 'string'
            ? `'${field}' must not be empty`
            : issue.message;
      return [src.diag(path, message)];
    }
  }
}

/** What an enum (or union) got instead, so the message names it: " (got 'ring')". */
function notValue(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return ` (got ${v.length > 40 || !/^[\x20-\x7e]*$/.test(v) ? JSON.stringify(v.slice(0, 40)) : `'${v}'`})`;
  return ` (got ${describe(v)})`;
}

const HINTS: Record<string, string> = {
  job: 'start the file with a job: block holding at least name:',
  name: 'job names are lowercase letters, digits and -, e.g. name: simple-weather',
  agents: 'list the agents under agents:, each with id, module or command, config.port',
  topology: 'add a topology: with type hub-spoke, pipeline, dag, mesh or hierarchical',
  config: 'each agent needs config: with at least port:',
  port: 'give the port the agent listens on, e.g. port: 9001',
  id: 'each agent needs an id: lowercase letters, digits and -',
};
const hintForMissing = (field: string) => HINTS[field];

const article = (t: string) => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Field names the schema allows at `path` (for "did you mean"). */
function knownKeys(path: Path, raw: unknown): string[] {
  let schema: z.core.$ZodType = JobFileSchema;
  let value: unknown = raw;
  for (const seg of [...path, null]) {
    // Unwrap wrappers, and pick the union member by the discriminator in the data.
    for (;;) {
      const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
      if (def.innerType && ['optional', 'default', 'prefault', 'nullable'].includes(def.type)) schema = def.innerType as z.core.$ZodType;
      else if (def.type === 'union' && typeof def.discriminator === 'string') {
        const tag = isObj(value) ? value[def.discriminator] : undefined;
        const option = (def.options as z.core.$ZodType[]).find((o) => {
          const shape = (o._zod.def as unknown as { shape?: Record<string, z.core.$ZodType> }).shape;
          const lit = shape?.[def.discriminator as string]?._zod.def as unknown as { values?: unknown[] } | undefined;
          return lit?.values?.includes(tag);
        });
        if (!option) return [];
        schema = option;
      } else break;
    }
    const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (seg === null) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    if (def.type === 'object' && def.shape && typeof seg === 'string' && def.shape[seg]) schema = def.shape[seg];
    else if (def.type === 'array' && def.element) schema = def.element;
    else return [];
    value = isObj(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  return [];
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.line}:${d.col}:${d.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
