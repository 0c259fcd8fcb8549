// Reads a job file as YAML while keeping every node's position, and refuses hostile input
// (huge files, alias bombs, custom tags) before it can cost memory or time.
import { readFileSync, statSync } from 'node:fs';
import { Document, isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type YAMLMap } from 'yaml';
import type { Diagnostic } from './diagnostics';
import { interpolate, type Vars } from './interpolate';

export const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_ALIASES = 100;

export type Path = readonly (string | number)[];

export class YamlSource {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Line and column (1-based) of a character offset. */
  pos(offset: number): { line: number; col: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /**
   * Position of the node at `path` (or of its key, for complaints about the key itself).
   * A path that does not exist (a missing field) resolves to the deepest node that does.
   */
  locate(path: Path, at: 'value' | 'key' = 'value'): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = this.findPair(node, String(seg));
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        keyNode = undefined;
        node = node.items[seg];
      } else break;
    }
    const target = at === 'key' && keyNode ? keyNode : node;
    const range = isNode(target) && target.range ? target.range : undefined;
    return range ? this.pos(range[0]) : { line: 1, col: 1 };
  }

  /** The pair for `key` in a mapping, or in the mappings it merges (`<<: *base`), where the text is. */
  private findPair(map: YAMLMap, key: string, depth = 0): ReturnType<YAMLMap['items']['find']> {
    const own = map.items.find((p) => isScalar(p.key) && typeof p.key.value !== 'symbol' && String(p.key.value) === key);
    if (own || depth > 10) return own;
    for (const p of map.items) {
      // With merge on, the parser gives a merge key the value Symbol(<<); its source stays '<<'.
      if (!isScalar(p.key) || p.key.source !== '<<') continue;
      const sources = isSeq(p.value) ? p.value.items : [p.value];
      for (let src of sources) {
        if (isAlias(src)) src = src.resolve(this.doc);
        const found = isMap(src) ? this.findPair(src, key, depth + 1) : undefined;
        if (found) return found;
      }
    }
    return undefined;
  }

  diag(path: Path, message: string, hint?: string, at: 'value' | 'key' = 'value', severity: Diagnostic['severity'] = 'error'): Diagnostic {
    return { file: this.file, ...this.locate(path, at), severity, message, ...(hint ? { hint } : {}) };
  }
}

export interface ParsedYaml {
  source?: YamlSource;
  value?: unknown;
  diagnostics: Diagnostic[];
}

export interface ReadOptions {
  /** variables for ${NAME} in values; without them, values are taken as written */
  vars?: Vars;
}

export function readYamlFile(file: string, opts: ReadOptions = {}): ParsedYaml {
  const fail = (message: string, hint?: string): ParsedYaml => ({
    diagnostics: [{ file, line: 1, col: 1, severity: 'error', message, ...(hint ? { hint } : {}) }],
  });
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return fail('not a regular file', 'give the path of a job YAML file');
    if (st.size > MAX_FILE_BYTES) return fail(`file is ${st.size} bytes; job files are limited to ${MAX_FILE_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('no such file', 'check the path; job examples live in jobs/examples/');
    if (code === 'EACCES') return fail('permission denied reading the file');
    return fail(`cannot read the file: ${(err as Error).message}`);
  }
  return parseYamlText(file, text, opts);
}

export function parseYamlText(file: string, text: string, opts: ReadOptions = {}): ParsedYaml {
  if (text.length > MAX_FILE_BYTES) {
    return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', message: `document is larger than ${MAX_FILE_BYTES} bytes` }] };
  }
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, not a silent override.
  // merge: `<<: *base` copies a mapping's fields in, as Compose files do.
  const shielded = shieldBraces(text);
  const doc = parseDocument(shielded, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    schema: 'core',
    merge: true,
  });
  const source = new YamlSource(file, doc, lines);
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number | undefined) => (offset === undefined ? { line: 1, col: 1 } : source.pos(offset));
  for (const e of doc.errors) {
    diagnostics.push({ file, ...at(e.pos?.[0]), severity: 'error', message: `YAML: ${firstLine(e.message)}` });
  }
  if (diagnostics.length > 0) return { source, diagnostics };
  restoreBraces(doc, shielded !== text);

  // A job file needs no tags: an explicit tag (!!binary, !custom, ...) is refused rather
  // than guessed at, so no input can ask the parser to build anything unusual.
  let aliases = 0;
  visit(doc, {
    Node(_, node) {
      if (isPair(node)) return;
      // The parser sets `tag` only where the text wrote one.
      if ('tag' in node && typeof node.tag === 'string') {
        diagnostics.push({
          file,
          ...at(node.range?.[0]),
          severity: 'error',
          message: `YAML tag '${node.tag}' is not allowed in a job file`,
          hint: 'remove the tag; write plain values',
        });
      }
      if (isAlias(node)) aliases++;
    },
  });
  if (aliases > MAX_ALIASES) {
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', message: `too many YAML aliases (${aliases}; at most ${MAX_ALIASES})` });
  }
  if (diagnostics.length > 0) return { source, diagnostics };
  if (opts.vars) diagnostics.push(...interpolateDocument(source, text, opts.vars));
  if (diagnostics.length > 0) return { source, diagnostics };

  try {
    // maxAliasCount bounds the expansion of nested aliases ("billion laughs").
    const value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    return { source, value, diagnostics };
  } catch (err) {
    return {
      source,
      diagnostics: [
        {
          file,
          line: 1,
          col: 1,
          severity: 'error',
          message: `YAML: ${firstLine((err as Error).message)}`,
          hint: 'anchors and aliases may not expand into huge documents',
        },
      ],
    };
  }
}

/**
 * Replaces ${NAME} in every string value of the document, in place, so anchors, aliases and
 * merge keys see the result. Keys are left alone. A plain (unquoted) value that becomes a
 * number or a boolean is typed as YAML would have typed it (`port: ${PORT}`).
 */
function interpolateDocument(source: YamlSource, text: string, vars: Vars): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  visit(source.doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string') return;
      const result = interpolate(node.value, vars);
      if ('error' in result) {
        const [start, end] = node.range ?? [0, 0];
        // Found in the text as written; a value whose escapes hide it is located at its start.
        const at = text.slice(start, end).indexOf(result.error.token);
        diagnostics.push({
          file: source.file,
          ...source.pos(at >= 0 ? start + at : start),
          severity: 'error',
          message: result.error.message,
          ...(result.error.hint ? { hint: result.error.hint } : {}),
        });
        return;
      }
      if (!result.changed) return;
      node.value = node.type === Scalar.PLAIN ? retype(result.value) : result.value;
    },
  });
  return diagnostics;
}

/**
 * `${NAME}` in a flow collection (`{ port: ${P} }`) would end the collection at its `}`: before
 * parsing, the braces of each `${...}` become two private-use characters, one UTF-16 unit each
 * like the braces, so every line and column stays where it is; restoreBraces puts them back in
 * every scalar (values and keys alike) before anything reads the document. A `${...}` holding a
 * quote, '{' or '$' is left as written, and so is a text that holds those characters itself.
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
function shieldBraces(text: string): string {
  if (!text.includes('${') || text.includes(OPEN) || text.includes(CLOSE)) return text;
  return text.replace(/\$\{([^}\n"'{$]*)\}/g, (_, body: string) => `$${OPEN}${body}${CLOSE}`);
}
function restoreBraces(doc: Document, shielded: boolean): void {
  if (!shielded) return;
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && node.value.includes(OPEN)) node.value = node.value.replaceAll(OPEN, '{').replaceAll(CLOSE, '}');
    },
  });
}

function retype(s: string): string | number | boolean {
  if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (/^(true|True|TRUE|false|False|FALSE)$/.test(s)) return /^t/i.test(s);
  return s;
}

const firstLine = (s: string) => s.split('\n')[0];
